"""``kiban serve``: serve the web application with uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from kiban.platform.settings import PlaceholderSecret, get_settings, refuse_placeholder_secrets


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve portal, office, dashboard and the public API.

    Refuses to start with a published placeholder secret unless bound to a loopback address
    in a development or test run.
    """
    try:
        refuse_placeholder_secrets(get_settings(), host)
    except PlaceholderSecret as exc:
        typer.echo(f"kiban serve: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run("kiban.web:create_app", factory=True, host=host, port=port)
