"""HTTP endpoints of the OpenID Connect provider that machines call, and the client registry.

- ``/.well-known/openid-configuration``, ``/oidc/jwks``: public metadata and keys.
- ``/oidc/token``, ``/oidc/userinfo``: public endpoints with OAuth's own client and bearer
  authentication; errors are ``{"error", "error_description"}`` as RFC 6749 §5.2 and RFC 6750
  §3 define them, not kiban's usual error body, because relying parties' libraries expect that.
- ``/api/v1/identity/clients``: the relying-party registry, for the operator.

The pages people see (authorize, sign-in with the card, consent) are in ``kiban.web.signin``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Header, Request, status
from fastapi.responses import JSONResponse

from kiban.blocks.identity import oidc
from kiban.blocks.identity.oidc_errors import OAuthError
from kiban.blocks.identity.oidc_schemas import (
    ClientCreate,
    ClientCreated,
    ClientRead,
    TokenResponse,
)
from kiban.platform import throttle
from kiban.platform.authority import NATIONAL, Acting, authorize
from kiban.platform.webkit import DbSession, public

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "`{error, error_description}` (RFC 6749 §5.2)"},
    401: {"description": "`invalid_client` or `invalid_token`, with `WWW-Authenticate`"},
}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    **OAUTH_ERRORS,
    429: {
        "description": "`invalid_client` with `Retry-After`: too many failed client "
        "authentications from this address"
    },
}

router = APIRouter(tags=["openid-connect"], dependencies=[Depends(public)])


@router.get("/.well-known/openid-configuration", summary="OpenID Provider metadata")
def openid_configuration() -> dict[str, Any]:
    """Discovery (OpenID Connect Discovery 1.0): endpoints, scopes, algorithms. The issuer is
    ``KIBAN_BASE_URL``."""
    return oidc.discovery()


@router.get("/oidc/jwks", summary="The provider's signing keys (JWKS)")
def jwks() -> JSONResponse:
    """The ES256 public key ID tokens are signed with; ``kid`` is its RFC 7638 thumbprint."""
    return JSONResponse(oidc.jwks(), headers={"Cache-Control": "public, max-age=3600"})


def _oauth_error(error: OAuthError, *, basic: bool = False) -> JSONResponse:
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="kiban"' if basic else "Bearer"
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
    session: DbSession,
    grant_type: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Exchange a code for an ID token (ES256) and an access token. PKCE (S256) is required;
    clients authenticate as they registered (``client_secret_basic``, ``client_secret_post``,
    or ``none`` for public clients). A caller whose client authentication failed 10 times is
    refused (429, ``Retry-After``) for a while, with back-off."""
    basic = bool(authorization and authorization[:6].lower() == "basic ")
    source = throttle.source_key(request)
    wait = throttle.CLIENT_AUTHENTICATION.retry_after(source)
    if wait:
        refused = _oauth_error(
            OAuthError("invalid_client", "too many failed attempts; retry later", status=429)
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
        issued = oidc.exchange_code(
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
        return _oauth_error(error, basic=basic)
    return JSONResponse(issued.model_dump(), headers=_NO_STORE)


def _bearer(authorization: str | None) -> str:
    if not authorization or authorization[:7].lower() != "bearer ":
        raise OAuthError("invalid_token", "a bearer access token is required", status=401)
    return authorization[7:].strip()


@router.get("/oidc/userinfo", summary="Claims about the signed-in resident", responses=OAUTH_ERRORS)
def userinfo_get(
    session: DbSession, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """The claims of the items the resident agreed to share with this client, and ``sub``."""
    try:
        claims = oidc.userinfo(session, _bearer(authorization))
    except OAuthError as error:
        response = _oauth_error(error)
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="{error.error}", error_description="{error.description}"'
        )
        return response
    return JSONResponse(claims, headers=_NO_STORE)


@router.post("/oidc/userinfo", summary="Claims about the signed-in resident (POST)")
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
    return oidc.do_register_client(session, data, actor=actor.actor)


@clients_router.get("", summary="List relying parties")
def list_clients(session: DbSession, actor: Acting) -> list[ClientRead]:
    """Every registered client, without secrets."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc.list_clients(session)


@clients_router.get("/{client_id}", summary="Read a relying party")
def get_client(client_id: str, session: DbSession, actor: Acting) -> ClientRead:
    """One registered client, without its secret."""
    authorize(session, actor, "identity.clients.read", organisation=NATIONAL)
    return oidc.get_client(session, client_id)
