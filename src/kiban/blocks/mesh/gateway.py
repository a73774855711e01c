"""The gateway: one exchange between a client subsystem and a provider's service.

The protocol, the same in process and over HTTP:

1. The client signs a request envelope (compact JWS, Ed25519, the subsystem's key, its
   certificate in ``x5c``) naming itself, the service, method, path, message id, user id, its own
   agency code for the person, the data items wanted and the SHA-256 of the body. Over HTTP the
   envelope travels in ``X-Road-Signature`` beside the body; ``X-Road-Client`` must name the
   same client.
2. The gateway checks, in order: body size, the client's rate, the client is known and active,
   the signature (against the certificate the mesh issued), that the request is fresh (``iat``
   within two minutes) and its message id new for the client (no replay: the id is claimed by a
   unique insert that holds across processes), the service exists and is enabled,
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

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes, consent, records
from kiban.blocks.mesh.answer_subjects import _subjects
from kiban.blocks.mesh.errors import REFUSALS, MeshRefusal
from kiban.blocks.mesh.guards import (
    Limits,
    ReplayGuard,
    get_limits,
    metrics,
    rate_limiter,
    replay_guard,
    set_limits,
)
from kiban.blocks.mesh.own_sessions import _end, _idle, _read_engine, _standalone
from kiban.blocks.mesh.provider import (
    MAX_SUBJECT_ITEMS,
    MAX_SUBJECT_TEXT,
    MAX_SUBJECTS,
    ProviderAnswer,
    ProviderFn,
    ProviderRequest,
    ProviderResult,
    Subject,
    answer,
    exchange_session,
    provider_app,
    provider_session,
    providers,
    register_provider,
    unregister_provider,
)
from kiban.blocks.mesh.replay import claim_message
from kiban.blocks.mesh.service import (
    ClientEntry,
    GrantEntry,
    ServiceEntry,
    active_client,
    engine_of,
    grant_entries,
    member_of,
    service_entry,
    subsystem_key,
)
from kiban.blocks.mesh.service import (
    ca_pem as mesh_ca_pem,
)
from kiban.blocks.mesh.signing import (
    ALG,
    JSON_TYPE,
    SIGNATURE_HEADER,
    decode_body,
    digest,
    encode_body,
    sign,
    signed_payload,
    unverified_claims,
    verify,
    verify_with_ca,
)
from kiban.blocks.mesh.transport import call_endpoint, close_http
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.db import session_factory

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
    standalone = group_commit and _standalone(session)
    pair, named = _record_rows(session, exchange, outcome, response_hash, standalone=standalone)
    _write_records(session, pair, named, standalone=standalone)


def _write_records(
    session: Session,
    pair: list[records.AccessRecordCreate],
    named: list[tuple[str, str, uuid.UUID]],
    *,
    standalone: bool,
) -> None:
    """Write records made by :func:`_record_rows`: through the record writer beside an idle
    caller (``standalone``), in the caller's transaction otherwise."""
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


def _record_rows(
    session: Session,
    exchange: _Exchange,
    outcome: str,
    response_hash: str | None,
    *,
    standalone: bool,
) -> tuple[list[records.AccessRecordCreate], list[tuple[str, str, uuid.UUID]]]:
    """Both sides' records of an exchange whose person is known, with the (member, code,
    person) of every code they name."""
    assert exchange.person_id is not None  # noqa: S101 - the callers check.
    provider = exchange.service.rsplit("/", 1)[0]
    provided_at = clock.now() if outcome == "ok" else None
    person = exchange.person_id
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
    return pair, named


def _check_consent(session: Session, exchange: _Exchange) -> None:
    """Company clients need the person's consent in force for the items."""
    if member_of(exchange.client).split("/")[1] != "COM":
        return
    if exchange.person_id is None:
        return
    exchange.consent_id = consent.check_consent(
        session, person_id=exchange.person_id, company=exchange.client, items=exchange.items
    )


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


def _check_fresh(caller: Session, state: _Exchange, claims: dict[str, Any]) -> None:
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
    limits = get_limits()
    if not now - limits.max_age_seconds <= issued <= now + limits.clock_skew_seconds:
        raise MeshRefusal("Client.StaleRequest", f"iat {issued:.0f}, now {now:.0f}")
    until = issued + limits.max_age_seconds
    # The process's memory refuses most replays without a query; the unique insert settles
    # every other, in whichever process it was taken (see kiban.blocks.mesh.replay).
    if not replay_guard.first_use(
        state.client, message_id, until=until, now=now
    ) or not claim_message(caller, engine_of(caller), state.client, message_id, expires_at=until):
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
    caller: Session,
    committed: bool = False,
) -> tuple[ClientEntry, ServiceEntry]:
    """The checks before the provider is asked, in order; raises :class:`MeshRefusal`.
    ``claims`` are the token's, not yet verified (:func:`unverified_claims`); once the
    signature is, they are the client's. ``committed``: ``session`` is the gateway's own
    transaction, which reads committed rows."""
    client, svc = _admit_request(
        session,
        state,
        token=token,
        claims=claims,
        body=body,
        service=service,
        client_header=client_header,
        caller=caller,
    )
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


def _admit_request(
    session: Session,
    state: _Exchange,
    *,
    token: str,
    claims: dict[str, Any],
    body: bytes,
    service: str | None,
    client_header: str | None,
    caller: Session,
) -> tuple[ClientEntry, ServiceEntry]:
    """The checks of a request as a whole, single or batch: size, client, rate, signature,
    freshness and replay, and the service named; raises :class:`MeshRefusal`."""
    if len(body) > get_limits().max_body_bytes:
        raise MeshRefusal("Client.BodyTooLarge", f"> {get_limits().max_body_bytes} bytes")
    state.client = str(claims.get("client", ""))
    if client_header is not None and client_header != state.client:
        raise MeshRefusal("Client.BadRequest", "X-Road-Client", field="X-Road-Client")
    if not rate_limiter.allow(state.client):
        raise MeshRefusal("Client.RateLimited")
    client = active_client(session, state.client)
    if client is None:
        raise MeshRefusal("Server.ClientProxy.UnknownClient", state.client)
    try:
        # The signed payload is the one ``claims`` were decoded from: _split and
        # unverified_claims take the same second part of a well-formed token.
        signed_payload(token, client.certificate_pem)
    except ValueError:
        raise MeshRefusal("Client.InvalidSignature") from None
    if claims.get("bodyHash") != digest(body):
        raise MeshRefusal("Client.InvalidSignature", "bodyHash")
    _check_fresh(caller, state, claims)
    state.service = str(claims.get("service", ""))
    if service is not None and service != state.service:
        raise MeshRefusal("Client.BadRequest", "service", field="service")
    svc = service_entry(session, state.service)
    if svc is None:
        raise MeshRefusal("Server.ServerProxy.UnknownService", state.service)
    state.provider_certificate = svc.provider_certificate
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
        in_exchange = exchange_session.set(session)
        try:
            reply = answer(
                providers.get,
                token=forwarded,
                body=body,
                key=subsystem_key(svc.provider),
                certificate_pem=provider,
                ca_pem=mesh_ca_pem(),
            )
        finally:
            exchange_session.reset(in_exchange)
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
    writes = False
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
            # The replay claim is a write: in the gateway's write transaction when it has one
            # (on SQLite a second connection would wait for its lock), beside it otherwise.
            caller=own if own is not None and writes else session,
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
    "ALG",
    "JSON_TYPE",
    "MAX_SUBJECTS",
    "MAX_SUBJECT_ITEMS",
    "MAX_SUBJECT_TEXT",
    "REFUSALS",
    "SIGNATURE_HEADER",
    "Limits",
    "MeshResponse",
    "ProviderAnswer",
    "ProviderFn",
    "ProviderRequest",
    "ProviderResult",
    "ReplayGuard",
    "Subject",
    "answer",
    "call",
    "call_endpoint",
    "client_request",
    "close_http",
    "decode_body",
    "digest",
    "encode_body",
    "exchange",
    "get_limits",
    "metrics",
    "provider_app",
    "provider_session",
    "register_provider",
    "response_headers",
    "set_limits",
    "sign",
    "unregister_provider",
    "unverified_claims",
    "verify",
    "verify_with_ca",
]
