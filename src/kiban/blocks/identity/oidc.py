"""The OpenID Connect provider: card sign-in, consent, codes and tokens. The relying-party
registry and the approved sectors are in :mod:`.oidc_clients`, the keys in :mod:`.oidc_keys`.

The flow (authorization code with PKCE S256, nothing else):

1. ``start_authorization`` checks a request from ``/oidc/authorize`` against the client's
   registration and records it, bound to the browser that made it.
2. ``begin_card_sign_in`` gives the sign-in page a fresh challenge for the card reader: 256
   random bits, valid five minutes, consumed by the first answer.
3. ``complete_card_sign_in`` checks the card's signature over the challenge with the
   authentication certificate (chain, validity, revocation: the card PKI's
   ``verify_signature``), and with the signing certificate too when ``sign`` was asked for.
4. ``decide_consent`` records what the resident agreed to share and issues a code (one minute,
   single use, bound to client, redirect URI, PKCE challenge and nonce) — or ``access_denied``.
5. ``exchange_code`` authenticates the client, checks the code and the PKCE verifier, and
   issues an ID token signed as the client registered (``id_token_signed_response_alg``:
   RS256 by default, ES256 on request; keys in :mod:`.oidc_keys`) and an opaque access token
   (stored hashed).
6. ``userinfo`` returns the claims of the consented items only.

Subjects are pairwise: HMAC-SHA-256 of the client's verified sector identifier and the person
id under a key that lives in the key store, so each relying party (sector) sees its own stable
``sub`` and none can link a person across sectors. Scopes kiban does not know are ignored. No
token or claim ever holds the individual number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.identity import business, oidc_keys
from kiban.blocks.identity import service as card_service
from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.oidc_clients import digest, find_client, issuer
from kiban.blocks.identity.oidc_errors import (
    AuthorizeError,
    CardMismatch,
    OAuthError,
    SignInExpired,
    SignInNotFound,
)
from kiban.blocks.identity.oidc_keys import (
    ID_TOKEN_ALGS,
    pairwise_subject,
    sign_id_token,
)
from kiban.blocks.identity.oidc_models import (
    OidcAccessToken,
    OidcAuthorization,
    OidcClient,
    OidcCode,
    OidcConsent,
)
from kiban.blocks.identity.oidc_schemas import (
    SCOPES,
    AccessTokenInfo,
    ConsentRequest,
    IdTokenAlg,
    Scope,
    SignInRequest,
    TokenResponse,
)
from kiban.kernel import clock
from kiban.platform import audit
from kiban.platform.settings import get_settings

AUTHORIZATION_TTL: Final = timedelta(minutes=10)
CHALLENGE_TTL: Final = timedelta(minutes=5)
CODE_TTL: Final = timedelta(seconds=60)
ACCESS_TOKEN_TTL: Final = timedelta(minutes=10)
ID_TOKEN_TTL: Final = timedelta(minutes=10)
ACR: Final = "urn:kiban:acr:card"
# RFC 8176: proof of possession of a software-secured key ("swk", the virtual card keeps its
# keys in a file) unlocked by a PIN. A reader for the physical card would report "hwk".
AMR: Final = ("swk", "pin")
CHALLENGE_PREFIX: Final = "kiban-signin."
AUDIT_SOURCE: Final = "identity"

_MAX_PARAMETER = 512
_PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise CardMismatch(
            "カードからの応答を読み取れません。",
            "The card's answer cannot be read.",
            field=field,
        ) from error


def discovery() -> dict[str, Any]:
    """The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3)."""
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oidc/authorize",
        "token_endpoint": f"{base}/oidc/token",
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "jwks_uri": f"{base}/oidc/jwks",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "at_hash",
            "name",
            "family_name",
            "given_name",
            "name_kana",
            "family_name_kana",
            "given_name_kana",
            "address",
            "birthdate",
            "gender",
            "signing_certificate",
            "business",
        ],
        "acr_values_supported": [ACR],
        "ui_locales_supported": ["ja", "en"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


# --- Authorization requests -------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationStarted:
    """A recorded authorization request, waiting for the card."""

    request_id: uuid.UUID


def new_browser_binding() -> str:
    """A random value for the flow cookie that binds sign-ins to one browser."""
    return secrets.token_urlsafe(24)


def _single(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise OAuthError("invalid_request", f"parameter {key} is repeated")
        values[key] = value
    return values


def _valid_pkce_value(value: str) -> bool:
    return 43 <= len(value) <= 128 and set(value) <= _PKCE_CHARS


def _protocol_refusal(values: dict[str, str]) -> tuple[str, str] | None:
    if "request" in values:
        return "request_not_supported", "request objects are not supported"
    if "request_uri" in values:
        return "request_uri_not_supported", "request_uri is not supported"
    if values.get("response_type") != "code":
        return "unsupported_response_type", "only response_type=code is supported"
    if values.get("response_mode", "query") != "query":
        return "invalid_request", "only response_mode=query is supported"
    for name in ("state", "nonce"):
        if len(values.get(name, "")) > _MAX_PARAMETER:
            return "invalid_request", f"{name} is longer than {_MAX_PARAMETER} characters"
    return None


def _prompt_refusal(values: dict[str, str]) -> tuple[str, str] | None:
    if "none" in values.get("prompt", "").split():
        # Every sign-in needs the card and its PIN, so there is never a session to reuse.
        return "login_required", "signing in needs the card"
    return None


def _scope_refusal(values: dict[str, str], client: OidcClient) -> tuple[str, str] | None:
    scopes = values.get("scope", "").split()
    if "openid" not in scopes:
        return "invalid_scope", "the openid scope is required"
    # Scopes kiban does not know (``profile``, ``email``, ...) are ignored, not refused
    # (OpenID Connect Core §3.1.2.1, §5.4): they release nothing. Known scopes the client was
    # not registered for are refused, since asking for them is a mistake worth reporting.
    not_granted = [
        scope for scope in scopes if scope in SCOPES and scope not in client.allowed_scopes
    ]
    if not_granted:
        return "invalid_scope", f"scope not granted to this client: {' '.join(not_granted)}"
    return None


def _pkce_refusal(values: dict[str, str]) -> tuple[str, str] | None:
    if not values.get("code_challenge"):
        return "invalid_request", "PKCE is required: code_challenge is missing"
    if values.get("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if not _valid_pkce_value(values["code_challenge"]):
        return "invalid_request", "code_challenge is not a valid S256 challenge"
    return None


def start_authorization(
    session: Session, params: Sequence[tuple[str, str]], *, browser_binding: str
) -> AuthorizationStarted:
    """Check an authorization request (OpenID Connect Core §3.1.2) and record it.

    Raises :class:`AuthorizeError`: with ``redirect_uri`` set when the error may go back to the
    client (RFC 6749 §4.1.2.1), without it when the client or redirect URI cannot be trusted.
    """
    try:
        values = _single(params)
    except OAuthError as error:
        raise AuthorizeError(error.error, error.description) from error
    client_id = values.get("client_id", "")
    client = find_client(session, client_id) if client_id else None
    if client is None:
        raise AuthorizeError("invalid_request", "unknown client_id")
    redirect_uri = values.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeError("invalid_request", "redirect_uri is not registered for this client")
    state = values.get("state")
    refusal = (
        _protocol_refusal(values)
        or _scope_refusal(values, client)
        or _pkce_refusal(values)
        or _prompt_refusal(values)
    )
    if refusal is not None:
        raise AuthorizeError(*refusal, redirect_uri=redirect_uri, state=state)
    scopes = values["scope"].split()
    code_challenge = values["code_challenge"]
    now = clock.now()
    authorization = OidcAuthorization(
        client_pk=client.id,
        redirect_uri=redirect_uri,
        scopes=[scope for scope in SCOPES if scope in scopes],
        state=state,
        nonce=values.get("nonce"),
        code_challenge=code_challenge,
        browser_binding=browser_binding,
        status="pending",
        expires_at=now + AUTHORIZATION_TTL,
    )
    session.add(authorization)
    session.flush()
    return AuthorizationStarted(request_id=authorization.id)


def authorize_error_location(error: AuthorizeError) -> str | None:
    """Where to send the browser with ``error`` (RFC 6749 §4.1.2.1), or None for an error page."""
    if error.redirect_uri is None:
        return None
    query = {"error": error.error, "error_description": error.description, "iss": issuer()}
    if error.state is not None:
        query["state"] = error.state
    return _with_query(error.redirect_uri, query)


def _with_query(uri: str, query: dict[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(query)}"


def _load_request(
    session: Session, request_id: uuid.UUID, browser_binding: str | None, status: str
) -> OidcAuthorization:
    """The authorization request ``request_id`` of this browser, in ``status`` and unexpired."""
    authorization = session.get(OidcAuthorization, request_id)
    if (
        authorization is None
        or browser_binding is None
        or not hmac.compare_digest(authorization.browser_binding, browser_binding)
        or authorization.status != status
    ):
        raise SignInNotFound
    if clock.now() >= authorization.expires_at:
        raise SignInExpired
    return authorization


def _load(
    session: Session, request_id: uuid.UUID, browser_binding: str | None, status: str
) -> tuple[OidcAuthorization, OidcClient]:
    """As :func:`_load_request`, with the request's client."""
    authorization = _load_request(session, request_id, browser_binding, status)
    client = session.get(OidcClient, authorization.client_pk)
    assert client is not None  # noqa: S101 - a foreign key guarantees it.
    return authorization, client


def begin_card_sign_in(
    session: Session, request_id: uuid.UUID, browser_binding: str | None
) -> SignInRequest:
    """A fresh challenge for the card and everything the sign-in page shows."""
    authorization, client = _load(session, request_id, browser_binding, "pending")
    now = clock.now()
    authorization.challenge = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    authorization.challenge_expires_at = min(now + CHALLENGE_TTL, authorization.expires_at)
    session.flush()
    return SignInRequest(
        request_id=authorization.id,
        client_name=client.name,
        client_purpose=client.purpose,
        first_party=client.first_party,
        scopes=cast(list[Scope], list(authorization.scopes)),
        challenge=authorization.challenge,
        challenge_expires_at=authorization.challenge_expires_at,
        keys="auth,signing" if "sign" in authorization.scopes else "auth",
        return_to=f"{issuer()}/oidc/card-callback",
        reader_url=get_settings().card_reader_url.rstrip("/"),
    )


def cancel_authorization(
    session: Session, request_id: uuid.UUID, browser_binding: str | None
) -> str:
    """The resident gave up before the card: back to the client with ``access_denied``."""
    authorization, _client = _load(session, request_id, browser_binding, "pending")
    authorization.status = "denied"
    authorization.challenge = None
    session.flush()
    return _denied_location(authorization, "the resident cancelled the sign-in")


def _denied_location(authorization: OidcAuthorization, description: str) -> str:
    query = {"error": "access_denied", "error_description": description, "iss": issuer()}
    if authorization.state is not None:
        query["state"] = authorization.state
    return _with_query(authorization.redirect_uri, query)


def complete_card_sign_in(
    session: Session,
    request_id: uuid.UUID,
    browser_binding: str | None,
    answer: dict[str, str],
) -> uuid.UUID:
    """Check the card's answer to the challenge; returns the person the card belongs to.

    ``answer`` holds the reader's fields (base64url): ``auth_certificate``, ``auth_signature``
    and, when ``sign`` was asked for, ``signing_certificate`` and ``signing_signature``. The
    challenge is consumed before anything is checked, so a failed answer cannot be retried
    against it: the caller commits even when this raises (the sign-in page makes a new one).
    """
    authorization = _load_request(session, request_id, browser_binding, "pending")
    challenge, expires_at = authorization.challenge, authorization.challenge_expires_at
    authorization.challenge = None
    authorization.challenge_expires_at = None
    session.flush()
    if challenge is None or expires_at is None or clock.now() >= expires_at:
        raise SignInExpired
    data = challenge.encode("utf-8")
    verified = card_service.verify_signature(
        session,
        _field(answer, "auth_certificate"),
        data,
        _field(answer, "auth_signature"),
        kind=CertificateKind.AUTH,
    )
    signing_pem = None
    if "sign" in authorization.scopes:
        certificate_der = _field(answer, "signing_certificate")
        signed = card_service.verify_signature(
            session,
            certificate_der,
            data,
            _field(answer, "signing_signature"),
            kind=CertificateKind.SIGNING,
        )
        if signed.person_id != verified.person_id:
            raise CardMismatch(
                "二つの電子証明書が同じ人のものではありません。",
                "The two certificates do not belong to the same person.",
                field="signing_certificate",
            )
        signing_pem = (
            x509.load_der_x509_certificate(certificate_der)
            .public_bytes(serialization.Encoding.PEM)
            .decode("ascii")
        )
    authorization.person_id = verified.person_id
    authorization.auth_time = clock.now()
    authorization.signing_certificate_pem = signing_pem
    authorization.status = "authenticated"
    session.flush()
    return verified.person_id


def _field(answer: dict[str, str], name: str) -> bytes:
    value = answer.get(name)
    if not value:
        raise CardMismatch(
            "カードからの応答に必要な項目がありません。",
            "The card's answer is missing a field.",
            field=name,
        )
    return _b64url_decode(value, name)


def _consent_of(session: Session, client_pk: uuid.UUID, person_id: uuid.UUID) -> OidcConsent | None:
    return session.scalar(
        select(OidcConsent).where(
            OidcConsent.client_pk == client_pk, OidcConsent.person_id == person_id
        )
    )


def get_consent_request(
    session: Session, request_id: uuid.UUID, browser_binding: str | None
) -> ConsentRequest:
    """What the consent page shows, for a request whose card sign-in succeeded."""
    authorization, client = _load(session, request_id, browser_binding, "authenticated")
    assert authorization.person_id is not None  # noqa: S101 - set with the status.
    consent = _consent_of(session, client.id, authorization.person_id)
    return ConsentRequest(
        request_id=authorization.id,
        client_name=client.name,
        client_purpose=client.purpose,
        first_party=client.first_party,
        scopes=cast(list[Scope], list(authorization.scopes)),
        remembered=cast(list[Scope], list(consent.scopes)) if consent else None,
        person_id=authorization.person_id,
    )


def decide_consent(
    session: Session,
    request_id: uuid.UUID,
    browser_binding: str | None,
    *,
    approve: bool,
    scopes: Iterable[str],
) -> str:
    """Record the resident's decision; returns the URL to send the browser back to the client.

    ``scopes`` are the items the resident ticked; ``openid`` is always part of an approval, and
    anything not asked for is ignored. A refusal answers ``access_denied``.
    """
    authorization, client = _load(session, request_id, browser_binding, "authenticated")
    person_id = authorization.person_id
    assert person_id is not None  # noqa: S101 - set with the status.
    if not approve:
        authorization.status = "denied"
        session.flush()
        return _denied_location(authorization, "the resident declined")
    chosen = set(scopes) | {"openid"}
    granted = [scope for scope in authorization.scopes if scope in chosen]
    consent = _consent_of(session, client.id, person_id)
    if consent is None:
        session.add(OidcConsent(client_pk=client.id, person_id=person_id, scopes=granted))
    elif list(consent.scopes) != granted:
        consent.scopes = granted
    code = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        OidcCode(
            code_hash=digest(code),
            authorization_id=authorization.id,
            client_pk=client.id,
            person_id=person_id,
            scopes=granted,
            expires_at=now + CODE_TTL,
            used_at=None,
            created_at=now,
        )
    )
    authorization.status = "completed"
    session.flush()
    audit.record(
        session,
        tag=f"{AUDIT_SOURCE}:oidc_consent:given",
        actor=audit.person_actor(person_id),
        subject=f"oidc_client:{client.client_id}",
        data={"person_id": str(person_id), "scopes": granted},
    )
    query = {"code": code, "iss": issuer()}
    if authorization.state is not None:
        query["state"] = authorization.state
    return _with_query(authorization.redirect_uri, query)


# --- Token endpoint -----------------------------------------------------------------------------


def _authenticate_client(
    session: Session, client_id: str | None, client_secret: str | None, method: str
) -> OidcClient:
    """The client making a token request, authenticated the way it registered."""
    client = find_client(session, client_id) if client_id else None
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
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def exchange_code(
    session: Session,
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
    """
    client = _authenticate_client(session, client_id, client_secret, auth_method)
    if not code or not redirect_uri:
        raise OAuthError("invalid_request", "code and redirect_uri are required")
    if not code_verifier:
        raise OAuthError("invalid_request", "PKCE is required: code_verifier is missing")
    if not _valid_pkce_value(code_verifier):
        raise OAuthError("invalid_request", "code_verifier is not a valid PKCE verifier")
    # The code and its authorization request in one statement (a token request reads both).
    found = session.execute(
        select(OidcCode, OidcAuthorization)
        .join(OidcAuthorization, OidcAuthorization.id == OidcCode.authorization_id)
        .where(OidcCode.code_hash == digest(code))
    ).one_or_none()
    if found is None or found[0].client_pk != client.id:
        raise OAuthError("invalid_grant", "unknown code")
    row, authorization = found
    now = clock.now()
    # Compare-and-set, so that two concurrent redemptions cannot both succeed.
    claimed = session.execute(
        update(OidcCode)
        .where(OidcCode.id == row.id, OidcCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE.
        session.execute(
            update(OidcAccessToken)
            .where(OidcAccessToken.code_id == row.id, OidcAccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        raise OAuthError("invalid_grant", "the code was already used")
    if now >= row.expires_at:
        raise OAuthError("invalid_grant", "the code has expired")
    if redirect_uri != authorization.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    if not hmac.compare_digest(_s256(code_verifier), authorization.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    access_token = secrets.token_urlsafe(32)
    # A plain INSERT: nothing in this request reads the row back, and the unit of work's
    # bookkeeping for one new object costs more than the statement.
    session.execute(
        insert(OidcAccessToken).values(
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
    )
    id_token = _id_token(
        client=client,
        person_id=row.person_id,
        nonce=authorization.nonce,
        auth_time=authorization.auth_time or now,
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
    client: OidcClient,
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
        "at_hash": _b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16]),
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
