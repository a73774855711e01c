"""The route inventory: every route of ``create_app()`` with its authentication, whether a
cookie authenticates it and it changes state, and its CSRF rule. It fails when a
cookie-authenticated unsafe route has no CSRF check.

The inventory is a table of :class:`RouteInfo` rows built by :func:`inventory`; each column is
one classifying function in :data:`COLUMNS` (add a column there and a test below that reads
it). ``pytest -s -k printed`` prints the table.

Audit: every route declares in :data:`AUDIT` (keyed ``METHOD /path/{template}``, as
``kiban.platform.webkit.template_of`` writes it) what it leaves in the audit trail, one of or
a combination of:

- ``tags("source:subject:action", ...)``: the audit entries its action writes (``*`` stands for
  a part the action names at run time, e.g. ``procedures:application:*``; a trailing ``?``
  marks an entry written only in some cases, e.g. a new head of household);
- ``READ``: it shows someone's personal data to an official or operator and records one read
  record per person shown (``residents.access_*``; checked by ``tests/web/test_read_records.py``);
- ``MESH``: an exchange through the mesh, kept in the mesh's own records;
- ``none("why")``: it neither changes state nor shows anyone's personal data to someone else
  (discovery documents, static pages, a caller's own data), with the reason.

A route missing from :data:`AUDIT` fails ``test_every_route_declares_its_audit``. The
declarations are checked by behaviour in ``tests/web/test_route_audit.py``: every office action
(unsafe route of an official or a service account) is called and must write exactly the
declared tags, each entry naming the official, organisation, role and session.

CSRF rules:

- ``session-token``: the form carries the session's token (:func:`kiban.platform.sessions.
  csrf_token`): the route depends on a registered CSRF dependency
  (``sessions.CSRF_DEPENDENCIES``) or its handler calls ``check_csrf``. For the portal this is
  also checked by behaviour below: every such route, posted with a live session but no token,
  answers 403 ``kiban.csrf_failed``.
- ``flow-secret``: the sign-in pages' forms are bound to an unguessable per-sign-in id in the
  URL *and* the browser's ``kiban_signin`` cookie; a page elsewhere knows neither. The office's
  sign-in without a card reader (ADR 0019) is bound the same way to its ``kiban_office_factor``
  cookie: the TOTP form carries the same value (double submit), and the WebAuthn calls are
  ``application/json`` (no other site may send them without a CORS preflight) answering a
  single-use challenge bound to that cookie.
- ``signature``: the card reader's answer to a signing request is authenticated by the card's
  signature over one application's exact version (or one business application kept in the
  session, named by its random nonce), which only the applicant's card can make; the cookie
  only picks the page to show after it.
- ``origin-only``: only the platform's Origin/``Sec-Fetch-Site`` check (every unsafe request
  with a kiban cookie goes through it). Allowed only for the routes in :data:`ORIGIN_ONLY`,
  the office's, which the ``staff`` engineer moves to ``session-token`` with the new office
  sessions (issue 14).
- ``n/a``: not cookie-authenticated (bearer tokens, public endpoints) or not unsafe.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiban.platform import sessions
from kiban.platform.authority import require_principal
from kiban.platform.security import SAFE_METHODS
from kiban.platform.webkit import AUTH_DEPENDENCIES, template_of
from kiban.web import create_app
from kiban.web.office.session import require_official
from kiban.web.portal.session import require_resident
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie

COOKIE_AUTH_DEPENDENCIES: set[Callable[..., Any]] = {
    require_resident,
    require_official,
    require_principal,  # An official's office session also authenticates the operator APIs.
}
"""Auth dependencies that read a browser's session cookie (directly or through another)."""

COOKIE_READERS = re.compile(
    r"\b(request\.cookies|browser_binding|resident_session|office_session|"
    r"start_office_session|end_office_session|set_session_cookie|clear_session_cookie|"
    r"_flow_of)\b"
)
"""What a public route's handler calls when a cookie drives it."""

FLOW_SECRET = {
    "POST /oidc/signin/{request_id}/cancel",
    "POST /oidc/consent/{request_id}",
    "POST /office/login/totp",
    "POST /office/login/webauthn",
    "POST /office/login/webauthn/options",
}
SIGNED_ANSWERS = {
    "POST /portal/applications/{application_id}/signed",
    "POST /portal/business/prime/callback",
}
ORIGIN_ONLY: set[str] = set()
"""Empty since the office's server-side sessions (issue 14) gave every office form the
session's token; the list may only shrink."""
# FastAPI's own pages and the static files: no auth dependency, read-only.
FRAMEWORK_ROUTES = {"openapi", "swagger_ui_html", "swagger_ui_redirect", "static"}


@dataclass(frozen=True)
class Audit:
    """A route's audit behaviour (see the module's docstring); build it with :func:`tags`,
    :data:`READ`, :data:`MESH` or :func:`none`, and combine with ``+``."""

    tags: tuple[str, ...] = ()
    read_record: bool = False
    mesh_record: bool = False
    none: str = ""

    def __add__(self, other: Audit) -> Audit:
        return Audit(
            tags=self.tags + other.tags,
            read_record=self.read_record or other.read_record,
            mesh_record=self.mesh_record or other.mesh_record,
            none=self.none or other.none,
        )

    def problems(self) -> list[str]:
        """What is wrong with the declaration itself."""
        found = []
        records = bool(self.tags) or self.read_record or self.mesh_record
        if records == bool(self.none):
            found.append("declare what it records, or none() with a reason (not both)")
        found += [f"not a tag pattern: {tag!r}" for tag in self.tags if not _TAG.match(tag)]
        return found

    def __str__(self) -> str:
        parts = list(self.tags)
        parts += ["read-record"] * self.read_record + ["mesh-record"] * self.mesh_record
        return " + ".join(parts) if parts else f"none ({self.none})"


_TAG = re.compile(r"^[a-z0-9_.*-]+:[a-z0-9_.*-]+:[a-z0-9_.*-]+\??$")
READ = Audit(read_record=True)
MESH = Audit(mesh_record=True)


def tags(*names: str) -> Audit:
    """The audit entries a route's action writes."""
    return Audit(tags=names)


def none(reason: str) -> Audit:
    """Nothing to audit, and why."""
    return Audit(none=reason)


DISCOVERY = none("public document: no state, no personal data")
PAGE = none("a page or a redirect: no state, no one else's data")
OWN_DATA = none("the caller's own data, read by themselves")
VERIFY = none("a computation over the request: nothing is kept")
SESSION_START = tags("platform:session:start")
SESSION_END = tags("platform:session:revoke")
APPLICATION = tags("procedures:application:*")
BUSINESS = "identity:business_account:"
HEAD_CHANGE = "residents:person:head_change?"  # When the head of a household leaves it.
# A procedure's first start sets up the mesh members and grants it exchanges through.
FIRST_USE_MESH = "mesh:*:*?"
R1 = "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}/{service_code}"
RESIDENT = "/api/v1/residents/{person_id}"
TASK = "/api/v1/registration/tasks/{application_id}"
OFFICE_APP = "/office/applications/{application_id}"
MEMBER = "/portal/business/{corporate_number}/members/{account_id}"
API_MEMBER = "/api/v1/business/corporations/{corporate_number}/members/{account_id}"
SECTOR = "/api/v1/identity/sectors"
PORTAL_APP = "/portal/applications/{application_id}"
FEE_CHECK = tags("payments:fee:paid?", "payments:fee:failed?")
MY_APP = "/api/v1/registration/applications/{application_id}"
CONSENT = "/api/v1/mesh/consents/{consent_id}"
BATCH = "/api/v1/payments/{payer}/batches/{number}"
OFFICE_BATCH = "/office/payments/{payer}/batches/{number}"
STAFF = "/office/staff/{account_id}"
# Signing in without the card: a sign-in or a refusal, and the session once it opens.
SIGN_IN = tags("staff:office:sign_in?", "staff:office:sign_in_failed?", "platform:session:start?")

AUDIT: dict[str, Audit] = {
    # FastAPI's own pages, the static files, health and discovery.
    "GET,HEAD /openapi.json": DISCOVERY,
    "GET /static": DISCOVERY,
    "GET /docs/assets": DISCOVERY,
    "GET /docs": DISCOVERY,
    "GET /health": none("liveness: no state, no personal data"),
    "GET /": PAGE,
    "GET /pki/ca/{name}.pem": DISCOVERY,
    "GET /pki/ca/{name}.crt": DISCOVERY,
    "GET /pki/crl/{kind}.crl": DISCOVERY,
    "POST /pki/ocsp/{kind}": none("certificate status: public by design (RFC 6960)"),
    "GET /pki/ocsp/{kind}/{request_b64}": none("certificate status: public by design (RFC 6960)"),
    "GET /.well-known/openid-configuration": DISCOVERY,
    "GET /oidc/jwks": DISCOVERY,
    "GET /oidc/sectors/{sector_identifier}": DISCOVERY,
    "GET /.well-known/jwt-vc-issuer": DISCOVERY,
    "GET /credentials/types/{name}": DISCOVERY,
    "GET /credentials/status/{number}": DISCOVERY,
    "GET /.well-known/openid-credential-issuer": DISCOVERY,
    "GET /.well-known/oauth-authorization-server/credentials": DISCOVERY,
    "GET /api/v1/mesh/directory/listClients": DISCOVERY,
    "GET /api/v1/mesh/directory/listMethods": DISCOVERY,
    "GET /api/v1/mesh/directory/allowedMethods": DISCOVERY,
    "GET /api/v1/mesh/directory/getOpenAPI": DISCOVERY,
    "GET /api/v1/mesh/consent/jwks": DISCOVERY,
    "GET /api/v1/registration/services": DISCOVERY,
    "GET /api/v1/registration/services/{code}": DISCOVERY,
    "GET /api/v1/address/normalize": VERIFY,
    "POST /api/v1/address/normalize": VERIFY,
    "POST /api/v1/credentials/verify": VERIFY,
    "POST /api/v1/credentials/presentation-requests": VERIFY,
    "POST /api/v1/credentials/presentation-responses/verify": VERIFY,
    # The office: sign-in, the organisation and role, the pages and the forms.
    "GET /office/login": PAGE,
    "GET /office/login/start": PAGE,
    "GET /office/callback": tags("staff:office:sign_in", "staff:office:sign_in_failed")
    + SESSION_START,
    "GET /office/choose": PAGE,
    "POST /office/choose": tags("staff:office:role_chosen"),
    "POST /office/logout": SESSION_END,
    "GET /office": none("the office home: counts, no one's personal data"),
    "GET /office/residents": READ,
    "GET /office/residents/{person_id}/certificate": READ + tags("residents:certificate:issued"),
    "GET /office/tasks": READ,
    "GET /office/procedures": none("counts per procedure, no one's personal data"),
    f"GET {OFFICE_APP}": READ,
    f"POST {OFFICE_APP}/claim": tags("procedures:application:claim"),
    f"POST {OFFICE_APP}/release": tags("procedures:application:release"),
    # The first post asks first, naming whom the action touches in the register (recorded).
    f"POST {OFFICE_APP}/act": READ + tags("procedures:application:*"),
    # Managing staff: the organisation's accounts are work data; adding an official or an
    # emergency access reads the register (recorded) and writes the account's own entries.
    "GET /office/staff": none("officials' and service accounts: work data, no resident's record"),
    "POST /office/staff/services": tags("staff:account:created", "staff:account:granted"),
    "GET /office/staff/new": PAGE,
    "POST /office/staff/new/search": READ + tags("staff:office:register_searched"),
    "POST /office/staff/new": READ + tags("staff:account:created?", "staff:account:granted"),
    "GET /office/staff/emergency": READ,
    "POST /office/staff/emergency": READ
    + tags("staff:break_glass:granted", "notifications:notice:sent"),
    f"GET {STAFF}": none("an account's roles, keys and history: work data"),
    f"POST {STAFF}/grant": tags("staff:account:granted"),
    f"POST {STAFF}/revoke": tags("staff:account:revoked"),
    # Suspending or closing ends the account's office sessions (a close also its roles, keys).
    f"POST {STAFF}/status": tags("staff:account:*", "platform:session:revoke?"),
    f"POST {STAFF}/keys": tags("staff:account:key_created"),
    f"POST {STAFF}/keys/{{key_id}}/revoke": tags("staff:account:key_revoked"),
    # The death at the office: the family shown is recorded as read; a correction is an action.
    # Fees (政府共通決済): amounts, methods and application references, no one's identity.
    "GET /office/fees": none("the office's fees: amounts and references, no identity"),
    "POST /office/fees/{fee_id}/refund": tags("payments:fee:refunded", "notifications:notice:sent"),
    # The qualifications registry (ADR 0031): holders' names are reads of the register; a
    # registration or change writes its own entry (the first post only asks: READ).
    "GET /office/qualifications": READ,
    "POST /office/qualifications/search": READ + tags("qualifications:register:searched"),
    "GET /office/qualifications/new": PAGE,
    "POST /office/qualifications/new": READ + tags("qualifications:holder:registered"),
    "GET /office/qualifications/{holder_id}": READ,
    "POST /office/qualifications/{holder_id}/act": READ + tags("qualifications:holder:*"),
    "GET /office/deaths/{application_id}": READ,
    "POST /office/deaths/{application_id}/family": READ
    + tags("procedures:application:correct_family", "procedures:application:effect"),
    # Officials' second factors (ADR 0019): each official enrols and uses their own.
    "GET /office/factors": OWN_DATA,
    "POST /office/factors/webauthn/options": tags("staff:factor:webauthn_started"),
    "POST /office/factors/webauthn": tags(
        "staff:factor:webauthn_added", "staff:factor:webauthn_refused?"
    ),
    "POST /office/factors/webauthn/{credential_id}/remove": tags("staff:factor:webauthn_removed"),
    "POST /office/factors/totp": tags("staff:factor:totp_started"),
    "POST /office/factors/totp/confirm": tags("staff:factor:totp_confirmed"),
    "POST /office/factors/totp/remove": tags("staff:factor:totp_removed"),
    "POST /office/factors/step-up/options": tags("staff:office:step_up_started"),
    "POST /office/factors/step-up": tags("staff:office:step_up", "staff:office:step_up_failed?"),
    # Signing in without a card reader: one of the two entries, and the session when it opens.
    "GET /office/login/factor": PAGE,
    "POST /office/login/webauthn/options": none(
        "a single-use challenge bound to the sign-in: nothing about anyone"
    ),
    "POST /office/login/webauthn": SIGN_IN,
    "POST /office/login/totp": SIGN_IN,
    # Benefits (the operator's programmes and runs) and payments (the payer's batches).
    "GET /office/benefits": none("programmes, runs' counts, an anonymous preview: no identity"),
    "GET /office/payments": none("batches' totals and states: no one's identity"),
    "POST /office/payments/{payer}/batches": tags("payments:batch:built"),
    # A batch's payees (names, accounts, the bank's answers) are recorded as read.
    f"GET {OFFICE_BATCH}": READ,
    f"POST {OFFICE_BATCH}/approvals": tags("payments:batch:approved"),
    f"POST {OFFICE_BATCH}/transfer-file": tags(
        "payments:batch:file_issued", "payments:batch:exported?"
    ),
    # A returned line tells its person in the inbox.
    f"POST {OFFICE_BATCH}/result": tags(
        "payments:batch:result_imported", "notifications:notice:sent?"
    ),
    "GET /office/payments/{payer}/failures": READ,
    # The register's API.
    "GET /api/v1/residents": READ,
    "POST /api/v1/residents": tags("residents:person:registered"),
    "POST /api/v1/residents/births": tags("residents:person:birth"),
    f"GET {RESIDENT}": READ,
    f"GET {RESIDENT}/history": READ,
    f"GET {RESIDENT}/certificate": READ + tags("residents:certificate:issued"),
    f"POST {RESIDENT}/move-out": tags("residents:person:move_out", HEAD_CHANGE),
    f"POST {RESIDENT}/move-in": tags("residents:person:move_in"),
    f"POST {RESIDENT}/move-within": tags("residents:person:move_within", HEAD_CHANGE),
    # A death stops the deceased's benefits and holds what they were owed (ADR 0033), when any.
    f"POST {RESIDENT}/death": tags(
        "residents:person:death",
        HEAD_CHANGE,
        "benefits:determination:stopped_by_death?",
        "payments:obligation:held?",
    ),
    f"POST {RESIDENT}/name": tags("residents:person:name_change"),
    # Staff, relying parties, corporations, the mesh's metrics.
    "POST /api/v1/staff/bootstrap": tags("staff:account:*"),
    "GET /api/v1/staff/accounts": none("officials' accounts: work data, not a resident's record"),
    "POST /api/v1/staff/accounts/{account_id}/memberships": tags("staff:account:granted"),
    "POST /api/v1/staff/accounts/{account_id}/memberships/revoke": tags("staff:account:revoked"),
    "POST /api/v1/identity/clients": tags("identity:oidc_client:registered"),
    "GET /api/v1/identity/clients": none("relying parties: registry data, no personal data"),
    "GET /api/v1/identity/clients/{client_id}": none("a relying party: no personal data"),
    f"POST {SECTOR}": tags("identity:oidc_sector:approved"),
    f"GET {SECTOR}": none("sectors: registry data, no personal data"),
    f"GET {SECTOR}/{{sector_identifier}}": none("a sector: registry data, no personal data"),
    f"PUT {SECTOR}/{{sector_identifier}}": tags("identity:oidc_sector:updated"),
    "POST /api/v1/corporations": tags("corporations:corporation:registered"),
    "GET /api/v1/corporations": none("the corporate register is public (法人番号公表)"),
    "GET /api/v1/corporations/{corporate_number}": none("the corporate register is public"),
    "GET /api/v1/mesh/metrics": none("counts of exchanges, no personal data"),
    "GET /api/v1/benefits/programmes": none("programme definitions: no personal data"),
    "GET /api/v1/benefits/programmes/{code}/preview": none(
        "counts and an anonymous sample (household size, ages, amounts): no one's identity"
    ),
    # A first run of a period starts it; each new recipient is notified; once the opt-out
    # window is over the obligations go to payments. An income-tested programme asks the tax
    # office through the mesh (and sets up its member on first use).
    "POST /api/v1/benefits/programmes/{code}/runs": tags(
        "benefits:run:started?",
        "notifications:notice:sent?",
        "payments:obligation:added?",
        "benefits:run:settled?",
        FIRST_USE_MESH,
    )
    + MESH,
    "GET /api/v1/benefits/runs": none("runs with their counts: no personal data"),
    "POST /api/v1/benefits/determinations/{determination_id}/resolution": tags(
        "benefits:determination:resolved"
    ),
    "GET /api/v1/payments/banks": DISCOVERY,
    "GET /api/v1/payments/banks/{bank_code}/branches": DISCOVERY,
    "GET /api/v1/payments/{payer}/batches": none("totals and officials: no resident's data"),
    # Payees' ids, amounts and bank codes are shown to the payer's officials with no record of
    # the read: payments keeps no read records (reported to the coordinator). The transfer
    # file (holders' names and account numbers) is audited at each hand-out.
    f"GET {BATCH}": none("payees and amounts for the payer's payment work: not recorded yet"),
    f"POST {BATCH}/approvals": tags("payments:batch:approved"),
    f"GET {BATCH}/transfer-file": tags("payments:batch:file_issued"),
    f"GET {BATCH}/reconciliation": none("counts and sums to the yen: no one's identity"),
    "POST /api/v1/credentials/offers": tags(
        "credentials:offer:created", "notifications:notice:sent"
    ),
    # Procedures for officials and residents.
    "GET /api/v1/registration/services/{code}/prefill-report": none("counts, no personal data"),
    "GET /api/v1/registration/tasks": READ,
    f"GET {TASK}": READ,
    f"POST {TASK}/claim": tags("procedures:application:claim"),
    f"POST {TASK}/release": tags("procedures:application:release"),
    f"POST {TASK}/complete": tags("procedures:application:*"),
    "POST /api/v1/registration/applications": tags("procedures:application:start", FIRST_USE_MESH),
    "GET /api/v1/registration/applications": OWN_DATA,
    f"GET {MY_APP}": OWN_DATA,
    f"PATCH {MY_APP}": tags("procedures:application:save"),
    f"GET {MY_APP}/submission": OWN_DATA,
    f"POST {MY_APP}/submit": APPLICATION,
    f"POST {MY_APP}/actions": APPLICATION,
    # kiban's OpenID provider.
    "POST /oidc/token": none("redeems a code whose consent is audited (identity:oidc_consent)"),
    "GET /oidc/userinfo": none("the person's claims, released by their audited consent"),
    "POST /oidc/userinfo": none("the person's claims, released by their audited consent"),
    "GET /oidc/authorize": PAGE,
    "POST /oidc/authorize": PAGE,
    "GET /oidc/signin/{request_id}": PAGE,
    "POST /oidc/signin/{request_id}/cancel": none("ends a sign-in that never started a session"),
    "GET /oidc/card-callback": PAGE,
    "GET /oidc/consent/{request_id}": PAGE,
    "POST /oidc/consent/{request_id}": tags("identity:oidc_consent:given"),
    # The portal.
    "GET /portal/login": PAGE,
    "GET /portal/callback": SESSION_START,
    "GET /portal/": OWN_DATA,
    "POST /portal/logout": SESSION_END,
    "POST /portal/sessions/revoke": SESSION_END,
    "GET /portal/business": OWN_DATA,
    "POST /portal/business/prime": none(
        "keeps the application to sign in the session; applies nothing"
    ),
    "GET /portal/business/prime/callback": PAGE,
    "POST /portal/business/prime/callback": tags(f"{BUSINESS}prime_created"),
    "POST /portal/business/redeem": tags(f"{BUSINESS}member_activated"),
    "POST /portal/business/{corporate_number}/members": tags(f"{BUSINESS}member_invited"),
    f"POST {MEMBER}/remove": tags(f"{BUSINESS}member_removed"),
    f"POST {MEMBER}/delegations": tags(f"{BUSINESS}delegated"),
    f"POST {MEMBER}/delegations/{{procedure_code}}/revoke": tags(f"{BUSINESS}delegation_revoked"),
    "GET /portal/inbox": OWN_DATA,
    "GET /portal/inbox/{notice_id}": OWN_DATA,
    "POST /portal/inbox/{notice_id}/read": tags("notifications:notice:read"),
    "GET /portal/records": OWN_DATA,
    "GET /portal/records/officials": OWN_DATA,
    "GET /portal/consents": OWN_DATA,
    "POST /portal/consents": tags("mesh:consent:granted"),
    "POST /portal/consents/{consent_id}/{action}": tags("mesh:consent:*"),
    # A death: the filer's household, the notice prefilled from the physician's certificate
    # through the mesh; the bereaved read their own notice's list and heirs.
    "GET /portal/death": OWN_DATA,
    "POST /portal/death/start": tags(
        "procedures:application:start",
        "procedures:application:identify",
        "procedures:application:effect",
        "procedures:application:save",
        FIRST_USE_MESH,
    )
    + MESH,
    "GET /portal/okuyami/{application_id}": none("the bereaved's own notice (filer or household)"),
    "POST /portal/okuyami/{application_id}/chart": none(
        "the heirs chart of the bereaved's own notice, made on request: nothing is kept"
    ),
    "GET /portal/benefits": OWN_DATA,
    "POST /portal/benefits/{determination_id}/decline": tags(
        "benefits:determination:declined", "notifications:notice:sent"
    ),
    "POST /portal/benefits/{determination_id}/correction": tags(
        "benefits:determination:correction_requested"
    ),
    "GET /portal/payments": OWN_DATA,
    "GET /portal/payments/account": OWN_DATA,
    # The bank confirms the account through the mesh (the member is set up on first use).
    "POST /portal/payments/account": tags("payments:account:registered", FIRST_USE_MESH) + MESH,
    "GET /portal/procedures": OWN_DATA,
    "GET /portal/procedures/{code}": OWN_DATA,
    "POST /portal/procedures/{code}/start": tags("procedures:application:start", FIRST_USE_MESH),
    f"GET {PORTAL_APP}": FEE_CHECK,
    f"POST {PORTAL_APP}/save": tags("procedures:application:save"),
    # Pages of an application with a fee ask the provider about open payments (the return is
    # never trusted) and book what it says, once.
    f"GET {PORTAL_APP}/review": FEE_CHECK,
    f"POST {PORTAL_APP}/pay": tags("payments:fee:started") + FEE_CHECK,
    f"GET {PORTAL_APP}/paid": FEE_CHECK,
    # The reference payment provider's hosted page keeps its state in its own files.
    "GET /refpay/{payment_id}": none("the payment provider's page: no kiban state"),
    "POST /refpay/{payment_id}": none("the payment provider's own state, not kiban's"),
    f"GET {PORTAL_APP}/signed": PAGE,
    f"POST {PORTAL_APP}/signed": APPLICATION,
    f"GET {PORTAL_APP}/receipt": OWN_DATA,
    f"GET {PORTAL_APP}/receipt.pdf": OWN_DATA,
    f"POST {PORTAL_APP}/reserve": APPLICATION,
    f"POST {PORTAL_APP}/withdraw": APPLICATION,
    # My page APIs of the person, and of business accounts.
    "POST /api/v1/business/prime": tags(f"{BUSINESS}prime_created"),
    "GET /api/v1/business/accounts": OWN_DATA,
    "POST /api/v1/business/invitations/redeem": tags(f"{BUSINESS}member_activated"),
    "GET /api/v1/business/corporations/{corporate_number}/accounts": OWN_DATA,
    f"DELETE {API_MEMBER}": tags(f"{BUSINESS}member_removed"),
    f"POST {API_MEMBER}/delegations": tags(f"{BUSINESS}delegated"),
    f"DELETE {API_MEMBER}/delegations/{{procedure_code}}": tags(f"{BUSINESS}delegation_revoked"),
    "GET /api/v1/mesh/my-records": OWN_DATA,
    "GET /api/v1/mesh/consents": OWN_DATA,
    "POST /api/v1/mesh/consents": tags("mesh:consent:granted"),
    f"GET {CONSENT}": OWN_DATA,
    f"POST {CONSENT}/pause": tags("mesh:consent:paused"),
    f"POST {CONSENT}/resume": tags("mesh:consent:resumed"),
    f"POST {CONSENT}/revoke": tags("mesh:consent:revoked"),
    "GET /api/v1/notifications/inbox": OWN_DATA,
    "GET /api/v1/notifications/inbox/{notice_id}": OWN_DATA,
    "POST /api/v1/notifications/inbox/{notice_id}/read": tags("notifications:notice:read"),
    # OpenID for Verifiable Credential Issuance.
    "POST /credentials/token": none("redeems an offer whose creation is audited"),
    "POST /credentials/nonce": none("a fresh nonce: nothing about anyone"),
    "POST /credentials/credential": tags("credentials:credential:issued"),
    # OpenID4VP: a stored request served by reference, answered once by direct_post (public:
    # the wallet has no kiban session; the request's unguessable state binds the answer).
    "GET /credentials/requests/{handle}": none("a relying party's request: no personal data"),
    "POST /credentials/verifiers/{name}/response": tags(
        "credentials:presentation:verified?", "credentials:presentation:refused?"
    ),
    # The reference verifiers' pages (public, no cookie): starting a check registers the
    # verifier (the first time) and stores a request; a check's page shows only what the
    # request asked for, to whoever holds its unguessable address.
    "GET /verifiers/": PAGE,
    "GET /verifiers/{name}": PAGE,
    "POST /verifiers/{name}/checks": tags(
        "credentials:relying_party:registered?", "credentials:presentation_request:created"
    ),
    "GET /verifiers/{name}/checks/{handle}": none(
        "the verifier's own check: the claims it asked for, shown on its own page"
    ),
    # The security server: every exchange is kept in the mesh's records.
    **{f"{method} {R1}": MESH for method in ("GET", "POST", "PUT", "PATCH", "DELETE")},
    **{f"{method} {R1}/{{path}}": MESH for method in ("GET", "POST", "PUT", "PATCH", "DELETE")},
}
"""Every route's audit behaviour (see the module's docstring). A new route adds one line."""


def audit_key(row: RouteInfo) -> str:
    """The key of ``row`` in :data:`AUDIT`: its methods and its path template."""
    return f"{','.join(row.methods)} {template_of(row.path)}"


@dataclass
class RouteInfo:
    """One row of the inventory."""

    methods: tuple[str, ...]
    path: str
    endpoint: Callable[..., Any] | None
    dependencies: list[Callable[..., Any]]
    columns: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{','.join(self.methods)} {self.path}"

    def __getitem__(self, column: str) -> Any:
        return self.columns[column]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__name__", repr(function))


def _source(function: Callable[..., Any] | None) -> str:
    if function is None:
        return ""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


# --- Columns: each takes the row (and the rows' columns so far) ---------------------------


def auth_column(row: RouteInfo) -> str:
    """The auth dependency (the first registered one the route depends on)."""
    found = [_name(call) for call in row.dependencies if call in AUTH_DEPENDENCIES]
    return found[0] if found else "framework"


def unsafe_column(row: RouteInfo) -> bool:
    """Whether the route changes state by its method."""
    return any(method not in SAFE_METHODS for method in row.methods)


def cookie_column(row: RouteInfo) -> bool:
    """Whether a browser's cookie authenticates (or drives) the route."""
    if COOKIE_AUTH_DEPENDENCIES.intersection(row.dependencies):
        return True
    return bool(COOKIE_READERS.search(_source(row.endpoint)))


def csrf_column(row: RouteInfo) -> str | None:
    """The CSRF rule of a cookie-authenticated unsafe route (None: it has none)."""
    if not (row["cookie"] and row["unsafe"]):
        return "n/a"
    if sessions.CSRF_DEPENDENCIES.intersection(row.dependencies):
        return "session-token"
    if "check_csrf(" in _source(row.endpoint):
        return "session-token"
    for rule, keys in (
        ("flow-secret", FLOW_SECRET),
        ("signature", SIGNED_ANSWERS),
        ("origin-only", ORIGIN_ONLY),
    ):
        if row.key in keys:
            return rule
    return None


def audit_column(row: RouteInfo) -> Audit | None:
    """The route's declared audit behaviour (None: it declares none)."""
    return AUDIT.get(audit_key(row))


COLUMNS: dict[str, Callable[[RouteInfo], Any]] = {
    "auth": auth_column,
    "unsafe": unsafe_column,
    "cookie": cookie_column,
    "csrf": csrf_column,
    "audit": audit_column,
}
"""The inventory's columns, computed in this order (a later column may read earlier ones)."""


def inventory(app: FastAPI) -> list[RouteInfo]:
    """Every route the application serves, classified by :data:`COLUMNS`."""
    rows = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, APIRoute):
            row = RouteInfo(
                methods=tuple(sorted(route.methods or ())),
                path=route.path,
                endpoint=original.endpoint,
                dependencies=list(_calls(route.dependant)),
            )
        else:
            row = RouteInfo(
                methods=tuple(sorted(getattr(original, "methods", None) or ("GET",))),
                path=route.path,
                endpoint=None,
                dependencies=[],
            )
        for name, column in COLUMNS.items():
            row.columns[name] = column(row)
        rows.append(row)
    return rows


def render(rows: list[RouteInfo]) -> str:
    """The inventory as a Markdown table."""
    names = list(COLUMNS)
    lines = [
        "| route | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines += [
        f"| `{row.key}` | " + " | ".join(str(row[name]) for name in names) + " |" for row in rows
    ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def rows() -> list[RouteInfo]:
    return inventory(create_app())


# --- The rules ----------------------------------------------------------------------------


def test_every_cookie_authenticated_unsafe_route_has_a_csrf_rule(rows: list[RouteInfo]) -> None:
    missing = [row.key for row in rows if row["csrf"] is None]
    assert missing == [], f"cookie-authenticated unsafe routes without CSRF protection: {missing}"


def test_the_portal_and_business_forms_use_the_session_token(rows: list[RouteInfo]) -> None:
    portal = [
        row
        for row in rows
        if row.path.startswith("/portal/") and row["unsafe"] and row.key not in SIGNED_ANSWERS
    ]
    assert portal, "no portal forms found"
    assert {row.key: row["csrf"] for row in portal} == {row.key: "session-token" for row in portal}
    assert any(row.path.startswith("/portal/business/") for row in portal)


def test_origin_only_routes_are_the_listed_office_routes(rows: list[RouteInfo]) -> None:
    origin_only = sorted(row.key for row in rows if row["csrf"] == "origin-only")
    # A route that gains a token leaves the list; the list may only shrink.
    assert set(origin_only) <= ORIGIN_ONLY
    assert all(key.split(" ")[1].startswith("/office/") for key in origin_only)


def test_framework_routes_are_the_only_ones_without_auth(rows: list[RouteInfo]) -> None:
    unguarded = [row.key for row in rows if row["auth"] == "framework"]
    assert all(row.endpoint is None or row["auth"] != "framework" for row in rows), unguarded


def test_the_classifier_catches_a_new_unprotected_form() -> None:
    app = create_app()

    @app.post("/portal/forgotten")
    def forgotten(resident: Any = None) -> None: ...

    from fastapi import Depends  # noqa: PLC0415 - only this test builds routes.

    @app.post("/portal/forgotten-too", dependencies=[Depends(require_resident)])
    def forgotten_too() -> None: ...

    keys = [row.key for row in inventory(app) if row["csrf"] is None]
    assert keys == ["POST /portal/forgotten-too"]


def test_every_route_declares_its_audit(rows: list[RouteInfo]) -> None:
    missing = [audit_key(row) for row in rows if row["audit"] is None]
    assert missing == [], f"routes without an entry in AUDIT: {missing}"
    stale = sorted(AUDIT.keys() - {audit_key(row) for row in rows})
    assert stale == [], f"entries in AUDIT for routes that are gone: {stale}"
    wrong = {audit_key(row): row["audit"].problems() for row in rows if row["audit"].problems()}
    assert wrong == {}


def test_office_actions_are_audited_and_reads_of_the_register_recorded(
    rows: list[RouteInfo],
) -> None:
    principal = {"require_principal", "require_official"}
    # An official's or a service account's action always leaves an audit entry.
    silent = [
        audit_key(row)
        for row in rows
        if row["unsafe"] and row["auth"] in principal and not row["audit"].tags
    ]
    assert silent == []
    # The register's routes say the same here as in the read records' own walk.
    from tests.web import test_read_records  # noqa: PLC0415 - a sibling test module.

    register = {
        audit_key(row): row["audit"].read_record
        for row in rows
        if row.path.startswith(test_read_records.PREFIXES)
    }
    assert register == {key: kind == "read" for key, kind in test_read_records.AUDIT.items()}
    # Nobody but an official or operator has read records; they see only their own data.
    assert all(row["auth"] in principal for row in rows if row["audit"].read_record)


def test_the_classifier_catches_a_new_route_without_an_audit_declaration() -> None:
    app = create_app()

    @app.get("/health/forgotten")
    def forgotten() -> None: ...

    keys = [audit_key(row) for row in inventory(app) if row["audit"] is None]
    assert keys == ["GET /health/forgotten"]


def test_inventory_printed(rows: list[RouteInfo]) -> None:
    table = render(rows)
    assert (
        "| `POST /portal/logout` | public | True | True | session-token | platform:session:revoke |"
        in table
    )
    print("\n" + table)  # noqa: T201 - the inventory is meant to be read (pytest -s).


# --- Behaviour: every portal form refuses a post without the session's token ----------------


def _concrete(path: str) -> str:
    """A path with its parameters filled in by well-formed values."""
    values = {
        "corporate_number": "7000012050002",
        "procedure_code": "subsidy.it_introduction",
        "code": "moving.move_out",
    }

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), str(uuid.UUID(int=1)))

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


def test_every_portal_form_refuses_a_post_without_the_token(
    rows: list[RouteInfo], database_url: str, session: Session
) -> None:
    person = register(session)
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(RESIDENT_COOKIE, resident_cookie(None, person.id))
        assert client.get("/portal/").status_code == 200
        for row in rows:
            if not (row.path.startswith("/portal/") and row["unsafe"]):
                continue
            if row.key in SIGNED_ANSWERS:  # No token: the card's signature is the proof.
                continue
            for method in row.methods:
                if method in SAFE_METHODS:
                    continue
                answer = client.request(method, _concrete(row.path), data={"version": "1"})
                assert answer.status_code == 403, (row.key, answer.status_code, answer.text)
                if answer.headers["content-type"].startswith("application/json"):
                    assert answer.json()["error"]["code"] == "kiban.csrf_failed", row.key
                else:  # A page that shows the error above its form.
                    assert "別のページから送られました" in answer.text, row.key
