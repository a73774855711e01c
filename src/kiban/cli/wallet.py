"""``kiban wallet``: run the holder wallet on the resident's computer.

The wallet is a separate local program, like the card reader: it keeps credentials and their
holder keys (sealed under a PIN) in a directory, and talks to the kiban server over HTTP to
receive credentials (OpenID4VCI) and answer verifiers (OpenID4VP).
"""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from kiban.cardreader.app import normalize_origin
from kiban.cli.card_reader import _is_loopback
from kiban.cli.output import fail
from kiban.platform.settings import get_settings
from kiban.wallet.app import LOOPBACK_HOSTS, create_wallet_app
from kiban.wallet.store import WalletStore

app = typer.Typer(
    no_args_is_help=True, help="The holder wallet: your credentials on this computer."
)

DIRECTORY = typer.Option(None, "--dir", help="The wallet's directory (default: <data_dir>/wallet).")


def _store(directory: Path | None) -> WalletStore:
    return WalletStore(directory if directory is not None else get_settings().data_dir / "wallet")


@app.command("serve")
def serve(
    port: int = typer.Option(8766, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (keep it loopback)."),
    directory: Path | None = DIRECTORY,
    server: str | None = typer.Option(
        None, "--server", help="The kiban server's origin (default: KIBAN_BASE_URL)."
    ),
) -> None:
    """Serve the wallet's pages; it talks only to --server."""
    try:
        origin = normalize_origin(server or get_settings().base_url)
    except ValueError:
        fail(
            "サーバーは http(s)://ホスト[:ポート] の形で指定してください。",
            "give the server as http(s)://host[:port]",
            "server",
        )
    if not _is_loopback(host):
        Console(stderr=True).print(
            f"[yellow]warning:[/yellow] listening on {host}, not loopback: other machines can "
            "reach the wallet's pages / ループバック以外で待ち受けています"
        )
    store = _store(directory)
    allowed_hosts = [*LOOPBACK_HOSTS] if _is_loopback(host) else ["*"]
    typer.echo(
        f"wallet on http://{host}:{port}/ for {origin}, "
        f"{len(store.credentials())} credential(s) in {store.directory}"
    )
    uvicorn.run(create_wallet_app(store, origin, allowed_hosts=allowed_hosts), host=host, port=port)
