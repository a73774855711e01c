"""``kiban serve``: serve the web application with uvicorn.

The public base URL (``KIBAN_BASE_URL``) is what every absolute URL kiban hands out is built
from: the OpenID issuer and redirect URIs, and the CRL, OCSP and CA-issuer URLs baked into
each card's certificates at issuance. So the server and the URL agree:

- without ``--port``, kiban listens on the base URL's port (8000 when it names none);
- with a ``--port`` and no configured base URL, the base URL becomes ``http://HOST:PORT``;
- with both configured and different, kiban says so, since certificates issued under that base
  URL point at a port this server does not listen on.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import typer
import uvicorn

from kiban.platform.access_log import log_config
from kiban.platform.settings import PlaceholderSecret, get_settings, refuse_placeholder_secrets

DEFAULT_PORT = 8000


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(
        None, help="Port to listen on (default: the port of KIBAN_BASE_URL, else 8000)."
    ),
    workers: int = typer.Option(
        1,
        min=1,
        help="Worker processes answering on one port (sessions live in the database, so any "
        "worker serves any request).",
    ),
) -> None:
    """Serve portal, office, dashboard and the public API. The access log shows each request's
    path without its query string.

    Refuses to start with a published placeholder secret unless bound to a loopback address
    in a development or test run.
    """
    settings = get_settings()
    try:
        refuse_placeholder_secrets(settings, host)
    except PlaceholderSecret as exc:
        typer.echo(f"kiban serve: {exc}", err=True)
        raise typer.Exit(2) from None
    configured = "base_url" in settings.model_fields_set
    base_port = urlsplit(settings.base_url).port
    if port is None:
        port = base_port if configured and base_port else DEFAULT_PORT
    if not configured:
        # Every process that issues certificates must see the same value: set it for this one
        # (and its children), and tell the operator to export it for the others.
        os.environ["KIBAN_BASE_URL"] = f"http://{_url_host(host)}:{port}"
        get_settings.cache_clear()
    elif base_port is not None and base_port != port:
        typer.echo(
            f"warning: KIBAN_BASE_URL is {settings.base_url} but kiban listens on port {port}: "
            "certificates and sign-in links point at the base URL / "
            "KIBAN_BASE_URL とポートが一致しません",
            err=True,
        )
    base_url = get_settings().base_url
    typer.echo(f"kiban on http://{_url_host(host)}:{port}/ (public base URL {base_url})")
    uvicorn.run(
        "kiban.web:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(),
    )
