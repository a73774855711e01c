"""``kiban wallet``: run the holder wallet on the resident's computer.

The wallet is a separate local program, like the card reader: it keeps credentials and their
holder keys (sealed under a PIN) in a directory, and talks to the kiban server over HTTP to
receive credentials (OpenID4VCI) and answer verifiers (OpenID4VP).
"""

from __future__ import annotations

from pathlib import Path

import typer

from kiban.cli.local_programs import HOST_OPTION, SERVER_OPTION, serve_local_program, server_origin
from kiban.platform.settings import get_settings
from kiban.wallet.app import create_wallet_app
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
    host: str = HOST_OPTION,
    directory: Path | None = DIRECTORY,
    server: str | None = SERVER_OPTION,
) -> None:
    """Serve the wallet's pages; it talks only to --server."""
    origin = server_origin(server)
    store = _store(directory)
    serve_local_program(
        lambda hosts: create_wallet_app(store, origin, allowed_hosts=hosts),
        host=host,
        port=port,
        pages="the wallet's pages",
        started=f"wallet on http://{host}:{port}/ for {origin}, "
        f"{len(store.credentials())} credential(s) in {store.directory}",
    )
