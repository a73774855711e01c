"""What ``kiban card-reader serve`` and ``kiban wallet serve`` share: the kiban server's origin
checked, a warning when the program would listen beyond loopback, the host names it answers
to, and the server run."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console

from kiban.cli.output import fail
from kiban.platform.localapp import LOOPBACK_HOSTS, normalize_origin
from kiban.platform.settings import get_settings

SERVER_OPTION = typer.Option(
    None, "--server", help="The kiban server's origin (default: KIBAN_BASE_URL)."
)
HOST_OPTION = typer.Option("127.0.0.1", help="Interface to listen on (keep it loopback).")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_origin(server: str | None) -> str:
    """``--server`` (or ``KIBAN_BASE_URL``) as an origin; exits naming the option otherwise."""
    try:
        return normalize_origin(server or get_settings().base_url)
    except ValueError:
        fail(
            "サーバーは http(s)://ホスト[:ポート] の形で指定してください。",
            "give the server as http(s)://host[:port]",
            "server",
        )


def serve_local_program(
    make_app: Callable[[Sequence[str]], FastAPI],
    *,
    host: str,
    port: int,
    pages: str,
    started: str,
) -> None:
    """Run the program's application ``make_app(allowed_hosts)`` on ``host:port``. ``pages``
    names what a listener beyond loopback exposes; ``started`` is the line printed first."""
    if not is_loopback(host):
        # The PIN pages belong on the resident's own machine; on a network interface anyone
        # who can reach them can try PINs.
        Console(stderr=True).print(
            f"[yellow]warning:[/yellow] listening on {host}, not loopback: other machines can "
            f"reach {pages} / ループバック以外で待ち受けています"
        )
    # On loopback the program answers loopback host names only (DNS rebinding); whoever binds it
    # elsewhere has been warned above and gets any host name.
    allowed_hosts = [*LOOPBACK_HOSTS] if is_loopback(host) else ["*"]
    typer.echo(started)
    uvicorn.run(make_app(allowed_hosts), host=host, port=port)
