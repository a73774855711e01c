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

Steps 5 and 6 are in :mod:`.oidc_tokens`.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.identity import oidc_sql
from kiban.blocks.identity import service as card_service
from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.oidc_clients import digest, issuer
from kiban.blocks.identity.oidc_errors import (
    AuthorizeError,
    CardMismatch,
    OAuthError,
    SignInExpired,
    SignInNotFound,
)
from kiban.blocks.identity.oidc_keys import (
    ID_TOKEN_ALGS,
)
from kiban.blocks.identity.oidc_models import (
    OidcAuthorization,
    OidcClient,
    OidcConsent,
)
from kiban.blocks.identity.oidc_schemas import (
    SCOPES,
    ConsentRequest,
    Scope,
    SignInRequest,
)
from kiban.blocks.identity.oidc_sql import ClientRow, RequestRow
from kiban.blocks.identity.oidc_tokens import ACR, valid_pkce_value
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit
from kiban.platform.settings import get_settings
from kiban.platform.statements import Executor

AUTHORIZATION_TTL: Final = timedelta(minutes=10)
CHALLENGE_TTL: Final = timedelta(minutes=5)
CODE_TTL: Final = timedelta(seconds=60)
CHALLENGE_PREFIX: Final = "kiban-signin."
AUDIT_SOURCE: Final = "identity"

_MAX_PARAMETER = 512


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


def _scope_refusal(values: dict[str, str], client: ClientRow) -> tuple[str, str] | None:
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
    if not valid_pkce_value(values["code_challenge"]):
        return "invalid_request", "code_challenge is not a valid S256 challenge"
    return None


def start_authorization(
    session: Executor, params: Sequence[tuple[str, str]], *, browser_binding: str
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
    client = oidc_sql.client_by_id(session, client_id) if client_id else None
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
    request_id = uuid.uuid4()
    oidc_sql.INSERT_REQUEST.run(
        session,
        id=request_id,
        client_pk=client.id,
        redirect_uri=redirect_uri,
        scopes=[scope for scope in SCOPES if scope in scopes],
        state=state,
        nonce=values.get("nonce"),
        code_challenge=code_challenge,
        browser_binding=browser_binding,
        status="pending",
        expires_at=now + AUTHORIZATION_TTL,
        challenge=None,
        challenge_expires_at=None,
        person_id=None,
        auth_time=None,
        signing_certificate_pem=None,
        created_at=now,
        updated_at=now,
    )
    return AuthorizationStarted(request_id=request_id)


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
    return _checked(session.get(OidcAuthorization, request_id), browser_binding, status)


_Request = TypeVar("_Request", OidcAuthorization, RequestRow)


def _checked(authorization: _Request | None, browser_binding: str | None, status: str) -> _Request:
    """``authorization`` if it belongs to this browser, is in ``status`` and unexpired."""
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


def _request_and_client(
    session: Executor, request_id: uuid.UUID, browser_binding: str | None, status: str
) -> tuple[RequestRow, ClientRow]:
    """As :func:`_load`, in one driver statement and without ORM objects (the hot paths)."""
    found = oidc_sql.request_with_client(session, request_id)
    authorization = _checked(found[0] if found else None, browser_binding, status)
    assert found is not None  # noqa: S101 - _checked refuses a missing request.
    return authorization, found[1]


def begin_card_sign_in(
    session: Executor, request_id: uuid.UUID, browser_binding: str | None
) -> SignInRequest:
    """A fresh challenge for the card and everything the sign-in page shows."""
    authorization, client = _request_and_client(session, request_id, browser_binding, "pending")
    now = clock.now()
    challenge = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    challenge_expires_at = min(now + CHALLENGE_TTL, authorization.expires_at)
    if (
        oidc_sql.SET_CHALLENGE.run(
            session,
            request_id=authorization.id,
            new_challenge=challenge,
            new_challenge_expires_at=challenge_expires_at,
            now=now,
        )
        != 1
    ):
        raise SignInNotFound  # Answered, cancelled or finished by another request meanwhile.
    return SignInRequest(
        request_id=authorization.id,
        client_name=client.name,
        client_purpose=client.purpose,
        first_party=client.first_party,
        scopes=cast(list[Scope], list(authorization.scopes)),
        challenge=challenge,
        challenge_expires_at=challenge_expires_at,
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


def _denied_location(authorization: OidcAuthorization | RequestRow, description: str) -> str:
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
    first answer consumes the challenge whatever its outcome (a compare-and-set on the
    challenge, so two answers at once cannot both succeed), and a failed answer cannot be
    retried against it: the caller commits even when this raises (the sign-in page makes a new
    one).
    """
    authorization = _checked(
        oidc_sql.request_by_id(session, request_id), browser_binding, "pending"
    )
    challenge, expires_at = authorization.challenge, authorization.challenge_expires_at
    if challenge is None:
        raise SignInExpired
    try:
        if expires_at is None or clock.now() >= expires_at:
            raise SignInExpired
        person_id, signing_pem = _check_answer(session, challenge, authorization.scopes, answer)
    except KibanError:
        oidc_sql.DROP_CHALLENGE.run(
            session, request_id=authorization.id, answered_challenge=challenge, now=clock.now()
        )
        raise
    now = clock.now()
    consumed = oidc_sql.AUTHENTICATE.run(
        session,
        request_id=authorization.id,
        answered_challenge=challenge,
        new_person_id=person_id,
        new_auth_time=now,
        new_signing_certificate_pem=signing_pem,
        now=now,
    )
    if consumed != 1:
        raise SignInExpired  # Another answer consumed the challenge first.
    return person_id


def _check_answer(
    session: Session, challenge: str, scopes: list[Any], answer: dict[str, str]
) -> tuple[uuid.UUID, str | None]:
    """The person whose card signed ``challenge``, and the PEM of the signing certificate
    when ``sign`` was asked for."""
    data = challenge.encode("utf-8")
    verified = card_service.verify_signature(
        session,
        _field(answer, "auth_certificate"),
        data,
        _field(answer, "auth_signature"),
        kind=CertificateKind.AUTH,
    )
    if "sign" not in scopes:
        return verified.person_id, None
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
    return verified.person_id, signing_pem


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
    authorization, client = _request_and_client(
        session, request_id, browser_binding, "authenticated"
    )
    person_id = authorization.person_id
    assert person_id is not None  # noqa: S101 - set with the status.
    now = clock.now()
    # Decided once: the request leaves "authenticated" in a compare-and-set, so two answers
    # to one consent page cannot both issue a code.
    decided = oidc_sql.DECIDE.run(
        session,
        request_id=authorization.id,
        new_status="completed" if approve else "denied",
        now=now,
    )
    if decided != 1:
        raise SignInNotFound
    if not approve:
        return _denied_location(authorization, "the resident declined")
    chosen = set(scopes) | {"openid"}
    granted = [scope for scope in authorization.scopes if scope in chosen]
    oidc_sql.REMEMBER_CONSENT.run(
        session,
        id=uuid.uuid4(),
        client_pk=client.id,
        person_id=person_id,
        scopes=granted,
        created_at=now,
        updated_at=now,
    )
    code = secrets.token_urlsafe(32)
    oidc_sql.INSERT_CODE.run(
        session,
        id=uuid.uuid4(),
        code_hash=digest(code),
        authorization_id=authorization.id,
        client_pk=client.id,
        person_id=person_id,
        scopes=granted,
        expires_at=now + CODE_TTL,
        used_at=None,
        created_at=now,
    )
    audit.append(
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
