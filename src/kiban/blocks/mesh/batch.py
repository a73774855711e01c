"""Batch exchanges: one signed request about many people, answered and recorded per person.

Enrolling a country with an agency, or catching up a subscriber, asks one service the same
question about many people. One exchange per person costs three signatures, three
verifications and a replay claim each; a batch pays them once. What must not change is what
each person sees: every subject gets the records of both sides, as a single exchange would
give them, in the same chain, under the same checkpoints and with the same inclusion proofs.

**The request.** The client signs one envelope as for a single exchange, but instead of
``code`` it carries ``batch``: a list of ``{"code": <the client's agency code>, "items": [...]}``
(``items`` optional; the envelope's ``items`` otherwise), at most :data:`MAX_BATCH` entries.
The request as a whole passes the single exchange's checks once (size, client, rate,
signature, freshness and the replay claim on its one message id, the service). Each subject
then passes the checks of a person on its own: the code must name a person, a grant must cover
its items, and a company client needs that person's consent. A subject that fails them is
refused alone (``Server.ServerProxy.AccessDenied`` and so on) and is not sent to the provider.

**The answer.** The gateway forwards one envelope signed with the client subsystem's key whose
``batch`` names each admitted subject by the provider's code, with its items, legal basis and
consent id. The provider (:func:`~kiban.blocks.mesh.provider.answer`) runs its handler once per
subject and answers ``{"results": [{"code", "status", "body"}, ...]}`` in the request's order,
signed once over the whole body. A handler's error is that subject's status; it does not fail
the batch. The gateway verifies the signature and that the results name exactly the subjects
it sent, in order; anything else refuses every subject (``Server.ServerProxy.ServiceFailed``).

**The records.** Every subject whose person is known gets a requester and a provider record:
the batch's message id and request hash, the subject's own items, legal basis and consent,
and as response hash the SHA-256 of that subject's own result (canonical JSON), so a record
commits to what was disclosed about its person and nobody else. All of a batch's records are
appended in one append of the caller's transaction. A refusal of the whole batch (a disabled
service, a bad answer) is recorded for every known subject, as a single exchange records its
refusal.

Left out: an answer that discloses other people (``subjects`` in a single answer) is refused
for that subject in a batch; batches run in the caller's transaction only (no group commit)
and are not offered over HTTP at ``/r1`` yet.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes, gateway, provider, records
from kiban.blocks.mesh.errors import MeshRefusal
from kiban.blocks.mesh.gateway import (
    _check_consent,
    _covering_grant,
    _Exchange,
    _record_rows,
    _write_records,
)
from kiban.blocks.mesh.guards import metrics
from kiban.blocks.mesh.service import (
    ClientEntry,
    ServiceEntry,
    active_client,
    subsystem_key,
)
from kiban.blocks.mesh.service import (
    ca_pem as mesh_ca_pem,
)
from kiban.blocks.mesh.signing import (
    decode_body,
    digest,
    encode_body,
    sign,
    unverified_claims,
    verify,
)
from kiban.kernel import clock
from kiban.kernel.errors import KibanError

MAX_BATCH: Final = 1000
"""The most subjects one batch request may carry."""


@dataclass(frozen=True)
class BatchSubject:
    """One person in a batch request: the client's agency code for them and, if they differ
    from the request's, the data items wanted about them."""

    code: str
    items: Sequence[str] | None = None


@dataclass
class SubjectAnswer:
    """The answer about one subject of a batch, as the client sees it."""

    code: str
    status: int
    body: Any
    error: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass
class BatchResponse:
    """The outcome of a batch: ``error`` set when the request as a whole was refused (then
    every subject carries that refusal too), otherwise one answer per subject in order."""

    status: int
    message_id: str
    request_hash: str
    answers: list[SubjectAnswer] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None
    message: str | None = None
    signature: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


def batch_request(
    *,
    client: str,
    certificate_pem: str,
    key: ed25519.Ed25519PrivateKey,
    service: str,
    subjects: Sequence[BatchSubject],
    items: list[str] | None = None,
    path: str = "",
    method: str = "POST",
    body: Any = None,
    user_id: str | None = None,
    message_id: str | None = None,
) -> tuple[str, bytes]:
    """``(signed envelope, body bytes)`` of a client's batch request."""
    data = encode_body(body)
    claims: dict[str, Any] = {
        "client": client,
        "service": service,
        "method": method.upper(),
        "path": path.lstrip("/"),
        "id": message_id or str(uuid.uuid4()),
        "userId": user_id,
        "batch": [
            {"code": s.code} | ({} if s.items is None else {"items": list(s.items)})
            for s in subjects
        ],
        "bodyHash": digest(data),
        "iat": int(time.time()),
    }
    if items is not None:
        claims["items"] = list(items)
    return sign(key, certificate_pem, claims), data


def _entries(claims: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    """The (code, items) of a batch claim; ``Client.BadRequest`` naming ``batch`` otherwise."""
    declared = claims.get("batch")
    if not isinstance(declared, list) or not 0 < len(declared) <= MAX_BATCH:
        raise MeshRefusal("Client.BadRequest", f"batch: 1-{MAX_BATCH} subjects", field="batch")
    entries: list[tuple[str, list[str] | None]] = []
    for entry in declared:
        code = entry.get("code") if isinstance(entry, dict) else None
        items = entry.get("items") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not 0 < len(code) <= 100:
            raise MeshRefusal("Client.BadRequest", "batch: code", field="batch")
        if items is not None and (
            not isinstance(items, list) or not all(isinstance(i, str) for i in items)
        ):
            raise MeshRefusal("Client.BadRequest", "batch: items", field="batch")
        entries.append((code, None if items is None else [str(i) for i in items]))
    return entries


def _refused(exc: KibanError) -> tuple[str, str]:
    xroad = exc.xroad_code if isinstance(exc, MeshRefusal) else "Server.ServerProxy.ConsentRequired"
    return xroad, f"refused:{exc.code}"


def exchange_batch(
    session: Session,
    *,
    token: str,
    body: bytes,
    service: str | None = None,
    client_header: str | None = None,
) -> BatchResponse:
    """Run one signed batch request through the gateway, in the caller's transaction (the
    records commit with it). See the module for the protocol."""
    started = time.perf_counter()
    request_hash = digest(token)
    whole = _Exchange(
        client=client_header or "",
        service=service or "",
        message_id="",
        request_hash=request_hash,
        requested_at=clock.now(),
    )
    claims = unverified_claims(token)
    try:
        client, svc = gateway._admit_request(
            session,
            whole,
            token=token,
            claims=claims,
            body=body,
            service=service,
            client_header=client_header,
            caller=session,
        )
        entries = _entries(claims)
    except KibanError as exc:
        xroad, _ = _refused(exc)
        metrics.observe(f"refused:{xroad}", time.perf_counter() - started)
        return BatchResponse(
            status=exc.status,
            message_id=whole.message_id or str(uuid.uuid4()),
            request_hash=request_hash,
            error=xroad,
            error_code=exc.code,
            message=exc.message_en,
        )
    wanted = claims.get("items")
    default_items = [str(i) for i in wanted] if isinstance(wanted, list) else None
    states: list[_Exchange] = []
    answers: list[SubjectAnswer] = []
    outcomes: list[str | None] = []
    admitted: list[int] = []
    # The people and the provider's codes are read and stored for the whole batch at once.
    people = codes.people_for(session, whole.client, [code for code, _ in entries])
    for code, items in entries:
        state = _Exchange(
            client=whole.client,
            service=whole.service,
            message_id=whole.message_id,
            request_hash=request_hash,
            requested_at=whole.requested_at,
            client_code=code,
        )
        state.provider_certificate = whole.provider_certificate
        states.append(state)
        try:
            state.person_id = people.get(code)
            _admit_subject(session, state, svc, items if items is not None else default_items)
        except KibanError as exc:
            xroad, outcome = _refused(exc)
            answers.append(SubjectAnswer(code, exc.status, None, xroad, exc.message_en))
            outcomes.append(outcome)
            continue
        answers.append(SubjectAnswer(code, 0, None))
        outcomes.append(None)
        admitted.append(len(states) - 1)
    signature: str | None = None
    if admitted:
        _provider_codes(session, [states[i] for i in admitted], svc)
        try:
            signature, results = _forward(
                session,
                [states[i] for i in admitted],
                claims=claims,
                client=client,
                svc=svc,
                body=body,
            )
        except MeshRefusal as exc:
            xroad, outcome = _refused(exc)
            for i in admitted:
                answers[i] = SubjectAnswer(answers[i].code, exc.status, None, xroad, exc.message_en)
                outcomes[i] = outcome
        else:
            for i, result in zip(admitted, results, strict=True):
                status = int(result["status"])
                answers[i].status = status
                answers[i].body = result["body"]
                states[i].response_hash = digest(encode_body(result))
                outcomes[i] = "ok" if 200 <= status < 300 else f"error:{status}"
    _record_batch(session, states, outcomes)
    metrics.observe("batch", time.perf_counter() - started)
    return BatchResponse(
        status=200,
        message_id=whole.message_id,
        request_hash=request_hash,
        answers=answers,
        signature=signature,
    )


def _provider_codes(session: Session, admitted: list[_Exchange], svc: ServiceEntry) -> None:
    """The provider's codes of the admitted subjects (each has a person), made and stored at
    once."""
    persons = [p for state in admitted if (p := state.person_id) is not None]
    made = codes.agency_codes(session, svc.provider, persons)
    for state, code in zip(admitted, made, strict=True):
        state.provider_code = code


def _record_batch(session: Session, states: list[_Exchange], outcomes: list[str | None]) -> None:
    """Both sides' records of every subject whose person is known, in one append."""
    rows: list[records.AccessRecordCreate] = []
    named: list[tuple[str, str, uuid.UUID]] = []
    for state, done in zip(states, outcomes, strict=True):
        if state.person_id is None or done is None:
            continue
        pair, names = _record_rows(session, state, done, state.response_hash, standalone=False)
        rows += pair
        named += names
    _write_records(session, rows, named, standalone=False)


def _admit_subject(
    session: Session, state: _Exchange, svc: ServiceEntry, wanted: list[str] | None
) -> None:
    """The checks of one person in a batch, as a single exchange makes them; raises."""
    if not svc.enabled:
        raise MeshRefusal("Server.ServerProxy.ServiceDisabled", state.service)
    grant = _covering_grant(session, state, wanted, svc.items)
    state.legal_basis = f"{grant.task} ({grant.legal_basis})"
    _check_consent(session, state)
    if state.person_id is None:
        raise MeshRefusal("Server.ServerProxy.UnknownAgencyCode")


def _forward(
    session: Session,
    admitted: list[_Exchange],
    *,
    claims: dict[str, Any],
    client: ClientEntry,
    svc: ServiceEntry,
    body: bytes,
) -> tuple[str, list[dict[str, Any]]]:
    """Ask the provider about the admitted subjects in one signed envelope; verify its signed
    answer and that its results name exactly those subjects, in order."""
    first = admitted[0]
    forwarded_claims = {
        **{k: v for k, v in claims.items() if k != "batch"},
        "batch": [
            {
                "code": s.provider_code,
                "items": s.items,
                "legalBasis": s.legal_basis,
                "consentId": str(s.consent_id) if s.consent_id else None,
            }
            for s in admitted
        ],
        "items": first.items,
        "legalBasis": first.legal_basis,
        "clientRequestHash": first.request_hash,
    }
    forwarded = sign(subsystem_key(first.client), client.certificate_pem, forwarded_claims)
    certificate = first.provider_certificate
    if svc.endpoint_url is None:
        in_exchange = provider.exchange_session.set(session)
        try:
            reply = gateway.answer(
                provider.providers.get,
                token=forwarded,
                body=body,
                key=subsystem_key(svc.provider),
                certificate_pem=certificate,
                ca_pem=mesh_ca_pem(),
                many_for=provider.many_providers.get,
            )
        finally:
            provider.exchange_session.reset(in_exchange)
    else:
        reply = gateway.call_endpoint(
            svc.endpoint_url,
            token=forwarded,
            body=body,
            method=str(claims.get("method", "POST")),
            path=str(claims.get("path", "")),
        )
    try:
        signed = verify(reply.signature, certificate)
    except ValueError:
        raise MeshRefusal("Server.ServerProxy.InvalidResponseSignature") from None
    if (
        signed.get("requestHash") != digest(forwarded)
        or signed.get("bodyHash") != digest(reply.body)
        or signed.get("status") != reply.status
    ):
        raise MeshRefusal("Server.ServerProxy.InvalidResponseSignature", "binding")
    answer = decode_body(reply.body)
    results = answer.get("results") if isinstance(answer, dict) else None
    if (
        reply.status != 200
        or not isinstance(results, list)
        or len(results) != len(admitted)
        or any(
            not isinstance(r, dict)
            or r.get("code") != s.provider_code
            or not isinstance(r.get("status"), int)
            for r, s in zip(results, admitted, strict=False)
        )
    ):
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", "batch results")
    return reply.signature, results


def call_batch(
    session: Session,
    *,
    client: str,
    service: str,
    subjects: Sequence[BatchSubject],
    items: list[str] | None = None,
    path: str = "",
    body: Any = None,
    method: str = "POST",
    user_id: str | None = None,
    message_id: str | None = None,
) -> BatchResponse:
    """A batch from an in-process client, signed with the client subsystem's key; it goes
    through exactly the checks of :func:`exchange_batch`."""
    entry = active_client(session, client)
    if entry is None:
        exc = MeshRefusal("Server.ClientProxy.UnknownClient", client)
        return BatchResponse(
            status=exc.status,
            message_id=message_id or str(uuid.uuid4()),
            request_hash="",
            error=exc.xroad_code,
            error_code=exc.code,
            message=exc.message_en,
        )
    token, data = batch_request(
        client=client,
        certificate_pem=entry.certificate_pem,
        key=subsystem_key(client),
        service=service,
        subjects=subjects,
        items=items,
        path=path,
        method=method,
        body=body,
        user_id=user_id,
        message_id=message_id,
    )
    return exchange_batch(session, token=token, body=data)


__all__ = [
    "MAX_BATCH",
    "BatchResponse",
    "BatchSubject",
    "SubjectAnswer",
    "batch_request",
    "call_batch",
    "exchange_batch",
]
