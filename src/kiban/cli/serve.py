"""``kiban serve``: serve the web application with uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from kiban.platform.access_log import log_config


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve portal, office, dashboard and the public API. The access log shows each request's
    path without its query string."""
    uvicorn.run("kiban.web:create_app", factory=True, host=host, port=port, log_config=log_config())
