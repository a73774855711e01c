"""The gateway: one exchange between a client subsystem and a provider's service.

The protocol, the same in process and over HTTP:

1. The client signs a request envelope (compact JWS, Ed25519, the subsystem's key, its
   certificate in ``x5c``) naming itself, the service, method, path, message id, user id, its own
   agency code for the person, the data items wanted and the SHA-256 of the body. Over HTTP the
   envelope travels in ``X-Road-Signature`` beside the body; ``X-Road-Client`` must name the
   same client.
2. The gateway checks, in order: body size, the client's rate, the client is known and active,
   the signature (against the certificate the mesh issued), that the request is fresh (``iat``
   within two minutes) and its message id new for the client (no replay), the service exists
   and is enabled,
   a grant covers client, service and items (deny by default), consent for company clients,
   and converts the requester's code into the provider's.
3. It forwards a new envelope, signed with the client subsystem's key (the mesh holds it, as a
   security server does), carrying the provider's code and the hash of the client's request.
   A provider (:func:`answer`, or :func:`provider_app` for one in another process) checks the
   certificate against the mesh CA and the signature, runs its handler and signs its answer
   (status, body hash, the hash of the request it answers) with its own key.
4. The gateway verifies the answer against the provider's certificate, writes the access
   records of both sides (refusals too) in the caller's transaction, and only then releases the
   response with ``X-Road-Request-Hash`` (the hash of the client's signed request). An answer
   that discloses data about other people than the one asked about names them in its signed
   ``subjects`` claim (the provider's codes and the items per person); each of them gets the
   records of both sides too, in the same append.

Refusals are returned, not raised (:class:`MeshResponse` with ``error`` set), so that the
record of a refusal commits with the caller's transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import re
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes, consent, records
from kiban.blocks.mesh.errors import REFUSALS, MeshRefusal
from kiban.blocks.mesh.service import (
    ClientEntry,
    GrantEntry,
    ServiceEntry,
    active_client,
    engine_of,
    grant_entries,
    member_of,
    parse_service_id,
    service_entry,
    subsystem_key,
)
from kiban.blocks.mesh.service import (
    ca_pem as mesh_ca_pem,
)
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.db import session_factory

ALG: Final = "Ed25519"
SIGNATURE_HEADER: Final = "X-Road-Signature"
JSON_TYPE: Final = "application/json"


# The protected header carries the signer's certificate (``x5c``); nothing else of the mesh's
# makes a header this big, so a longer one is refused before it is parsed.
MAX_HEADER_LENGTH: Final = 4096
_COMPACT = re.compile(r"^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$")

# --- limits, rate and metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Gateway limits: a token bucket per client (``rate_per_second`` refill, ``burst``
    capacity), the largest request body, how long to wait for a remote provider, and how
    long a signed request stays fresh."""

    rate_per_second: float = 5000.0
    burst: int = 10000
    max_body_bytes: int = 1_048_576
    provider_timeout_seconds: float = 10.0
    # A request is fresh from ``clock_skew_seconds`` before its ``iat`` to ``max_age_seconds``
    # after; while it is, its message id cannot be used again by the same client.
    max_age_seconds: float = 120.0
    clock_skew_seconds: float = 30.0


_limits = Limits()


def get_limits() -> Limits:
    return _limits


def set_limits(limits: Limits) -> None:
    """Change the gateway limits of this process (buckets start full again)."""
    global _limits  # noqa: PLW0603 - process-wide configuration, changed by operators and tests.
    _limits = limits
    _limiter.reset()
    _replays.reset()


class RateLimiter:
    """Token buckets, one per client subsystem."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def allow(self, client: str) -> bool:
        limits = _limits
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.get(client, (float(limits.burst), now))
            tokens = min(float(limits.burst), tokens + (now - updated) * limits.rate_per_second)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1.0, now)
            return True


_limiter = RateLimiter()


class ReplayGuard:
    """The message ids each client used in this process while its requests were fresh.

    An id is remembered until the request that carried it goes stale (``iat`` plus the
    maximum age); a replay after that is refused as stale instead. The access records catch a
    replay that this process did not see (:func:`records.message_used`)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._expiries: deque[tuple[float, tuple[str, str]]] = deque()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._expiries.clear()

    def first_use(self, client: str, message_id: str, *, until: float, now: float) -> bool:
        """Whether ``client`` has not used ``message_id`` before; remembers it until ``until``."""
        key = (client, message_id)
        with self._lock:
            expiries = self._expiries
            # Ids leave in the order they came; one that goes stale early waits for those
            # before it, which only keeps it longer than needed.
            while expiries and expiries[0][0] < now:
                self._seen.discard(expiries.popleft()[1])
            if key in self._seen:
                return False
            self._seen.add(key)
            expiries.append((until, key))
            return True


_replays = ReplayGuard()


class Metrics:
    """Counters of exchanges by outcome and the latency of the gateway, in Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: dict[str, int] = {}
        self._latency_sum = 0.0
        self._latency_count = 0
        self._deliveries: dict[str, int] = {}

    def observe(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1
            self._latency_sum += seconds
            self._latency_count += 1

    def delivery(self, outcome: str) -> None:
        with self._lock:
            self._deliveries[outcome] = self._deliveries.get(outcome, 0) + 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP kiban_mesh_requests_total Gateway exchanges by outcome.",
                "# TYPE kiban_mesh_requests_total counter",
            ]
            lines += [
                f'kiban_mesh_requests_total{{outcome="{name}"}} {count}'
                for name, count in sorted(self._outcomes.items())
            ]
            lines += [
                "# HELP kiban_mesh_request_seconds Time the gateway spent on an exchange.",
                "# TYPE kiban_mesh_request_seconds summary",
                f"kiban_mesh_request_seconds_sum {self._latency_sum:.6f}",
                f"kiban_mesh_request_seconds_count {self._latency_count}",
                "# HELP kiban_mesh_deliveries_total Subscription delivery attempts by outcome.",
                "# TYPE kiban_mesh_deliveries_total counter",
            ]
            lines += [
                f'kiban_mesh_deliveries_total{{outcome="{name}"}} {count}'
                for name, count in sorted(self._deliveries.items())
            ]
        return "\n".join(lines) + "\n"


metrics = Metrics()

# --- signing -----------------------------------------------------------------------------------


def digest(data: bytes | str) -> str:
    """Base64url SHA-256 without padding: the hashes messages carry."""
    raw = data.encode() if isinstance(data, str) else data
    return _b64(hashlib.sha256(raw).digest())


# ``json.dumps`` with options builds an encoder on every call; the mesh encodes several
# messages an exchange, all with these.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_body(body: Any) -> bytes:
    """The bytes of a JSON body as the mesh sends them (empty for None)."""
    if body is None:
        return b""
    return _encode_json(body).encode()


def decode_body(data: bytes) -> Any:
    return json.loads(data) if data else None


# base64url through binascii: base64's url-safe functions are Python wrappers around it that
# cost more than the conversion itself, several times a message.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode()


def _unb64(text: str) -> bytes:
    """Decode base64url without padding (ValueError if malformed)."""
    return binascii.a2b_base64(text.translate(_FROM_URLSAFE) + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class _Cert:
    subject: str
    x5c: str
    public: VerifyKey
    header: str  # The encoded protected header of a JWS this certificate's key signs.


@lru_cache(maxsize=4096)
def _load_cert(pem_or_der_b64: str) -> tuple[x509.Certificate, _Cert]:
    # Parsing a certificate costs more than checking a signature, and every message names one
    # of a few hundred: parsed once per process.
    if pem_or_der_b64.startswith("-----BEGIN"):
        cert = x509.load_pem_x509_certificate(pem_or_der_b64.encode())
    else:
        cert = x509.load_der_x509_certificate(base64.b64decode(pem_or_der_b64, validate=True))
    public = cert.public_key()
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise ValueError("mesh certificates certify Ed25519 keys")
    subject = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    header = {"alg": ALG, "typ": "xroad+jws", "x5c": [x5c]}
    encoded = _b64(json.dumps(header, separators=(",", ":")).encode())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return cert, _Cert(str(subject), x5c, VerifyKey(raw), encoded)


# Keys are held as ``cryptography`` objects (the key store, certificates); the hot path signs
# and verifies with libsodium (PyNaCl), which does an Ed25519 verification in half the time of
# OpenSSL's and is stricter (canonical encodings, no small-order keys). The signatures are the
# same RFC 8032 signatures, so either library verifies the other's (a test checks).
_signers: dict[int, tuple[ed25519.Ed25519PrivateKey, SigningKey]] = {}


def _signer(key: ed25519.Ed25519PrivateKey) -> SigningKey:
    held = _signers.get(id(key))
    if held is None or held[0] is not key:
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        held = _signers[id(key)] = (key, SigningKey(raw))
    return held[1]


@lru_cache(maxsize=4096)
def _header(encoded: str) -> str:
    """The ``x5c`` certificate of a protected header, checked (ValueError if malformed): the
    algorithm must be the mesh's, and no extension may be marked critical (RFC 7515 §4.1.11:
    the mesh understands none). Cached: a signer sends the same header every time."""
    if len(encoded) > MAX_HEADER_LENGTH:
        raise ValueError("JWS header too long")
    try:
        header = json.loads(_unb64(encoded).decode())
    except ValueError as exc:
        raise ValueError("malformed JWS header") from exc
    x5c = header.get("x5c") if isinstance(header, dict) else None
    if (
        not isinstance(header, dict)
        or header.get("alg") != ALG
        or "crit" in header
        or not isinstance(x5c, list)
        or not x5c
        or not isinstance(x5c[0], str)
    ):
        raise ValueError("unsupported JWS header")
    return x5c[0]


def _split(token: str) -> tuple[str, str, str]:
    """The three parts of a compact JWS in strict base64url (ValueError otherwise), so that one
    signature has exactly one encoding and the request hash binds it."""
    match = _COMPACT.match(token)
    if match is None:
        raise ValueError("malformed JWS")
    return match.group(1), match.group(2), match.group(3)


def sign(key: ed25519.Ed25519PrivateKey, certificate_pem: str, claims: Mapping[str, Any]) -> str:
    """A compact JWS of ``claims`` signed with ``key``, its certificate in ``x5c``."""
    header = _load_cert(certificate_pem)[1].header
    payload = _b64(_encode_json(claims).encode())
    signing_input = f"{header}.{payload}"
    signature = _signer(key).sign(signing_input.encode("ascii")).signature
    return f"{signing_input}.{_b64(signature)}"


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWS before its signature is checked (to learn who claims to sign)."""
    # A token that does not even decode cannot carry a valid signature.
    try:
        claims = json.loads(_unb64(token.split(".")[1]).decode())
    except (IndexError, ValueError):
        raise MeshRefusal("Client.InvalidSignature", "JWS") from None
    if not isinstance(claims, dict):
        raise MeshRefusal("Client.InvalidSignature", "JWS")
    return claims


def verify(token: str, certificate_pem: str) -> dict[str, Any]:
    """The claims of ``token`` if the certificate's key signed it; ValueError otherwise."""
    claims = json.loads(_unb64(_signed_payload(token, certificate_pem)).decode())
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return claims


def _signed_payload(token: str, certificate_pem: str) -> str:
    """The encoded payload of ``token`` if the certificate's key signed it; ValueError
    otherwise."""
    public = _load_cert(certificate_pem)[1].public
    header, payload, signature = _split(token)
    _header(header)
    raw = _unb64(signature)
    if _b64(raw) != signature:
        # Unused low bits set: another spelling of the same signature.
        raise ValueError("signature not in canonical base64url")
    try:
        public.verify(f"{header}.{payload}".encode("ascii"), raw)
    except BadSignatureError:
        raise ValueError("signature does not verify") from None
    return payload


@lru_cache(maxsize=4096)
def _issued_by(x5c: str, ca_pem: str) -> x509.Certificate:
    """The ``x5c`` certificate if the CA signed it (ValueError if not); cached, since a
    signature on a certificate never changes."""
    cert, _ = _load_cert(x5c)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_key = ca.public_key()
    if not isinstance(ca_key, ec.EllipticCurvePublicKey) or cert.signature_hash_algorithm is None:
        raise ValueError("unsupported CA")
    try:
        ca_key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    except InvalidSignature:
        raise ValueError("certificate not issued by the mesh CA") from None
    return cert


def _x5c_trusted(x5c: str, ca_pem: str) -> str:
    """The subject of an ``x5c`` certificate the CA issued and valid now (ValueError if not).
    Validity is checked on every message: a certificate expires while a process runs."""
    cert = _issued_by(x5c, ca_pem)
    now = clock.now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValueError("certificate not valid now")
    return _load_cert(x5c)[1].subject


def verify_with_ca(token: str, ca_pem: str) -> tuple[str, dict[str, Any]]:
    """``(signer subsystem id, claims)`` of a JWS whose ``x5c`` certificate the mesh CA issued."""
    x5c = _header(_split(token)[0])
    signer = _x5c_trusted(x5c, ca_pem)
    return signer, verify(token, x5c)


# --- the provider side -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRequest:
    """What a provider's handler is given: the request as the mesh vouches for it."""

    service: str
    client: str
    method: str
    path: str
    message_id: str
    user_id: str | None
    agency_code: str
    items: list[str]
    body: Any
    legal_basis: str | None = None
    consent_id: str | None = None


@dataclass(frozen=True)
class Subject:
    """Another person an answer discloses data about: the provider's own agency code for them
    and the data items disclosed about them."""

    code: str
    items: Sequence[str]


@dataclass(frozen=True)
class ProviderResult:
    """A handler's answer with the other people it discloses data about (``subjects``), so that
    each of them finds the exchange in their own access records."""

    body: Any
    status: int = 200
    subjects: Sequence[Subject] = ()


ProviderFn = Callable[[ProviderRequest], Any]
"""A handler returns a JSON body (status 200), ``(status, body)`` or a :class:`ProviderResult`."""

# Bounds on an answer's ``subjects`` claim, checked by the gateway before it writes a record.
MAX_SUBJECTS: Final = 1000
MAX_SUBJECT_ITEMS: Final = 50
MAX_SUBJECT_TEXT: Final = 100


@dataclass(frozen=True)
class ProviderAnswer:
    status: int
    body: bytes
    signature: str


def answer(
    handler_for: Callable[[str], ProviderFn | None],
    *,
    token: str,
    body: bytes,
    key: ed25519.Ed25519PrivateKey,
    certificate_pem: str,
    ca_pem: str,
) -> ProviderAnswer:
    """Check a mesh request (certificate, signature, body hash), run the handler of its service
    and sign the answer. Every answer is signed, refusals included, and binds the request hash."""
    request_hash = digest(token)
    message_id = ""
    subjects: Sequence[Subject] = ()
    try:
        signer, claims = verify_with_ca(token, ca_pem)
        message_id = str(claims.get("id", ""))
        if signer != claims.get("client") or claims.get("bodyHash") != digest(body):
            raise ValueError("claims do not match the signer or the body")
        handler = handler_for(str(claims["service"]))
        if handler is None:
            status, result = 404, {"error": "Server.ServerProxy.UnknownService"}
        else:
            request = ProviderRequest(
                service=str(claims["service"]),
                client=signer,
                method=str(claims["method"]),
                path=str(claims["path"]),
                message_id=message_id,
                user_id=claims.get("userId"),
                agency_code=str(claims["code"]),
                items=[str(i) for i in claims.get("items", [])],
                body=decode_body(body),
                legal_basis=claims.get("legalBasis"),
                consent_id=claims.get("consentId"),
            )
            try:
                outcome = handler(request)
            except KibanError as exc:
                status, result = exc.status, {"error": exc.code, "message": exc.message_en}
            else:
                if isinstance(outcome, ProviderResult):
                    status, result = int(outcome.status), outcome.body
                    subjects = outcome.subjects
                elif isinstance(outcome, tuple):
                    status, result = int(outcome[0]), outcome[1]
                else:
                    status, result = 200, outcome
    except (ValueError, KeyError) as exc:
        status, result = 401, {"error": "Client.InvalidSignature", "message": str(exc)}
    data = encode_body(result)
    signed: dict[str, Any] = {
        "id": message_id,
        "requestHash": request_hash,
        "status": status,
        "bodyHash": digest(data),
    }
    if subjects:
        # Signed with the rest, so the gateway records exactly whom the provider vouches for.
        signed["subjects"] = [{"code": s.code, "items": list(s.items)} for s in subjects]
    return ProviderAnswer(status, data, sign(key, certificate_pem, signed))


def provider_app(
    handlers: Mapping[str, ProviderFn],
    *,
    key: ed25519.Ed25519PrivateKey,
    certificate_pem: str,
    ca_pem: str,
) -> Any:
    """An ASGI application for a provider running outside kiban: every path answers mesh
    requests for the services in ``handlers`` (service id → handler), verified against the
    mesh CA and signed with the provider subsystem's ``key``."""
    from starlette.applications import Starlette  # noqa: PLC0415 - only providers need it.
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import Response  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        token = request.headers.get(SIGNATURE_HEADER, "")
        result = answer(
            handlers.get,
            token=token,
            body=body,
            key=key,
            certificate_pem=certificate_pem,
            ca_pem=ca_pem,
        )
        return Response(
            result.body,
            status_code=result.status,
            media_type=JSON_TYPE,
            headers={SIGNATURE_HEADER: result.signature},
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


# --- in-process providers ----------------------------------------------------------------------

_providers: dict[str, ProviderFn] = {}

# In-process providers share kiban's database, so the session of the exchange they answer is
# theirs too: a second session would wait on the write lock the caller holds on SQLite. (Added
# by the reference agencies' wiring; remote providers have their own database.)
_exchange_session: ContextVar[Session | None] = ContextVar("mesh_exchange_session", default=None)


def provider_session() -> Session:
    """The session of the exchange an in-process provider is answering (in its transaction)."""
    session = _exchange_session.get()
    if session is None:
        raise RuntimeError("provider_session() is only available inside an in-process exchange")
    return session


def register_provider(service_id: str, handler: ProviderFn) -> None:
    """Serve ``service_id`` in this process with ``handler`` (registration is per process)."""
    parse_service_id(service_id)
    _providers[service_id] = handler


def unregister_provider(service_id: str) -> None:
    _providers.pop(service_id, None)


# --- the exchange ------------------------------------------------------------------------------


@dataclass
class MeshResponse:
    """The outcome of one exchange as the client sees it."""

    status: int
    body: Any
    message_id: str
    request_hash: str
    error: str | None = None
    error_code: str | None = None
    message: str | None = None
    signature: str | None = None
    raw: bytes = b""
    service: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise MeshRefusal(self.error, self.message)


@dataclass
class _Exchange:
    client: str
    service: str
    message_id: str
    request_hash: str
    requested_at: datetime
    person_id: uuid.UUID | None = None
    client_code: str | None = None
    provider_code: str | None = None
    items: list[str] = field(default_factory=list)
    legal_basis: str | None = None
    consent_id: uuid.UUID | None = None
    provider_certificate: str = ""
    response_hash: str | None = None  # Of the provider's answer, once its signature binds it.
    # The other people the answer discloses data about: (person, items, provider's code).
    subjects: list[tuple[uuid.UUID, list[str], str]] = field(default_factory=list)


def _refusal_outcome(exc: KibanError) -> str:
    return f"refused:{exc.code}"


def _idle(session: Session) -> bool:
    """Whether the session holds no connection: it has no uncommitted writes and, on SQLite,
    no lock, so the gateway may use transactions of its own beside it without waiting on it."""
    transaction = session.get_transaction()
    if transaction is None:
        return True
    # SessionTransaction keeps its connections in ``_connections``; should that ever change, the
    # gateway falls back to the caller's transaction, which is always correct.
    return not getattr(transaction, "_connections", True)


def _standalone(session: Session) -> bool:
    """Whether the exchange may run in transactions of its own: the caller's session is idle
    and the database is one another connection can reach (not an in-memory SQLite)."""
    if not _idle(session):
        return False
    engine = engine_of(session)
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def _record(
    session: Session,
    exchange: _Exchange,
    outcome: str,
    response_hash: str | None,
    *,
    group_commit: bool = False,
) -> None:
    """Write the access records of both sides before the gateway releases any response.

    With ``group_commit`` (the HTTP gateway, whose answer leaves the process) and the caller's
    session idle, they go to the process's :class:`~kiban.blocks.mesh.records.RecordWriter`,
    whose group commit has made them durable (fsync'd) when ``write`` returns — it raises
    otherwise, and the exchange fails — and concurrent requests share one commit. Otherwise they
    are appended in the caller's transaction, which commits them with whatever the caller does
    with the answer (and a second connection could not write beside a session holding SQLite's
    lock: an in-process caller in the middle of its work, or an in-process provider that wrote).

    An exchange whose person is unknown (a bad agency code) has no one to show a record to and
    is only counted in the metrics."""
    if exchange.person_id is None:
        return
    provider = exchange.service.rsplit("/", 1)[0]
    provided_at = clock.now() if outcome == "ok" else None
    person = exchange.person_id
    standalone = group_commit and _standalone(session)
    if standalone:
        provider_code = exchange.provider_code or codes.compute(provider, person)
        client_code = exchange.client_code or codes.compute(exchange.client, person)
    else:
        provider_code = exchange.provider_code or codes.agency_code(session, provider, person)
        client_code = exchange.client_code or codes.agency_code(session, exchange.client, person)
    common: dict[str, Any] = {
        "person_id": exchange.person_id,
        "service": exchange.service,
        "items": list(exchange.items),
        "legal_basis": exchange.legal_basis,
        "consent_id": exchange.consent_id,
        "message_id": exchange.message_id,
        "request_hash": exchange.request_hash,
        "response_hash": response_hash,
        "outcome": outcome,
        "requested_at": exchange.requested_at,
        "provided_at": provided_at,
        "non_disclosure_until": None,
    }
    create = records.AccessRecordCreate
    pair = [
        create(
            side="requester",
            member=exchange.client,
            counterpart=provider,
            agency_code=client_code,
            **common,
        ),
        create(
            side="provider",
            member=provider,
            counterpart=exchange.client,
            agency_code=provider_code,
            **common,
        ),
    ]
    # (member, code, person) of every record: the codes they name must be stored.
    named = [(provider, provider_code, person), (exchange.client, client_code, person)]
    for subject, items, subject_code in exchange.subjects:
        # Each other person the answer disclosed gets the same exchange in their own records,
        # named by each side's code for them and with the items disclosed about them.
        subject_client_code = (
            codes.compute(exchange.client, subject)
            if standalone
            else codes.agency_code(session, exchange.client, subject)
        )
        theirs = {**common, "person_id": subject, "items": list(items)}
        pair.append(
            create(
                side="requester",
                member=exchange.client,
                counterpart=provider,
                agency_code=subject_client_code,
                **theirs,
            )
        )
        pair.append(
            create(
                side="provider",
                member=provider,
                counterpart=exchange.client,
                agency_code=subject_code,
                **theirs,
            )
        )
        named.append((exchange.client, subject_client_code, subject))
        named.append((provider, subject_code, subject))
    if standalone and _idle(session):
        engine = engine_of(session)
        # The codes the records name are stored in the same commit, if they are not yet.
        missing = [row for row in named if not codes.is_stored(engine, row[0], row[1])]
        records.record_writer(engine).write(pair, codes=missing)
    else:
        if standalone:
            for member, _code, someone in named:
                codes.agency_code(session, member, someone)
        records.append_records(session, pair)


def _check_consent(session: Session, exchange: _Exchange) -> None:
    """Company clients need the person's consent in force for the items."""
    if member_of(exchange.client).split("/")[1] != "COM":
        return
    if exchange.person_id is None:
        return
    exchange.consent_id = consent.check_consent(
        session, person_id=exchange.person_id, company=exchange.client, items=exchange.items
    )


class _Connections:
    """Keep-alive HTTP/1.1 connections to remote providers, a few idle ones per host.

    The standard library's client, not httpx: the gateway spends its time on the hop, and
    httpx's layers cost several times what the request itself does. A request sent on a kept
    connection that the provider had already closed (it closes idle ones) is sent once more on
    a new connection, as other pooling clients do: the provider never saw the first."""

    MAX_IDLE = 32

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _take(
        self, key: tuple[str, str, int], timeout: float
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                connection = idle.pop()
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection, True
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout), False
        return http.client.HTTPConnection(host, port, timeout=timeout), False

    def _give(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    def request(
        self, method: str, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, bytes, str]:
        """``(status, body, X-Road-Signature)``; OSError or HTTPException when it fails."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise http.client.InvalidURL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            connection, reused = self._take(key, timeout)
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                stale = isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if reused and stale and attempt == 1:
                    continue
                raise
            signature = response.getheader(SIGNATURE_HEADER, "") or ""
            if response.will_close:
                connection.close()
            else:
                self._give(key, connection)
            return response.status, data, signature
        raise http.client.HTTPException("unreachable")  # pragma: no cover - the loop returns.

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


_connections = _Connections()


def close_http() -> None:
    """Close the kept connections to remote providers (shutdown, tests)."""
    _connections.close()


def call_endpoint(
    url: str, *, token: str, body: bytes, method: str = "POST", path: str = ""
) -> ProviderAnswer:
    """Send a signed mesh message to a member's HTTP endpoint and return its (unverified)
    answer; connection failures are ``Server.ServerProxy.ServiceFailed``."""
    claims = unverified_claims(token)
    headers = {
        SIGNATURE_HEADER: token,
        "X-Road-Client": str(claims.get("client", "")),
        "X-Road-Id": str(claims.get("id", "")),
        "Content-Type": JSON_TYPE,
    }
    if claims.get("userId"):
        headers["X-Road-UserId"] = str(claims["userId"])
    target = f"{url}/{path}" if path else url
    try:
        status, data, signature = _connections.request(
            method, target, body=body, headers=headers, timeout=_limits.provider_timeout_seconds
        )
    except (OSError, http.client.HTTPException) as exc:
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", type(exc).__name__) from None
    return ProviderAnswer(status, data, signature)


def _covering_grant(
    session: Session, exchange: _Exchange, wanted: list[str] | None, offered: tuple[str, ...]
) -> GrantEntry:
    for grant in grant_entries(session, exchange.client, exchange.service):
        allowed = [i for i in grant.items if i in offered]
        if wanted is None:
            exchange.items = allowed
            return grant
        if set(wanted) <= set(allowed):
            exchange.items = list(wanted)
            return grant
    raise MeshRefusal("Server.ServerProxy.AccessDenied")


_MESSAGE_ID = re.compile(r"^[\x21-\x7e]{1,200}$")


def _check_fresh(session: Session, state: _Exchange, claims: dict[str, Any]) -> None:
    """A signed request is taken once: its ``iat`` must be recent and its message id new for
    the client. Checked once the signature is, so that no one else can use up a client's ids."""
    message_id = claims.get("id")
    if not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
        raise MeshRefusal("Client.BadRequest", "id: 1-200 printable ASCII characters", field="id")
    state.message_id = message_id
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise MeshRefusal("Client.BadRequest", "iat: seconds since 1970", field="iat")
    now = time.time()
    limits = _limits
    if not now - limits.max_age_seconds <= issued <= now + limits.clock_skew_seconds:
        raise MeshRefusal("Client.StaleRequest", f"iat {issued:.0f}, now {now:.0f}")
    until = issued + limits.max_age_seconds
    if not _replays.first_use(
        state.client, message_id, until=until, now=now
    ) or records.message_used(session, state.client, message_id):
        raise MeshRefusal("Client.ReplayedRequest", message_id)


def _admit(
    session: Session,
    state: _Exchange,
    *,
    token: str,
    claims: dict[str, Any],
    body: bytes,
    service: str | None,
    client_header: str | None,
    committed: bool = False,
) -> tuple[ClientEntry, ServiceEntry]:
    """The checks before the provider is asked, in order; raises :class:`MeshRefusal`.
    ``claims`` are the token's, not yet verified (:func:`unverified_claims`); once the
    signature is, they are the client's. ``committed``: ``session`` is the gateway's own
    transaction, which reads committed rows."""
    if len(body) > _limits.max_body_bytes:
        raise MeshRefusal("Client.BodyTooLarge", f"> {_limits.max_body_bytes} bytes")
    state.client = str(claims.get("client", ""))
    if client_header is not None and client_header != state.client:
        raise MeshRefusal("Client.BadRequest", "X-Road-Client", field="X-Road-Client")
    if not _limiter.allow(state.client):
        raise MeshRefusal("Client.RateLimited")
    client = active_client(session, state.client)
    if client is None:
        raise MeshRefusal("Server.ClientProxy.UnknownClient", state.client)
    try:
        # The signed payload is the one ``claims`` were decoded from: _split and
        # unverified_claims take the same second part of a well-formed token.
        _signed_payload(token, client.certificate_pem)
    except ValueError:
        raise MeshRefusal("Client.InvalidSignature") from None
    if claims.get("bodyHash") != digest(body):
        raise MeshRefusal("Client.InvalidSignature", "bodyHash")
    _check_fresh(session, state, claims)
    state.service = str(claims.get("service", ""))
    if service is not None and service != state.service:
        raise MeshRefusal("Client.BadRequest", "service", field="service")
    svc = service_entry(session, state.service)
    if svc is None:
        raise MeshRefusal("Server.ServerProxy.UnknownService", state.service)
    state.provider_certificate = svc.provider_certificate
    # The person is looked up before the rights are checked so that a refusal can be recorded
    # where the person will see it.
    state.client_code = str(claims.get("code", ""))
    state.person_id = codes.person_for(
        session, state.client, state.client_code, committed=committed
    )
    if not svc.enabled:
        raise MeshRefusal("Server.ServerProxy.ServiceDisabled", state.service)
    wanted = claims.get("items")
    grant = _covering_grant(
        session,
        state,
        [str(i) for i in wanted] if isinstance(wanted, list) else None,
        svc.items,
    )
    state.legal_basis = f"{grant.task} ({grant.legal_basis})"
    _check_consent(session, state)
    if state.person_id is None:
        raise MeshRefusal("Server.ServerProxy.UnknownAgencyCode")
    return client, svc


def _forward(
    session: Session,
    state: _Exchange,
    *,
    claims: dict[str, Any],
    client: ClientEntry,
    svc: ServiceEntry,
    body: bytes,
    group_commit: bool = False,
) -> ProviderAnswer:
    """Ask the provider with the converted code and verify its signed answer."""
    forwarded_claims = {
        **claims,
        "id": state.message_id,
        "code": state.provider_code,
        "items": state.items,
        "legalBasis": state.legal_basis,
        "consentId": str(state.consent_id) if state.consent_id else None,
        "clientRequestHash": state.request_hash,
    }
    forwarded = sign(subsystem_key(state.client), client.certificate_pem, forwarded_claims)
    provider = state.provider_certificate
    if svc.endpoint_url is None:
        in_exchange = _exchange_session.set(session)
        try:
            reply = answer(
                _providers.get,
                token=forwarded,
                body=body,
                key=subsystem_key(svc.provider),
                certificate_pem=provider,
                ca_pem=mesh_ca_pem(),
            )
        finally:
            _exchange_session.reset(in_exchange)
    else:
        reply = call_endpoint(
            svc.endpoint_url,
            token=forwarded,
            body=body,
            method=str(claims.get("method", "POST")),
            path=str(claims.get("path", "")),
        )
    try:
        signed = verify(reply.signature, provider)
    except ValueError:
        raise MeshRefusal("Server.ServerProxy.InvalidResponseSignature") from None
    response_hash = digest(reply.body)
    if (
        signed.get("requestHash") != digest(forwarded)
        or signed.get("bodyHash") != response_hash
        or signed.get("status") != reply.status
    ):
        raise MeshRefusal("Server.ServerProxy.InvalidResponseSignature", "binding")
    state.response_hash = response_hash
    declared = signed.get("subjects")
    if declared is not None:
        state.subjects = _subjects(session, state, svc.provider, declared, group_commit)
    return reply


def _subject_list(declared: object) -> list[tuple[str, list[str]]]:
    """The (code, items) pairs of a ``subjects`` claim; ``Server.ServerProxy.ServiceFailed``
    if it is not a bounded list of codes, each with a list of item names."""
    if not isinstance(declared, list) or len(declared) > MAX_SUBJECTS:
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects")
    pairs = []
    for entry in declared:
        code = entry.get("code") if isinstance(entry, dict) else None
        items = entry.get("items") if isinstance(entry, dict) else None
        if (
            not isinstance(code, str)
            or not 0 < len(code) <= MAX_SUBJECT_TEXT
            or not isinstance(items, list)
            or not 0 < len(items) <= MAX_SUBJECT_ITEMS
            or not all(isinstance(i, str) and 0 < len(i) <= MAX_SUBJECT_TEXT for i in items)
        ):
            raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects")
        pairs.append((code, [str(i) for i in items]))
    return pairs


def _subjects(
    session: Session, state: _Exchange, provider: str, declared: object, group_commit: bool
) -> list[tuple[uuid.UUID, list[str], str]]:
    """The people an answer's ``subjects`` claim names, by the provider's own codes. A code the
    provider does not hold refuses the answer: data about someone the mesh cannot show it to
    is not released. The person the request was about is recorded already and is left out."""
    pairs = _subject_list(declared)
    found: dict[uuid.UUID, tuple[list[str], str]] = {}
    # As in _admitted: beside an idle caller, read through the gateway's own read-only session
    # so that the caller's session stays idle for the group commit.
    own = (
        session_factory(_read_engine(engine_of(session)))()
        if group_commit and _standalone(session)
        else None
    )
    reader = session if own is None else own
    try:
        for code, items in pairs:
            person = codes.person_for(reader, provider, code, committed=own is not None)
            if person is None:
                raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects: unknown code")
            if person == state.person_id:
                continue
            held = found.setdefault(person, ([], code))[0]
            held.extend(i for i in items if i not in held)
        if own is not None:
            _end(own)
    finally:
        if own is not None:
            own.close()
    return [(person, items, code) for person, (items, code) in found.items()]


def _end(own: Session) -> None:
    """Commit a session of the gateway's own if it did anything (an empty commit would begin and
    end a transaction, with its events, for nothing)."""
    if own.get_transaction() is not None:
        own.commit()


def _admitted(
    session: Session,
    state: _Exchange,
    *,
    token: str,
    body: bytes,
    service: str | None,
    client_header: str | None,
    group_commit: bool,
) -> tuple[dict[str, Any], ClientEntry, ServiceEntry]:
    """:func:`_admit`, then the provider's code for the person; returns the client's claims
    (verified), the client and the service.

    With ``group_commit`` and the caller's session idle (every HTTP request) the checks read
    through a short transaction of the gateway's own, ended before the provider is asked: most
    requests find everything in the caches and never use it, and none holds a lock (on SQLite,
    the database's write lock) while a provider answers. Otherwise they read in the caller's
    transaction, where the records will be written too."""
    claims = unverified_claims(token)
    own: Session | None = None
    if group_commit and _standalone(session):
        engine = engine_of(session)
        # A company's request takes a slot of the person's consent, a write: its checks run in
        # a short write transaction. Everything else only reads, through the read-only engine.
        writes = consent.is_company(str(claims.get("client", "")))
        own = session_factory(engine if writes else _read_engine(engine))()
    try:
        client, svc = _admit(
            session if own is None else own,
            state,
            token=token,
            claims=claims,
            body=body,
            service=service,
            client_header=client_header,
            committed=own is not None,
        )
        if own is not None:
            _end(own)
    finally:
        if own is not None:
            own.close()
    if state.person_id is not None:
        state.provider_code = (
            codes.agency_code(session, svc.provider, state.person_id)
            if own is None
            # Stored (if it is not yet) with the records, by the record writer.
            else codes.compute(svc.provider, state.person_id)
        )
    return claims, client, svc


_read_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _read_engine(engine: Engine) -> Engine:
    """An engine for the gateway's reads beside ``engine``'s writers. On SQLite, kiban's
    engines begin every transaction IMMEDIATE (taking the write lock, so that writers queue);
    a read would then wait for the record writer's commit. This one's connections are
    read-only (``query_only``) and read in autocommit, which in WAL mode never waits for a
    writer. Elsewhere reads do not lock, and the engine itself serves."""
    if engine.dialect.name != "sqlite":
        return engine
    found = _read_engines.get(engine)
    if found is None:
        found = create_engine(engine.url, connect_args={"timeout": 30})

        @event.listens_for(found, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        found = _read_engines.setdefault(engine, found)
    return found


def exchange(
    session: Session,
    *,
    token: str,
    body: bytes,
    service: str | None = None,
    client_header: str | None = None,
    group_commit: bool = False,
) -> MeshResponse:
    """Run one signed request (``token`` over ``body``) through the gateway. ``service`` and
    ``client_header`` are what the HTTP path and headers named; they must match the envelope.
    ``group_commit``: the records are made durable by the record writer before this returns,
    rather than left to the caller's commit (see :func:`_record`)."""
    started = time.perf_counter()
    request_hash = digest(token)
    state = _Exchange(
        client=client_header or "",
        service=service or "",
        message_id="",
        request_hash=request_hash,
        requested_at=clock.now(),
    )
    try:
        claims, client, svc = _admitted(
            session,
            state,
            token=token,
            body=body,
            service=service,
            client_header=client_header,
            group_commit=group_commit,
        )
        reply = _forward(
            session,
            state,
            claims=claims,
            client=client,
            svc=svc,
            body=body,
            group_commit=group_commit,
        )
    except KibanError as exc:
        # Consent refusals come from M3's module as its own errors; they travel under one
        # X-Road code.
        xroad = (
            exc.xroad_code if isinstance(exc, MeshRefusal) else "Server.ServerProxy.ConsentRequired"
        )
        _record(session, state, _refusal_outcome(exc), None, group_commit=group_commit)
        metrics.observe(f"refused:{xroad}", time.perf_counter() - started)
        return MeshResponse(
            status=exc.status,
            body={"error": exc.as_dict("en")},
            message_id=state.message_id or str(uuid.uuid4()),
            request_hash=request_hash,
            error=xroad,
            error_code=exc.code,
            message=exc.message_en,
            raw=encode_body({"error": exc.as_dict("en")}),
            service=state.service,
        )
    outcome = "ok" if 200 <= reply.status < 300 else f"error:{reply.status}"
    _record(session, state, outcome, state.response_hash, group_commit=group_commit)
    metrics.observe("ok" if outcome == "ok" else "error", time.perf_counter() - started)
    return MeshResponse(
        status=reply.status,
        body=decode_body(reply.body),
        message_id=state.message_id,
        request_hash=request_hash,
        signature=reply.signature,
        raw=reply.body,
        service=state.service,
    )


def client_request(
    *,
    client: str,
    certificate_pem: str,
    key: ed25519.Ed25519PrivateKey,
    service: str,
    path: str = "",
    method: str = "POST",
    agency_code: str,
    body: Any = None,
    items: list[str] | None = None,
    user_id: str | None = None,
    message_id: str | None = None,
) -> tuple[str, bytes]:
    """``(X-Road-Signature, body bytes)`` of a client's signed request: what a member outside
    kiban sends to ``/r1/{service}/{path}`` with ``X-Road-Client``."""
    data = encode_body(body)
    claims: dict[str, Any] = {
        "client": client,
        "service": service,
        "method": method.upper(),
        "path": path.lstrip("/"),
        "id": message_id or str(uuid.uuid4()),
        "userId": user_id,
        "code": agency_code,
        "bodyHash": digest(data),
        "iat": int(time.time()),
    }
    if items is not None:
        claims["items"] = list(items)
    return sign(key, certificate_pem, claims), data


def call(
    session: Session,
    *,
    client: str,
    service: str,
    path: str = "",
    agency_code: str,
    user_id: str | None = None,
    body: Any = None,
    items: list[str] | None = None,
    method: str = "POST",
    message_id: str | None = None,
    group_commit: bool = False,
) -> MeshResponse:
    """One exchange from an in-process client: the request is signed with the client
    subsystem's key and goes through exactly the checks of the HTTP path. ``group_commit``: as
    for :func:`exchange` (the records are durable when this returns, whatever the caller does
    with its transaction)."""
    if group_commit and _standalone(session):
        # Read beside the caller's idle session, as the exchange will (see _admitted).
        with session_factory(engine_of(session))() as own:
            entry = active_client(own, client)
            _end(own)
    else:
        entry = active_client(session, client)
    certificate = entry.certificate_pem if entry is not None else None
    if certificate is None:
        exc = MeshRefusal("Server.ClientProxy.UnknownClient", client)
        metrics.observe("refused:Server.ClientProxy.UnknownClient", 0.0)
        return MeshResponse(
            status=exc.status,
            body={"error": exc.as_dict("en")},
            message_id=message_id or str(uuid.uuid4()),
            request_hash="",
            error=exc.xroad_code,
            error_code=exc.code,
            message=exc.message_en,
        )
    token, data = client_request(
        client=client,
        certificate_pem=certificate,
        key=subsystem_key(client),
        service=service,
        path=path,
        method=method,
        agency_code=agency_code,
        body=body,
        items=items,
        user_id=user_id,
        message_id=message_id,
    )
    return exchange(session, token=token, body=data, group_commit=group_commit)


def response_headers(response: MeshResponse) -> dict[str, str]:
    """The X-Road headers of a gateway response."""
    headers = {"X-Road-Id": response.message_id, "X-Road-Request-Hash": response.request_hash}
    if response.service:
        headers["X-Road-Service"] = response.service
    if response.error is not None:
        headers["X-Road-Error"] = response.error
    if response.signature:
        headers[SIGNATURE_HEADER] = response.signature
    return headers


__all__ = [
    "REFUSALS",
    "Limits",
    "MeshResponse",
    "ProviderAnswer",
    "ProviderFn",
    "ProviderRequest",
    "ProviderResult",
    "Subject",
    "answer",
    "call",
    "call_endpoint",
    "client_request",
    "exchange",
    "get_limits",
    "metrics",
    "provider_app",
    "provider_session",
    "register_provider",
    "response_headers",
    "set_limits",
    "sign",
    "verify",
]
