"""HTTP of the mesh core: the gateway (``/r1/...``), the directory and the metrics.

- ``/r1/{instance}/{class}/{member}/{subsystem}/{service}/{path}`` — the gateway in X-Road's
  REST style. Requires ``X-Road-Client`` and ``X-Road-Signature`` (the client's signed request
  envelope, see :mod:`kiban.blocks.mesh.gateway`); ``X-Road-Id`` and ``X-Road-UserId`` are
  optional and, when given, must match the envelope. The route is public at the HTTP level
  because the signature is the authentication: a request the client's certificate does not
  verify is refused. Answers carry ``X-Road-Id``, ``X-Road-Request-Hash``, the provider's
  ``X-Road-Signature``, and ``X-Road-Error`` on a refusal.
- ``/api/v1/mesh/directory/...`` — GovStack Information Mediator's directory calls
  (``listClients``, ``listMethods``, ``allowedMethods``, ``getOpenAPI``). Public, like X-Road's
  global configuration: members, certificates, services and the grants (which name published
  legal bases) are what every member needs to know to talk to the others.
- ``/api/v1/mesh/metrics`` — Prometheus text; operator only.
"""

from __future__ import annotations

import asyncio
import functools
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kiban.blocks.mesh import core, gateway
from kiban.blocks.mesh.errors import REFUSALS, MeshRefusal
from kiban.blocks.mesh.schemas import DirectoryClient, DirectoryMethod
from kiban.blocks.mesh.service import SERVICE_ID, SUBSYSTEM_ID
from kiban.kernel.errors import KibanError
from kiban.platform.authority import NATIONAL, Acting, authorize
from kiban.platform.db import get_engine, session_factory
from kiban.platform.webkit import DbSession, language_of, public

router = APIRouter(tags=["mesh"])
directory = APIRouter(
    prefix="/api/v1/mesh/directory", tags=["mesh"], dependencies=[Depends(public)]
)
JSON_TYPE = "application/json"


def _refusal(exc: MeshRefusal, message_id: str = "") -> Response:
    response = gateway.MeshResponse(
        status=exc.status,
        body=None,
        message_id=message_id,
        request_hash="",
        error=exc.xroad_code,
        error_code=exc.code,
        message=exc.message_en,
    )
    return Response(
        gateway.encode_body({"error": exc.as_dict("en")}),
        status_code=exc.status,
        media_type=JSON_TYPE,
        headers=gateway.response_headers(response),
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise MeshRefusal("Client.BodyTooLarge", f"> {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MeshRefusal("Client.BodyTooLarge", f"> {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_headers(request: Request, claims: dict[str, Any], path: str) -> None:
    given_id = request.headers.get("x-road-id")
    if given_id is not None and given_id != claims.get("id"):
        raise MeshRefusal("Client.BadRequest", "X-Road-Id", field="X-Road-Id")
    given_user = request.headers.get("x-road-userid")
    if given_user is not None and given_user != claims.get("userId"):
        raise MeshRefusal("Client.BadRequest", "X-Road-UserId", field="X-Road-UserId")
    if str(claims.get("method", "")).upper() != request.method:
        raise MeshRefusal("Client.BadRequest", "method", field="method")
    if str(claims.get("path", "")) != path:
        raise MeshRefusal("Client.BadRequest", "path", field="path")


@functools.cache
def _workers() -> ThreadPoolExecutor:
    # The gateway's own threads for the blocking exchange: asyncio's executor hand-off costs a
    # fraction of anyio's, which the gateway paid on every request. (Nothing the exchange needs
    # lives in the request's context variables.)
    return ThreadPoolExecutor(max_workers=40, thread_name_prefix="mesh-gateway")


def _exchange(**kwargs: Any) -> gateway.MeshResponse:
    # The unit of work is opened in the worker thread, not as a dependency: FastAPI would run a
    # sync dependency's entry and exit in two more trips through the thread pool. The exchange
    # leaves it idle (its records go through the group commit) unless it must write in it; it
    # commits before the response is sent either way. An idle session is only closed: a commit
    # would begin and end an empty transaction, with its events.
    with session_factory(get_engine())() as session:
        result = gateway.exchange(session, **kwargs)
        if session.get_transaction() is not None:
            session.commit()
        return result


async def _answer(request: Request, service: str, path: str) -> Response:
    """Forward one signed request to ``service``, with every check of the mesh."""
    client = request.headers.get("x-road-client")
    token = request.headers.get(gateway.SIGNATURE_HEADER.lower())
    try:
        if not client:
            raise MeshRefusal("Client.BadRequest", "X-Road-Client", field="X-Road-Client")
        if not token:
            raise MeshRefusal("Client.InvalidSignature", "X-Road-Signature")
        body = await _read_body(request, gateway.get_limits().max_body_bytes)
        _check_headers(request, gateway.unverified_claims(token), path)
    except MeshRefusal as exc:
        gateway.metrics.observe(f"refused:{exc.xroad_code}", 0.0)
        return _refusal(exc, request.headers.get("x-road-id", ""))
    call = functools.partial(
        _exchange,
        token=token,
        body=body,
        service=service,
        client_header=client,
        group_commit=True,
    )
    result = await asyncio.get_running_loop().run_in_executor(_workers(), call)
    # The records are durable before this response is sent: committed by the record writer's
    # group commit when the exchange returns, or with the unit of work of _exchange.
    return Response(
        result.raw,
        status_code=result.status,
        media_type=JSON_TYPE,
        headers=gateway.response_headers(result),
    )


async def gateway_route(
    request: Request,
    instance: str,
    member_class: str,
    member_code: str,
    subsystem_code: str,
    service_code: str,
    path: str = "",
) -> Response:
    """Forward one signed request to the provider's service, with every check of the mesh."""
    service = f"{instance}/{member_class}/{member_code}/{subsystem_code}/{service_code}"
    return await _answer(request, service, path)


_GATEWAY_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE"))
_GATEWAY_PATH = re.compile(r"^/r1/([^/]+)/([^/]+)/([^/]+)/([^/]+)/([^/]+)(?:/(.*))?$")


class GatewayMiddleware:
    """Answers ``/r1/...`` before the application's routing, with :func:`gateway_route`'s
    behaviour exactly (the routes below stay, for the OpenAPI description and for an app built
    without this middleware). Matching a path against every route of kiban and solving the
    route's dependencies cost the gateway about a quarter of its time a request; the gateway
    needs neither (its route is public, the signature is the authentication)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _GATEWAY_METHODS:
            match = _GATEWAY_PATH.match(scope["path"])
            if match is not None:
                request = Request(scope, receive)
                try:
                    response = await _answer(request, "/".join(match.groups()[:5]), match[6] or "")
                except KibanError as exc:
                    response = JSONResponse(
                        {"error": exc.as_dict(language_of(request))}, status_code=exc.status
                    )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# One route per method and path, so that every operation has its own OpenAPI operation id.
_GATEWAY_PATHS = (
    (
        "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}/{service_code}",
        "",
        "The mesh gateway (X-Road REST style), no sub-path",
    ),
    (
        "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}/{service_code}/{path:path}",
        "_path",
        "The mesh gateway (X-Road REST style)",
    ),
)
# What the gateway takes and answers, for the OpenAPI description (GatewayMiddleware answers).
_GATEWAY_HEADERS = [
    {
        "name": "X-Road-Client",
        "in": "header",
        "required": True,
        "description": "The calling subsystem, e.g. JP/GOV/00001/pension",
        "schema": {
            "type": "string",
            "pattern": r"^[A-Z]{2}/[A-Z]{3}/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$",
        },
    },
    {
        "name": gateway.SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "The request signed by the client (compact JWS, EdDSA)",
        "schema": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        },
    },
]
_GATEWAY_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": ", ".join(
            f"`{code}` ({xroad})" for xroad, (code, s, _, _) in REFUSALS.items() if s == status
        )
        + "; the X-Road code is in the `X-Road-Error` header",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for status in sorted({refusal[1] for refusal in REFUSALS.values()})
}
for _path, _suffix, _summary in _GATEWAY_PATHS:
    for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        router.add_api_route(
            _path,
            gateway_route,
            methods=[_method],
            summary=_summary,
            dependencies=[Depends(public)],
            response_class=Response,
            operation_id=f"mesh_gateway_{_method.lower()}{_suffix}",
            responses=_GATEWAY_RESPONSES,
            openapi_extra={"parameters": _GATEWAY_HEADERS},
        )


@router.get(
    "/api/v1/mesh/metrics",
    summary="Gateway metrics (Prometheus text)",
    response_class=Response,
)
def metrics(session: DbSession, actor: Acting) -> Response:
    """Needs `mesh.metrics.read` (kiban's operator)."""
    authorize(session, actor, "mesh.metrics.read", organisation=NATIONAL)
    return Response(core.metrics_text(), media_type="text/plain; version=0.0.4")


@directory.get("/listClients", summary="Members and subsystems")
def list_clients(session: DbSession) -> list[DirectoryClient]:
    return core.list_clients(session)


@directory.get("/listMethods", summary="Services of a provider subsystem (or all)")
def list_methods(
    session: DbSession,
    service: Annotated[
        str | None,
        Query(
            pattern=SUBSYSTEM_ID.pattern,
            description="A provider subsystem id, e.g. JP/GOV/00001/pension",
        ),
    ] = None,
) -> list[DirectoryMethod]:
    return core.list_methods(session, service)


@directory.get("/allowedMethods", summary="Services a client may call, with its items")
def allowed_methods(
    session: DbSession,
    client: Annotated[
        str, Query(pattern=SUBSYSTEM_ID.pattern, description="A client subsystem id")
    ],
) -> list[DirectoryMethod]:
    return core.allowed_methods(session, client)


@directory.get(
    "/getOpenAPI",
    summary="A service's OpenAPI description",
    responses={404: {"description": "No such service: `mesh.service_not_found`"}},
)
def get_openapi(
    session: DbSession,
    service: Annotated[
        str,
        Query(
            pattern=SERVICE_ID.pattern,
            description="A service id, e.g. JP/GOV/00001/pension/records",
        ),
    ],
) -> dict[str, Any]:
    return core.get_openapi(session, service)


router.include_router(directory)
