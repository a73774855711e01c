"""Web assembly: ``create_app`` builds the FastAPI application (portal, office, public API)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError

import kiban
from kiban.blocks import staff
from kiban.blocks.address.api import router as address_api
from kiban.blocks.benefits.api import router as benefits_api
from kiban.blocks.corporations.api import router as corporations_api
from kiban.blocks.credentials.api import operator_router as credentials_offers_api
from kiban.blocks.credentials.api import router as credentials_api
from kiban.blocks.identity.api import router as identity_pki_api
from kiban.blocks.identity.business_api import router as identity_business_api
from kiban.blocks.identity.oidc_api import clients_router as identity_clients_api
from kiban.blocks.identity.oidc_api import router as identity_oidc_api
from kiban.blocks.identity.oidc_api import sectors_router as identity_sectors_api
from kiban.blocks.mesh import Checkpointer, DeliveryRetrier, stop_record_writers
from kiban.blocks.mesh.api import GatewayMiddleware
from kiban.blocks.mesh.api import router as mesh_api
from kiban.blocks.mesh.consent_api import router as mesh_consent_api
from kiban.blocks.mesh.records_api import router as mesh_records_api
from kiban.blocks.notifications.api import router as notifications_api
from kiban.blocks.payments.api import banks_router as payments_banks_api
from kiban.blocks.payments.api import router as payments_api
from kiban.blocks.procedures.api import router as procedures_api
from kiban.blocks.residents.api import router as residents_api
from kiban.blocks.staff.api import router as staff_api
from kiban.life_events import birth, certificates, death, moving
from kiban.platform import authority, events
from kiban.platform.body_limit import BodySizeLimitMiddleware
from kiban.platform.db import dispose_engines, get_engine
from kiban.platform.security import OriginCheckMiddleware, SecurityHeadersMiddleware
from kiban.platform.settings import get_settings
from kiban.platform.throttle import LockoutAuditMiddleware
from kiban.platform.webkit import (
    LanguageCookieMiddleware,
    MethodsMiddleware,
    document_errors,
    install_error_handlers,
    refuse_unknown_query,
)
from kiban.web import docs, pages, refpay, signin, verifiers
from kiban.web.office import benefits as office_benefits
from kiban.web.office import death as office_death
from kiban.web.office import factors as office_factors
from kiban.web.office import fees as office_fees
from kiban.web.office import home as office
from kiban.web.office import payments as office_payments
from kiban.web.office import procedures as office_procedures
from kiban.web.office import qualifications as office_qualifications
from kiban.web.office import residents as office_residents
from kiban.web.office import session as office_session
from kiban.web.office import staff as office_staff
from kiban.web.portal import benefits as portal_benefits
from kiban.web.portal import business
from kiban.web.portal import consents as portal_consents
from kiban.web.portal import death as portal_death
from kiban.web.portal import fees as portal_fees
from kiban.web.portal import inbox as portal_inbox
from kiban.web.portal import payments as portal_payments
from kiban.web.portal import procedures as portal_procedures
from kiban.web.portal import records as portal_records
from kiban.web.portal import session as portal
from kiban.web.templating import STATIC_DIR

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Kiban (基盤) is Japan's national–local common digital infrastructure as one system: base
registries, identity, the public service mesh, online procedures and the life-event services
built from them.

Errors always have the shape `{"error": {"code", "message", "field"}}`; `code` is stable and
`message` follows the request's language (`?lang=`, the `kiban_lang` cookie, `Accept-Language`;
Japanese by default). Operator and office endpoints take a service account's API key
(`Authorization: Bearer kiban_sk_…`) or an official's office session, and answer 403
(`staff.not_permitted`, `staff.other_organisation`, `staff.separation_of_duties`) when the
policy refuses. The shared `KIBAN_OPERATOR_TOKEN` only bootstraps the first administrator
(`POST /api/v1/staff/bootstrap`, or `kiban staff bootstrap`).
"""


SIGN_IN_SCHEME = {
    "type": "oauth2",
    "description": "Sign-in with the My Number card through kiban's OpenID Connect provider "
    "(see /.well-known/openid-configuration); My page endpoints take the access token of the "
    "portal's client.",
    "flows": {
        "authorizationCode": {
            "authorizationUrl": "/oidc/authorize",
            "tokenUrl": "/oidc/token",
            "scopes": {scope: scope for scope in ("openid", "name", "address", "birthdate")},
        }
    },
}


def routers() -> list[APIRouter]:
    """Every router the application serves, in order. A new block API is added here."""
    return [
        pages.router,  # The landing page and /health.
        docs.router,  # /docs, Swagger UI from the installed package.
        office_session.router,  # Office sign-in with the card, choosing the role (HTML).
        office_factors.router,  # Office: second factors, signing in without a card reader.
        office.router,  # Office home (HTML).
        office_residents.router,  # Office: residents and certificates (HTML).
        office_staff.router,  # Office: managing staff, keys and emergency access (HTML).
        office_procedures.router,  # Office: task queue and applications (HTML).
        office_benefits.router,  # Office: benefit programmes, preview, runs (HTML).
        office_qualifications.router,  # Office: the qualifications registry (HTML).
        office_payments.router,  # Office: payment batches, approvals, files, follow-up (HTML).
        office_death.router,  # Office: a death's procedures for the bereaved and the heirs (HTML).
        office_fees.router,  # Office: fees paid for the office's procedures, refunds (HTML).
        # Block APIs: kiban.blocks.<block>.api.router.
        residents_api,
        staff_api,  # Staff: bootstrap (operator token, once) and accounts.
        identity_pki_api,  # Card PKI: CA certificates, CRLs, OCSP (public).
        identity_oidc_api,  # OpenID Connect: discovery, JWKS, token, userinfo (public).
        signin.router,  # Sign-in with the card and consent (HTML).
        portal.router,  # The citizen portal (HTML, resident session).
        business.router,  # Business accounts in the portal (HTML, resident session).
        portal_inbox.router,  # The portal's inbox (HTML, resident session).
        portal_records.router,  # Who used my data (HTML, resident session).
        portal_consents.router,  # Consent to companies (HTML, resident session).
        portal_benefits.router,  # Benefits: decline or correct (HTML, resident session).
        portal_payments.router,  # Receiving account and my payments (HTML, resident session).
        portal_procedures.router,  # Procedures, the moving wizard, timelines (HTML).
        portal_fees.router,  # Paying a procedure's fee, and the provider's return (HTML).
        refpay.router,  # The reference payment provider's hosted page (public, HTML).
        portal_death.router,  # The death notice and the bereaved's page (HTML, resident session).
        identity_clients_api,  # Relying-party registry (operator).
        identity_sectors_api,  # Approved sectors for pairwise subjects (operator).
        corporations_api,  # Corporate registry (operator).
        identity_business_api,  # Business accounts (OpenID Connect access token).
        address_api,  # Address normalization (public).
        mesh_records_api,  # A person's access records (My page access token).
        mesh_api,  # Mesh gateway /r1 (signed requests), directory (public), metrics (operator).
        mesh_consent_api,  # Consent for companies (My page access token; JWKS public).
        notifications_api,  # The inbox (My page access token).
        procedures_api,  # Registration: services, applications (My page), tasks (operator).
        credentials_api,  # SD-JWT VC and OpenID4VCI metadata, status lists, verify (public).
        credentials_offers_api,  # Credential offers (operator).
        verifiers.router,  # The reference verifiers: a shop and a hospital (public HTML).
        benefits_api,  # Benefit programmes, previews and runs (operator officials).
        payments_banks_api,  # The Zengin bank and branch list (public).
        payments_api,  # Payment batches, approval, Zengin file, reconciliation (operator).
    ]


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Start-up: register every event subscriber, then deliver what a crash left behind (the
    in-process dispatcher; with NATS, ``kiban events work`` does it). Shutdown: close pools."""
    events.load_subscribers()
    if not get_settings().events_url:
        try:
            await run_in_threadpool(events.deliver_pending, get_engine())
        except SQLAlchemyError:
            # Serve anyway: /health reports the database, and delivery resumes with the next
            # commit or `kiban events work`.
            logger.exception("could not deliver pending events at start-up")
    # Access records are checkpointed every 10 seconds while the server runs.
    checkpointer = Checkpointer(get_engine()).start()
    # Failed subscription deliveries are retried with back-off while the server runs.
    retrier = DeliveryRetrier(get_engine()).start()
    yield
    retrier.stop()
    checkpointer.stop()
    stop_record_writers()
    dispose_engines()


def create_app() -> FastAPI:
    """The kiban web application."""
    app = FastAPI(
        lifespan=lifespan,
        title="Kiban API",
        description=DESCRIPTION,
        version=kiban.__version__,
        openapi_url="/openapi.json",
        docs_url=None,  # kiban.web.docs serves /docs without a CDN.
        redoc_url=None,
        # An API operation refuses query parameters it does not declare (see webkit).
        dependencies=[Depends(refuse_unknown_query)],
    )
    install_error_handlers(app)
    # Every operator and office API asks the one policy function about the principal behind
    # the request (a service account's key or an official's office session).
    authority.install(resolver=office_session.resolve_principal, policy=staff.authorize)
    # Life events register their procedures (definitions are data) and notice templates.
    moving.register()
    birth.register()
    death.register()
    certificates.register()
    app.add_middleware(LanguageCookieMiddleware)
    # OPTIONS lists every method of a path (405 answers too, see webkit).
    app.add_middleware(MethodsMiddleware)
    # One body-size limit for every route (the gateway below keeps its own for /r1).
    app.add_middleware(BodySizeLimitMiddleware)
    # The mesh gateway's /r1 requests are answered before routing (see GatewayMiddleware).
    app.add_middleware(GatewayMiddleware)
    # Outermost, so that they cover every answer (the gateway's and the errors' too): cross-site
    # unsafe requests with a kiban cookie are refused, security headers are set, and the
    # throttles' lockouts are written to the audit log after the response.
    app.add_middleware(OriginCheckMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LockoutAuditMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    docs.mount_assets(app)
    for router in routers():
        app.include_router(router)
    document_errors(app, {"KibanSignIn": SIGN_IN_SCHEME})
    return app
