"""Web assembly: ``create_app`` builds the FastAPI application (portal, office, public API)."""

from __future__ import annotations

from fastapi import FastAPI

import kiban


def create_app() -> FastAPI:
    """The kiban web application."""
    app = FastAPI(title="Kiban API", version=kiban.__version__)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
