"""The provider side of an exchange: a provider's handler, the checks it runs on a forwarded
request (:func:`answer`, or :func:`provider_app` for a provider in another process) and the
in-process provider registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.orm import Session

from kiban.blocks.mesh.service import (
    parse_service_id,
)
from kiban.blocks.mesh.signing import (
    JSON_TYPE,
    SIGNATURE_HEADER,
    decode_body,
    digest,
    encode_body,
    sign,
    verify_with_ca,
)
from kiban.kernel.errors import KibanError

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

ManyFn = Callable[[Sequence[ProviderRequest]], Sequence[Any]]
"""A batch handler: the answers to a batch's requests, one per request in order, each what a
:data:`ProviderFn` would return (an error as ``(status, body)``). It lets a provider read its
data for many people at once; it must answer each request exactly as its single handler would."""

many_providers: dict[str, ManyFn] = {}

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
    many_for: Callable[[str], ManyFn | None] | None = None,
) -> ProviderAnswer:
    """Check a mesh request (certificate, signature, body hash), run the handler of its service
    and sign the answer. Every answer is signed, refusals included, and binds the request hash."""
    request_hash = digest(token)
    message_id = ""
    subjects: Sequence[Subject] = ()
    result: Any
    try:
        signer, claims = verify_with_ca(token, ca_pem)
        message_id = str(claims.get("id", ""))
        if signer != claims.get("client") or claims.get("bodyHash") != digest(body):
            raise ValueError("claims do not match the signer or the body")
        handler = handler_for(str(claims["service"]))
        if handler is None:
            status, result = 404, {"error": "Server.ServerProxy.UnknownService"}
        elif "batch" in claims:
            many = None if many_for is None else many_for(str(claims["service"]))
            status, result = 200, {"results": _batch(handler, many, signer, claims, body)}
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


def _outcome(handler: ProviderFn, request: ProviderRequest) -> tuple[int, Any]:
    """One subject's ``(status, body)`` from a batch's handler call. A handler that discloses
    other people (``subjects``) is not answered in a batch: their records would need claims per
    subject, which the batch answer does not carry, and no data leaves without its records."""
    try:
        outcome = handler(request)
    except KibanError as exc:
        return exc.status, {"error": exc.code, "message": exc.message_en}
    return _settled(outcome)


def _settled(outcome: Any) -> tuple[int, Any]:
    """``(status, body)`` of what a handler returned, for one subject of a batch."""
    if isinstance(outcome, ProviderResult):
        if outcome.subjects:
            return 502, {"error": "Server.ServerProxy.ServiceFailed", "message": "subjects"}
        return int(outcome.status), outcome.body
    if isinstance(outcome, tuple):
        return int(outcome[0]), outcome[1]
    return 200, outcome


def _batch(
    handler: ProviderFn,
    many: ManyFn | None,
    signer: str,
    claims: Mapping[str, Any],
    body: bytes,
) -> list[dict[str, Any]]:
    """The answers to a batch request, one per subject in the request's order: the provider's
    code, the status and the body the handler gave for that subject alone."""
    entries = claims["batch"]
    if not isinstance(entries, list):
        raise ValueError("batch")
    decoded = decode_body(body)
    requests = [
        ProviderRequest(
            service=str(claims["service"]),
            client=signer,
            method=str(claims["method"]),
            path=str(claims["path"]),
            message_id=str(claims.get("id", "")),
            user_id=claims.get("userId"),
            agency_code=str(entry["code"]),
            items=[str(i) for i in entry.get("items", claims.get("items", []))],
            body=decoded,
            legal_basis=entry.get("legalBasis", claims.get("legalBasis")),
            consent_id=entry.get("consentId"),
        )
        for entry in entries
    ]
    if many is None:
        outcomes = [_outcome(handler, request) for request in requests]
    else:
        answers = many(requests)
        if len(answers) != len(requests):
            raise ValueError("the batch handler did not answer every request")
        outcomes = [_settled(answer) for answer in answers]
    return [
        {"code": request.agency_code, "status": status, "body": result}
        for request, (status, result) in zip(requests, outcomes, strict=True)
    ]


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

providers: dict[str, ProviderFn] = {}

# In-process providers share kiban's database, so the session of the exchange they answer is
# theirs too: a second session would wait on the write lock the caller holds on SQLite. (Added
# by the reference agencies' wiring; remote providers have their own database.)
exchange_session: ContextVar[Session | None] = ContextVar("mesh_exchange_session", default=None)


def provider_session() -> Session:
    """The session of the exchange an in-process provider is answering (in its transaction)."""
    session = exchange_session.get()
    if session is None:
        raise RuntimeError("provider_session() is only available inside an in-process exchange")
    return session


def register_provider(service_id: str, handler: ProviderFn, *, many: ManyFn | None = None) -> None:
    """Serve ``service_id`` in this process with ``handler`` (registration is per process);
    ``many``, if given, answers a batch's subjects in one call (see :data:`ManyFn`)."""
    parse_service_id(service_id)
    providers[service_id] = handler
    if many is None:
        many_providers.pop(service_id, None)
    else:
        many_providers[service_id] = many


def unregister_provider(service_id: str) -> None:
    many_providers.pop(service_id, None)
    providers.pop(service_id, None)
