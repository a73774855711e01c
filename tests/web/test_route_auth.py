"""Every route says who may call it (CONVENTIONS.md §3, after GOV.UK Notify).

A route must depend on one of the registered auth dependencies (``require_operator``,
``require_official``, ``public`` or a later sign-in method registered with
``webkit.auth_dependency``). Only the routes named below are exempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from kiban.platform.webkit import AUTH_DEPENDENCIES, public, require_operator
from kiban.web import create_app

# Starlette routes FastAPI and the static mounts add by themselves: the OpenAPI document, the
# Swagger UI and its OAuth redirect page, the stylesheet and other static files, and Swagger
# UI's files for /docs (kiban.web.docs).
EXEMPT_ROUTE_NAMES = {"openapi", "swagger_ui_html", "swagger_ui_redirect", "static", "docs-assets"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def routes_without_auth(app: FastAPI) -> list[str]:
    """``METHODS path`` of every route that has no auth dependency and is not exempt."""
    unguarded = []
    # FastAPI keeps included routers as branches; the contexts are the routes as served, with
    # the dependencies of every enclosing router included.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            if not AUTH_DEPENDENCIES.intersection(_calls(route.dependant)):
                unguarded.append(f"{','.join(sorted(route.methods or ()))} {route.path}")
        elif route.name not in EXEMPT_ROUTE_NAMES:
            unguarded.append(f"{type(route.original_route).__name__} {route.path}")
    return unguarded


def test_every_route_has_an_auth_dependency() -> None:
    assert routes_without_auth(create_app()) == []


def test_the_check_catches_an_unguarded_route() -> None:
    app = create_app()

    @app.get("/forgotten")
    def forgotten() -> None: ...

    app.add_route("/raw", lambda request: None)
    guarded = APIRouter(dependencies=[Depends(public)])
    unguarded = APIRouter()

    @guarded.get("/ok")
    @unguarded.get("/not-ok")
    def handler() -> None: ...

    app.include_router(guarded, prefix="/nested")
    app.include_router(unguarded, prefix="/nested")

    assert routes_without_auth(app) == ["GET /forgotten", "Route /raw", "GET /nested/not-ok"]


def test_router_level_auth_counts() -> None:
    app = create_app()
    router = APIRouter()

    @router.get("/ops")
    def ops() -> None: ...

    app.include_router(router, prefix="/api", dependencies=[Depends(require_operator)])

    assert routes_without_auth(app) == []
