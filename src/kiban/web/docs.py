"""``/docs``: the OpenAPI document in Swagger UI, served from this server alone.

FastAPI's own page loads Swagger UI from a CDN, so it is blank offline, and its ``<html>`` has
no ``lang``. This page takes Swagger UI's files from the ``fastapi-offline`` package (Swagger
UI 5, which reads OpenAPI 3.1) under ``/docs/assets``, starts it from a script file (no inline
script), and wraps it in a page with a language, a title and a main landmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from kiban.platform.webkit import Lang, public
from kiban.web.templating import get_pages

ASSETS_URL: Final = "/docs/assets"
ASSETS_DIR: Final = Path(fastapi_offline.__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/docs", dependencies=[Depends(public)])
def docs(request: Request, lang: Lang) -> HTMLResponse:
    """Swagger UI for ``/openapi.json``."""
    return get_pages().render(request, lang, "docs.html", {"assets": ASSETS_URL})


def mount_assets(app: FastAPI) -> None:
    """Serve Swagger UI's files from the installed package."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
