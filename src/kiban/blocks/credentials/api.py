"""Credentials over HTTP: the issuer's public documents, the status lists, and verification.

- ``/.well-known/jwt-vc-issuer``: the SD-JWT VC issuer metadata (its keys);
- ``/credentials/types/{name}``: each type's metadata (the ``vct`` URL);
- ``/credentials/status/{number}``: a Token Status List (``application/statuslist+jwt``);
- ``POST /api/v1/credentials/verify``: for integrators, a presentation's disclosed claims or
  the precise reason it is refused.

All public: they publish no personal data, and verification learns only what the holder
disclosed to that verifier.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from kiban.blocks import identity
from kiban.blocks.credentials import issuance, issuer, presentation, relying_parties, service
from kiban.blocks.credentials.errors import REASONS, PresentationRefused, UnknownCredentialType
from kiban.blocks.credentials.schemas import (
    OfferCreate,
    OfferRead,
    PresentationRequestCreate,
    PresentationResponseVerified,
    PresentationResponseVerify,
    PresentationVerified,
    PresentationVerify,
)
from kiban.blocks.credentials.types import TYPES, issuing_organisation
from kiban.blocks.credentials.verifier import verify_presentation
from kiban.platform.authority import Acting, Resource, authorize
from kiban.platform.webkit import DbSession, language_of, public

VERIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "The presentation is refused; `error.code` is one of "
        + ", ".join(f"`credentials.presentation.{r}`" for r in REASONS)
        + " (or the body is invalid, `error.field` names it)"
    }
}

router = APIRouter(tags=["credentials"], dependencies=[Depends(public)])


@router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata")
def jwt_vc_issuer() -> dict[str, Any]:
    """The issuer identifier and its public keys (JWKS), to verify kiban's credentials."""
    return issuer.jwt_vc_issuer_metadata()


@router.get(
    "/credentials/types/{name}",
    summary="Credential type metadata",
    responses={404: {"description": "`credentials.unknown_type`"}},
)
def type_metadata(name: str) -> dict[str, Any]:
    """The SD-JWT VC type metadata of a credential type (its ``vct`` URL)."""
    kind = TYPES.get(name)
    if kind is None:
        error = UnknownCredentialType(name)
        error.status = 404
        raise error
    return issuer.type_metadata(kind)


@router.get(
    "/credentials/status/{number}",
    summary="Token Status List",
    response_class=Response,
    responses={
        200: {"content": {"application/statuslist+jwt": {}}},
        404: {"description": "`credentials.status_list_not_found`"},
    },
)
def status_list(
    number: Annotated[int, Path(ge=0, le=2**31 - 1, description="The list's number")],
    session: DbSession,
) -> Response:
    """The status list as a signed JWT: one bit per credential (1 = revoked), ZLIB-compressed.
    Cache it for at most its ``ttl`` seconds, the publication interval."""
    token = service.status_list_token(session, number)
    return Response(
        token,
        media_type="application/statuslist+jwt",
        headers={"Cache-Control": f"public, max-age={service.PUBLICATION_TTL}"},
    )


@router.post(
    "/api/v1/credentials/verify",
    summary="Verify a presentation",
    responses=VERIFY_ERRORS,
)
def verify(body: PresentationVerify, session: DbSession) -> PresentationVerified:
    """Verify an SD-JWT VC presentation: the issuer's signature, ``vct``, validity, each
    disclosure against its digest, the KB-JWT (signed by the holder key, ``nonce``, ``aud``,
    ``sd_hash``, recent ``iat``) and the status list. Answers the disclosed claims, and only
    those; a refusal is a 422 whose code names the check that failed."""
    found = verify_presentation(
        session, body.presentation, nonce=body.nonce, audience=body.audience
    )
    return PresentationVerified(
        vct=found.vct,
        credential_type=found.credential_type,
        issuer=found.issuer,
        claims=found.claims,
        issued_at=found.issued_at,
        expires_at=found.expires_at,
        status=found.status,
    )


# --- OpenID4VCI 1.0 ---------------------------------------------------------------------------

_NO_STORE = {"Cache-Control": "no-store"}


def _oauth_error(error: identity.OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return JSONResponse(error.as_dict(), status_code=error.status, headers=headers)


@router.get("/.well-known/openid-credential-issuer", summary="Credential issuer metadata")
def credential_issuer_metadata() -> dict[str, Any]:
    """OpenID4VCI 1.0 credential issuer metadata: endpoints and each credential
    configuration (``dc+sd-jwt``, its ``vct``, JWT proofs with ES256, claims to display)."""
    return issuance.issuer_metadata()


@router.get(
    "/.well-known/oauth-authorization-server/credentials",
    summary="Authorization server metadata (pre-authorized codes)",
)
def authorization_server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata of the credential issuer's authorization server, which takes
    pre-authorized codes with a transaction code."""
    return issuance.authorization_server_metadata()


# OAuth's own error body (RFC 6749 §5.2), which wallets' libraries read, not kiban's shape.
OAUTH_ERROR_BODY: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        }
    }
}


@router.post(
    "/credentials/token",
    summary="Token endpoint (pre-authorized code)",
    responses={
        400: {
            "description": "OAuth `invalid_grant`, `invalid_request`, `unsupported_grant_type`",
            "content": OAUTH_ERROR_BODY,
        }
    },
)
def token(
    session: DbSession,
    grant_type: Annotated[str | None, Form()] = None,
    pre_authorized_code: Annotated[str | None, Form(alias="pre-authorized_code")] = None,
    tx_code: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Trade a pre-authorized code and its transaction code for an access token to the
    credential endpoint (single use). Five wrong transaction codes end the offer."""
    try:
        if grant_type != issuance.PRE_AUTHORIZED_GRANT:
            raise identity.OAuthError(
                "unsupported_grant_type", "only the pre-authorized code grant is supported"
            )
        answer = issuance.do_redeem_code(session, code=pre_authorized_code, tx_code=tx_code)
    except identity.OAuthError as error:
        # Answered, not raised: a counted wrong transaction code must be committed.
        return _oauth_error(error)
    return JSONResponse(answer, headers=_NO_STORE)


@router.post("/credentials/nonce", summary="Nonce endpoint")
def nonce() -> JSONResponse:
    """A fresh ``c_nonce`` for the JWT proof of possession (valid five minutes)."""
    return JSONResponse({"c_nonce": issuance.new_nonce()}, headers=_NO_STORE)


_CREDENTIAL_REQUEST = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["credential_configuration_id", "proofs"],
                "properties": {
                    "credential_configuration_id": {"type": "string", "example": "resident"},
                    "proofs": {
                        "type": "object",
                        "properties": {
                            "jwt": {"type": "array", "items": {"type": "string"}, "maxItems": 1}
                        },
                    },
                },
            }
        }
    },
}


@router.post(
    "/credentials/credential",
    summary="Credential endpoint",
    openapi_extra={"requestBody": _CREDENTIAL_REQUEST},
    responses={
        400: {
            "description": "OAuth `invalid_credential_request`, "
            "`unknown_credential_configuration`, `invalid_proof`, `invalid_nonce`",
            "content": OAUTH_ERROR_BODY,
        },
        401: {"description": "OAuth `invalid_token`", "content": OAUTH_ERROR_BODY},
    },
)
async def credential(
    request: Request,
    session: DbSession,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Issue the offered credential, bound to the key of the JWT proof
    (``{"credential_configuration_id", "proofs": {"jwt": [proof]}}``)."""
    token_value = None
    if authorization and authorization[:7].lower() == "bearer ":
        token_value = authorization[7:].strip()
    try:
        try:
            body: Any = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise identity.OAuthError("invalid_credential_request", "the body is not JSON") from exc
        answer = await run_in_threadpool(
            issuance.do_issue_by_request, session, access_token=token_value, request=body
        )
    except identity.OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers=_NO_STORE)


operator_router = APIRouter(tags=["credentials"])
"""Issuing authorities' routes: officials and service accounts of the person's municipality."""


@operator_router.post(
    "/api/v1/credentials/offers",
    summary="Offer a credential (pre-authorized code)",
    status_code=201,
    responses={
        401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
        403: {"description": "`staff.not_permitted`, `staff.other_organisation`"},
        404: {"description": "`residents.person_not_found`"},
        409: {"description": "`credentials.person_not_eligible`, `credentials.not_qualified`"},
        422: {"description": "`credentials.unknown_type`, or invalid input (`error.field`)"},
    },
)
def offer(body: OfferCreate, session: DbSession, actor: Acting) -> OfferRead:
    """Offer a credential to a person: the ``openid-credential-offer://`` link goes to their
    inbox and the six-digit transaction code comes back here, to be handed over separately.
    The issuing authority of a ``resident`` (or ``health-insurance``) credential is the
    municipality whose register holds the person, of a licence (``qualification-<code>``) the
    authority that registered it (厚生労働省, a prefecture): its officials or service accounts
    with ``credentials.offer``."""
    authorize(
        session,
        actor,
        "credentials.offer",
        organisation=issuing_organisation(session, body.person_id, body.credential_type),
        resource=Resource(person=body.person_id),
    )
    made = issuance.do_offer_credential(
        session, person_id=body.person_id, credential_type=body.credential_type, actor=actor.actor
    )
    return OfferRead(
        id=made.id,
        credential_offer=made.credential_offer,
        offer_uri=made.offer_uri,
        tx_code=made.tx_code,
        expires_at=made.expires_at,
    )


# --- OpenID4VP 1.0 for integrators --------------------------------------------------------------


@router.post(
    "/api/v1/credentials/presentation-requests",
    summary="Make an OpenID4VP request (DCQL)",
    status_code=201,
    responses={
        422: {
            "description": "`credentials.unknown_type`, `credentials.unknown_claim`, or "
            "invalid input"
        }
    },
)
def presentation_request(body: PresentationRequestCreate) -> dict[str, Any]:
    """An OpenID4VP 1.0 authorization request (``vp_token``, ``direct_post``) with a DCQL
    query for the claims asked and a fresh ``nonce`` and ``state``; keep it to check the
    answer."""
    return presentation.make_request(
        client_id=body.client_id,
        response_uri=body.response_uri,
        credential_type=body.credential_type,
        claims=body.claims,
    )


@router.post(
    "/api/v1/credentials/presentation-responses/verify",
    summary="Verify an OpenID4VP response",
    responses=VERIFY_ERRORS,
)
def presentation_response(
    body: PresentationResponseVerify, session: DbSession
) -> PresentationResponseVerified:
    """Check a ``vp_token`` against its request: each presentation verified with the request's
    nonce and ``client_id`` as audience, of an allowed ``vct``, disclosing every claim asked;
    answers only the claims asked for."""
    found = presentation.verify_response(session, body.request, body.vp_token)
    return PresentationResponseVerified(
        credentials={
            key: PresentationVerified(
                vct=value.vct,
                credential_type=value.credential_type,
                issuer=value.issuer,
                claims=value.claims,
                issued_at=value.issued_at,
                expires_at=value.expires_at,
                status=value.status,
            )
            for key, value in found.items()
        }
    )


# --- The verifier: stored requests served by reference, answered by direct_post ----------------


@router.get(
    "/credentials/requests/{handle}",
    summary="OpenID4VP request object (request_uri)",
    response_class=Response,
    responses={
        200: {"content": {"application/oauth-authz-req+jwt": {"schema": {"type": "string"}}}},
        404: {"description": "`credentials.presentation_request_not_found`"},
        409: {"description": "`credentials.presentation_request_closed`"},
    },
)
def request_object(
    session: DbSession, handle: Annotated[str, Path(min_length=8, max_length=64)]
) -> Response:
    """A relying party's stored request (DCQL, ``direct_post``, ``nonce``, ``state``, the
    registered relying party's name and purpose), an unsigned JWT for the ``redirect_uri:``
    client identifier prefix. Served until it is answered or expires."""
    return Response(
        relying_parties.request_object(session, handle),
        media_type=f"application/{relying_parties.REQUEST_TYP}",
        headers=_NO_STORE,
    )


@router.post(
    "/credentials/verifiers/{name}/response",
    summary="OpenID4VP direct_post response",
    responses=VERIFY_ERRORS,
)
def direct_post(
    request: Request,
    session: DbSession,
    name: Annotated[str, Path(min_length=2, max_length=64)],
    # A presentation is a few kilobytes; the bound keeps even a percent-encoded refusal of it
    # under the body limit (1 MiB), so that an over-long token is refused by name.
    vp_token: Annotated[str | None, Form(max_length=65_536)] = None,
    state: Annotated[str | None, Form(max_length=64)] = None,
    error: Annotated[str | None, Form(max_length=64)] = None,
) -> JSONResponse:
    """The wallet's answer (``vp_token`` as JSON text, ``state``; or ``error``, e.g.
    ``access_denied`` when the person declined) to a stored request of relying party
    ``name``: checked once; only the claims asked are kept for the relying party. A refusal is
    recorded (the request is used up) and answered with its reason."""
    try:
        outcome = relying_parties.do_answer_presentation_request(
            session, relying_party=name, state=state, vp_token=vp_token, error=error
        )
    except PresentationRefused as refused:
        # Answered, not raised: the refusal recorded on the request must be committed.
        return JSONResponse(
            {"error": refused.as_dict(language_of(request))},
            status_code=refused.status,
            headers=_NO_STORE,
        )
    return JSONResponse({"outcome": outcome.outcome}, headers=_NO_STORE)
