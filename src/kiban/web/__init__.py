"""Web assembly: ``create_app`` builds the FastAPI application (portal, office, public API)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

import kiban
from kiban.blocks.residents.api import router as residents_api
from kiban.platform.webkit import LanguageCookieMiddleware, install_error_handlers
from kiban.web import office, office_residents, pages
from kiban.web.templating import STATIC_DIR

DESCRIPTION = """\
Kiban (基盤) is Japan's national–local common digital infrastructure as one system: base
registries, identity, the public service mesh, online procedures and the life-event services
built from them.

Errors always have the shape `{"error": {"code", "message", "field"}}`; `code` is stable and
`message` follows the request's language (`?lang=`, the `kiban_lang` cookie, `Accept-Language`;
Japanese by default). Operator endpoints take `Authorization: Bearer <KIBAN_OPERATOR_TOKEN>`.
"""


def routers() -> list[APIRouter]:
    """Every router the application serves, in order. A new block API is added here."""
    return [
        pages.router,  # The landing page and /health.
        office.router,  # Office sign-in and home (HTML).
        office_residents.router,  # Office: residents and certificates (HTML).
        # Block APIs: kiban.blocks.<block>.api.router.
        residents_api,
    ]


def create_app() -> FastAPI:
    """The kiban web application."""
    app = FastAPI(
        title="Kiban API",
        description=DESCRIPTION,
        version=kiban.__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(LanguageCookieMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routers():
        app.include_router(router)
    return app
