"""HTTP endpoints of the OpenID Connect provider that machines call, and the client registry.

- ``/.well-known/openid-configuration``, ``/oidc/jwks``: public metadata and keys.
- ``/oidc/token``, ``/oidc/userinfo``: public endpoints with OAuth's own client and bearer
  authentication; errors are ``{"error", "error_description"}`` as RFC 6749 §5.2 and RFC 6750
  §3 define them, not kiban's usual error body, because relying parties' libraries expect that.
- ``/oidc/sectors/{sector_identifier}``: an approved sector's document (OpenID Connect Core
  §8.1: the JSON array of its redirect URIs), public.
- ``/api/v1/identity/clients``, ``/api/v1/identity/sectors``: the relying-party registry and
  the approved sectors, for the operator.

The pages people see (authorize, sign-in with the card, consent) are in ``kiban.web.signin``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Header, Path, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer

from kiban.blocks.identity import oidc, oidc_clients, oidc_keys, oidc_tokens
from kiban.blocks.identity.oidc_errors import OAuthError
from kiban.blocks.identity.oidc_schemas import (
    ClientCreate,
    ClientCreated,
    ClientRead,
    SectorCreate,
    SectorRead,
    SectorUpdate,
    TokenResponse,
)
from kiban.platform import throttle
from kiban.platform.authority import NATIONAL, Acting, authorize
from kiban.platform.webkit import DbSession, DriverUnit, public

SectorIdentifier = Annotated[
    str, Path(max_length=253, description="A host name", examples=["shop.example"])
]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_OAUTH_ERROR_BODY: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
            },
        }
    }
}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "`{error, error_description}` (RFC 6749 §5.2)",
        "content": _OAUTH_ERROR_BODY,
    },
    401: {
        "description": "`invalid_client`: the client did not authenticate as it registered",
        "content": _OAUTH_ERROR_BODY,
        "headers": {
            "WWW-Authenticate": {
                "description": 'The client authentication scheme: `Basic realm="kiban"`',
                "schema": {"type": "string"},
            }
        },
    },
    429: {
        "description": "`invalid_client` with `Retry-After`: too many failed client "
        "authentications from this address",
        "content": _OAUTH_ERROR_BODY,
    },
}
USERINFO_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "`invalid_token` (RFC 6750 §3)",
        "content": _OAUTH_ERROR_BODY,
        "headers": {
            "WWW-Authenticate": {
                "description": 'The bearer scheme with the error: `Bearer error="invalid_token"`',
                "schema": {"type": "string"},
            }
        },
    },
}
# The access token of /oidc/userinfo, declared so that the OpenAPI document marks the route as
# bearer-protected. The route reads the header itself, to answer in RFC 6750's words.
_userinfo_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OidcAccessToken",
    description="An access token from kiban's token endpoint (`/oidc/token`).",
)

router = APIRouter(tags=["openid-connect"], dependencies=[Depends(public)])


@router.get("/.well-known/openid-configuration", summary="OpenID Provider metadata")
def openid_configuration() -> dict[str, Any]:
    """Discovery (OpenID Connect Discovery 1.0): endpoints, scopes, algorithms. The issuer is
    ``KIBAN_BASE_URL``."""
    return oidc.discovery()


@router.get("/oidc/jwks", summary="The provider's signing keys (JWKS)")
def jwks() -> JSONResponse:
    """The public keys ID tokens are signed with, one per algorithm (RS256 and ES256), each
    with ``kid`` (its RFC 7638 thumbprint) and ``alg``."""
    return JSONResponse(oidc_keys.jwks(), headers={"Cache-Control": "public, max-age=3600"})


@router.get(
    "/oidc/sectors/{sector_identifier}",
    summary="An approved sector's document (redirect URIs)",
    responses={404: {"description": "`identity.sector_not_found`"}},
)
def sector_document(sector_identifier: SectorIdentifier, session: DbSession) -> list[str]:
    """The JSON array of the redirect URIs that belong to the sector (OpenID Connect Core
    §8.1): the clients registered in it share one pairwise `sub`."""
    return oidc_clients.sector_document(session, sector_identifier)


def _oauth_error(error: OAuthError, *, challenge: str) -> JSONResponse:
    """An OAuth error body; a 401 names the scheme the caller must use (RFC 6749 §5.2 for
    the client at the token endpoint, RFC 6750 §3 for a bearer token)."""
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = challenge
    return JSONResponse(error.as_dict(), status_code=error.status, headers=headers)


def _basic_credentials(authorization: str) -> tuple[str, str]:
    """Client id and secret from ``Authorization: Basic`` (RFC 6749 §2.3.1: form-encoded)."""
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from error
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    "/oidc/token",
    summary="Token endpoint (authorization_code grant)",
    responses=TOKEN_ERRORS,
    response_model=TokenResponse,
)
def token(
    *,
    request: Request,
    session: DriverUnit,
    grant_type: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Exchange a code for an ID token (RS256, or ES256 if the client registered it) and an
    access token. PKCE (S256) is required; clients authenticate as they registered
    (``client_secret_basic``, ``client_secret_post``, or ``none`` for public clients). A client
    authentication failure is a 401 with ``WWW-Authenticate: Basic``; a caller whose client
    authentication failed 10 times is refused (429, ``Retry-After``) for a while, with back-off.
    """
    basic = bool(authorization and authorization[:6].lower() == "basic ")
    source = throttle.source_key(request)
    wait = throttle.CLIENT_AUTHENTICATION.retry_after(source)
    if wait:
        refused = _oauth_error(
            OAuthError("invalid_client", "too many failed attempts; retry later", status=429),
            challenge='Basic realm="kiban"',
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    secret: str | None
    try:
        if basic:
            if client_secret is not None:
                raise OAuthError("invalid_request", "use one client authentication method")
            basic_id, secret = _basic_credentials(authorization or "")
            if client_id is not None and client_id != basic_id:
                raise OAuthError("invalid_request", "client_id does not match the credentials")
            client_id, method = basic_id, "client_secret_basic"
        else:
            secret = client_secret
            method = "client_secret_post" if client_secret is not None else "none"
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
        issued = oidc_tokens.exchange_code(
            session,
            client_id=client_id,
            client_secret=secret,
            auth_method=method,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
    except OAuthError as error:
        if error.error == "invalid_client":
            throttle.CLIENT_AUTHENTICATION.failure(source)
        # Answered, not raised: what the failed exchange wrote (a burnt code, revoked tokens)
        # must be committed.
        return _oauth_error(error, challenge='Basic realm="kiban"')
    return JSONResponse(issued.model_dump(), headers=_NO_STORE)


def _bearer(authorization: str | None) -> str:
    if not authorization or authorization[:7].lower() != "bearer ":
        raise OAuthError("invalid_token", "a bearer access token is required", status=401)
    return authorization[7:].strip()


@router.get(
    "/oidc/userinfo",
    summary="Claims about the signed-in resident",
    responses=USERINFO_ERRORS,
    dependencies=[Depends(_userinfo_bearer)],
)
def userinfo_get(
    session: DbSession, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """The claims of the items the resident agreed to share with this client, and ``sub``.
    ``Authorization: Bearer <access token>``."""
    try:
        claims = oidc_tokens.userinfo(session, _bearer(authorization))
    except OAuthError as error:
        return _oauth_error(
            error,
            challenge=f'Bearer error="{error.error}", error_description="{error.description}"',
        )
    return JSONResponse(claims, headers=_NO_STORE)


@router.post(
    "/oidc/userinfo",
    summary="Claims about the signed-in resident (POST)",
    responses=USERINFO_ERRORS,
    dependencies=[Depends(_userinfo_bearer)],
)
def userinfo_post(
    session: DbSession, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """As ``GET /oidc/userinfo`` (OpenID Connect Core §5.3.1 allows both)."""
    return userinfo_get(session, authorization)


# --- Relying-party registry -------------------------------------------------------------------

REGISTRY_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
    403: {"description": "`staff.not_permitted`"},
    404: {"description": "Unknown client: `identity.client_not_found`"},
    409: {"description": "The client id is taken: `identity.client_exists`"},
    422: {"description": "Invalid registration: `identity.client_invalid`, `kiban.invalid`"},
}

clients_router = APIRouter(
    prefix="/api/v1/identity/clients", tags=["identity"], responses=REGISTRY_ERRORS
)


@clients_router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Register a relying party (OIDC client)"
)
def register_client(data: ClientCreate, session: DbSession, actor: Acting) -> ClientCreated:
    """A business registers a service with its purpose, the scopes it may ask for and its exact
    redirect URIs. The client secret is in this answer only; kiban keeps its hash."""
    authorize(session, actor, "identity.clients.manage", organisation=NATIONAL)
    return oidc_clients.do_register_client(session, data, actor=actor.actor)


@clients_router.get("", summary="List relying parties")
def list_clients(session: DbSession, actor: Acting) -> list[ClientRead]:
    """Every registered client, without secrets."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc_clients.list_clients(session)


@clients_router.get("/{client_id}", summary="Read a relying party")
def get_client(client_id: str, session: DbSession, actor: Acting) -> ClientRead:
    """One registered client, without its secret."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc_clients.get_client(session, client_id)


SECTOR_ERRORS: dict[int | str, dict[str, Any]] = {
    401: REGISTRY_ERRORS[401],
    403: REGISTRY_ERRORS[403],
    404: {"description": "Unknown sector: `identity.sector_not_found`"},
    409: {"description": "The sector is approved already: `identity.sector_exists`"},
    422: {
        "description": "Invalid input: `identity.sector_invalid` (a URI a client of the "
        "sector uses cannot be dropped), `kiban.invalid`"
    },
}

sectors_router = APIRouter(
    prefix="/api/v1/identity/sectors", tags=["identity"], responses=SECTOR_ERRORS
)


@sectors_router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Approve a sector (pairwise subjects)"
)
def approve_sector(data: SectorCreate, session: DbSession, actor: Acting) -> SectorRead:
    """After checking that one owner runs every listed redirect URI, the operator approves the
    sector: clients whose redirect URIs are all listed may then register with it and share one
    pairwise `sub`. kiban serves the list at `/oidc/sectors/{sector_identifier}`."""
    authorize(session, actor, "identity.clients.manage", organisation=NATIONAL)
    return oidc_clients.do_approve_sector(session, data, actor=actor.actor)


@sectors_router.get("", summary="List approved sectors")
def list_sectors(session: DbSession, actor: Acting) -> list[SectorRead]:
    """Every approved sector with its redirect URIs and clients."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc_clients.list_sectors(session)


@sectors_router.get("/{sector_identifier}", summary="Read an approved sector")
def get_sector(
    sector_identifier: SectorIdentifier, session: DbSession, actor: Acting
) -> SectorRead:
    """One approved sector."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc_clients.get_sector(session, sector_identifier)


@sectors_router.put("/{sector_identifier}", summary="Change an approved sector's redirect URIs")
def update_sector(
    sector_identifier: SectorIdentifier, data: SectorUpdate, session: DbSession, actor: Acting
) -> SectorRead:
    """Replace the owner's name and the list; a URI a registered client uses stays."""
    authorize(session, actor, "identity.clients.manage", organisation=NATIONAL)
    return oidc_clients.do_update_sector(session, sector_identifier, data, actor=actor.actor)
