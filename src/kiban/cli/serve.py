"""``kiban serve``: serve the web application with uvicorn."""

from __future__ import annotations

import typer
import uvicorn


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve portal, office, dashboard and the public API."""
    uvicorn.run("kiban.web:create_app", factory=True, host=host, port=port)
