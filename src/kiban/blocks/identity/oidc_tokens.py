"""The OpenID provider's token endpoint, access tokens and userinfo (the flow up to the code
is in :mod:`.oidc`, the keys in :mod:`.oidc_keys`).

``exchange_code`` authenticates the client, checks the code and the PKCE verifier, and issues
an ID token signed as the client registered (``id_token_signed_response_alg``: RS256 by
default, ES256 on request) and an opaque access token (stored hashed). ``userinfo`` returns
the claims of the consented items only. The token endpoint runs on driver statements
(:mod:`.oidc_sql`, ADR 0037): the client, the code and its request are read in one statement,
the code is claimed in a compare-and-set, the access token is one INSERT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.identity import business, oidc_keys, oidc_sql
from kiban.blocks.identity.oidc_clients import digest, issuer
from kiban.blocks.identity.oidc_errors import OAuthError
from kiban.blocks.identity.oidc_keys import pairwise_subject, sign_id_token
from kiban.blocks.identity.oidc_models import (
    OidcAccessToken,
    OidcAuthorization,
    OidcClient,
    OidcCode,
)
from kiban.blocks.identity.oidc_schemas import AccessTokenInfo, IdTokenAlg, Scope, TokenResponse
from kiban.blocks.identity.oidc_sql import ClientRow
from kiban.kernel import clock
from kiban.platform.statements import Executor

ACCESS_TOKEN_TTL: Final = timedelta(minutes=10)
ID_TOKEN_TTL: Final = timedelta(minutes=10)
ACR: Final = "urn:kiban:acr:card"
# RFC 8176: proof of possession of a software-secured key ("swk", the virtual card keeps its
# keys in a file) unlocked by a PIN. A reader for the physical card would report "hwk".
AMR: Final = ("swk", "pin")

_PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def valid_pkce_value(value: str) -> bool:
    """Whether ``value`` is a well-formed PKCE verifier or S256 challenge (RFC 7636 §4.1)."""
    return 43 <= len(value) <= 128 and set(value) <= _PKCE_CHARS


# --- Token endpoint -----------------------------------------------------------------------------


def _authenticated(client: ClientRow | None, client_secret: str | None, method: str) -> ClientRow:
    """The client making a token request, authenticated the way it registered."""
    if client is None:
        raise OAuthError("invalid_client", "unknown client", status=401)
    if client.auth_method != method:
        raise OAuthError(
            "invalid_client",
            f"this client authenticates with {client.auth_method}, not {method}",
            status=401,
        )
    if client.auth_method != "none" and (
        client.secret_hash is None
        or client_secret is None
        or not hmac.compare_digest(client.secret_hash, digest(client_secret))
    ):
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    return client


def _s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def exchange_code(
    session: Executor,
    *,
    client_id: str | None,
    client_secret: str | None,
    auth_method: str,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> TokenResponse:
    """The ``authorization_code`` grant (RFC 6749 §4.1.3, RFC 7636 §4.6).

    ``auth_method`` is how the request authenticated: ``client_secret_basic`` (Authorization
    header), ``client_secret_post`` (form fields) or ``none``. A code used twice revokes the
    tokens issued for it (RFC 6749 §4.1.2); the caller commits even when this raises.
    ``session`` is a session or, as the token endpoint runs it, a
    :func:`~kiban.platform.statements.driver_transaction` (every statement here is a driver
    statement).
    """
    # The client, the code and the code's authorization request in one statement; a code
    # hash is 64 hex digits, so an absent code ("") matches none.
    found = (
        oidc_sql.client_and_code(session, client_id, digest(code) if code else "")
        if client_id
        else None
    )
    client = _authenticated(found[0] if found else None, client_secret, auth_method)
    if not code or not redirect_uri:
        raise OAuthError("invalid_request", "code and redirect_uri are required")
    if not code_verifier:
        raise OAuthError("invalid_request", "PKCE is required: code_verifier is missing")
    if not valid_pkce_value(code_verifier):
        raise OAuthError("invalid_request", "code_verifier is not a valid PKCE verifier")
    row = found[1] if found else None
    if row is None or row.client_pk != client.id:
        raise OAuthError("invalid_grant", "unknown code")
    now = clock.now()
    # Compare-and-set, so that two concurrent redemptions cannot both succeed.
    if oidc_sql.CLAIM_CODE.run(session, code_id=row.id, now=now) != 1:
        oidc_sql.REVOKE_TOKENS.run(session, code_id=row.id, now=now)
        raise OAuthError("invalid_grant", "the code was already used")
    if now >= row.expires_at:
        raise OAuthError("invalid_grant", "the code has expired")
    if redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    if not hmac.compare_digest(_s256(code_verifier), row.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    access_token = secrets.token_urlsafe(32)
    oidc_sql.INSERT_TOKEN.run(
        session,
        id=uuid.uuid4(),
        token_hash=digest(access_token),
        code_id=row.id,
        client_pk=client.id,
        person_id=row.person_id,
        scopes=list(row.scopes),
        expires_at=now + ACCESS_TOKEN_TTL,
        revoked_at=None,
        created_at=now,
    )
    id_token = _id_token(
        client=client,
        person_id=row.person_id,
        nonce=row.nonce,
        auth_time=row.auth_time or now,
        access_token=access_token,
        now=now,
    )
    return TokenResponse(
        access_token=access_token,
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
        id_token=id_token,
        scope=" ".join(row.scopes),
    )


def _id_token(
    *,
    client: ClientRow,
    person_id: uuid.UUID,
    nonce: str | None,
    auth_time: datetime,
    access_token: str,
    now: datetime,
) -> str:
    """The ID token, signed with the algorithm the client registered (RS256 by default)."""
    alg = cast(IdTokenAlg, client.id_token_signed_response_alg)
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": pairwise_subject(client.sector_identifier, person_id),
        "aud": client.client_id,
        "exp": int((now + ID_TOKEN_TTL).timestamp()),
        "iat": int(now.timestamp()),
        "auth_time": int(auth_time.timestamp()),
        "acr": ACR,
        "amr": list(AMR),
        # OpenID Connect Core §3.3.2.11: the left half of the hash of the access token, with
        # the hash of the signing algorithm (SHA-256 for both RS256 and ES256).
        "at_hash": b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16]),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return sign_id_token(claims, alg)


def decode_id_token(token: str, *, audience: str) -> dict[str, Any]:
    """Verify an ID token this provider issued (signature, issuer, audience, expiry)."""
    return oidc_keys.decode_id_token(token, issuer=issuer(), audience=audience)


# --- Access tokens and userinfo -----------------------------------------------------------------


def _token_row(session: Session, token: str) -> OidcAccessToken:
    row = session.scalar(select(OidcAccessToken).where(OidcAccessToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None or clock.now() >= row.expires_at:
        raise OAuthError("invalid_token", "the access token is not valid", status=401)
    return row


def authenticate_access_token(session: Session, token: str) -> AccessTokenInfo:
    """Who an access token speaks for; ``invalid_token`` (401) when unknown, expired or revoked."""
    row = _token_row(session, token)
    client = session.get(OidcClient, row.client_pk)
    assert client is not None  # noqa: S101 - a foreign key guarantees it.
    return AccessTokenInfo(
        person_id=row.person_id,
        client_id=client.client_id,
        scopes=cast(list[Scope], list(row.scopes)),
        expires_at=row.expires_at,
    )


def _address_claim(address: residents.AddressRead) -> dict[str, str]:
    prefix = f"{address.pref_name}{address.municipality_name}"
    street = address.text[len(prefix) :] if address.text.startswith(prefix) else address.text
    return {
        "formatted": address.text,
        "street_address": street.strip(),
        "locality": address.municipality_name,
        "region": address.pref_name,
        "country": "JP",
    }


def userinfo(session: Session, token: str) -> dict[str, Any]:
    """The claims of the items the resident agreed to share (OpenID Connect Core §5.3)."""
    row = _token_row(session, token)
    client = session.get(OidcClient, row.client_pk)
    assert client is not None  # noqa: S101 - a foreign key guarantees it.
    scopes = set(row.scopes)
    claims: dict[str, Any] = {"sub": pairwise_subject(client.sector_identifier, row.person_id)}
    if scopes & {"name", "address", "birthdate", "gender"}:
        person = residents.get_person(session, row.person_id)
        if "name" in scopes:
            claims |= {
                "name": person.full_name,
                "family_name": person.family_name,
                "given_name": person.given_name,
                "name_kana": f"{person.family_name_kana}\u3000{person.given_name_kana}",
                "family_name_kana": person.family_name_kana,
                "given_name_kana": person.given_name_kana,
            }
        if "address" in scopes:
            claims["address"] = _address_claim(person.address)
        if "birthdate" in scopes:
            claims["birthdate"] = person.birth_date.isoformat()
        if "gender" in scopes:
            claims["gender"] = person.sex.value
    if "business" in scopes:
        accounts = business.business_claims(session, row.person_id)
        if accounts is not None:
            claims["business"] = accounts
    if "sign" in scopes:
        code = session.get(OidcCode, row.code_id)
        authorization = session.get(OidcAuthorization, code.authorization_id) if code else None
        if authorization is not None and authorization.signing_certificate_pem:
            claims["signing_certificate"] = authorization.signing_certificate_pem
    return claims
