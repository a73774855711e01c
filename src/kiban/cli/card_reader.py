"""``kiban card-reader``: run the virtual card reader on the resident's computer.

The reader is a separate local program (like the client software of a real card reader): it
holds the software cards in a directory, shows the PIN page the sign-in page sends residents
to, and signs. It talks to the kiban server only through the resident's browser redirects.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.cli.local_programs import HOST_OPTION, SERVER_OPTION, serve_local_program, server_origin
from kiban.cli.output import FORMAT_OPTION, Format, fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.platform.settings import get_settings

app = typer.Typer(
    no_args_is_help=True,
    help="The virtual card reader: software My Number cards on this computer.",
)


class Kind(StrEnum):
    auth = "auth"
    signing = "signing"


CARDS = typer.Option(None, "--cards", help="Directory of card files (default: <data_dir>/cards).")


def _store(cards: Path | None) -> CardStore:
    return CardStore(cards if cards is not None else get_settings().data_dir / "cards")


@app.command("serve")
def serve(
    port: int = typer.Option(8765, help="Port to listen on."),
    host: str = HOST_OPTION,
    cards: Path | None = CARDS,
    server: str | None = SERVER_OPTION,
) -> None:
    """Serve the reader's PIN pages; signatures go only to --server."""
    origin = server_origin(server)
    store = _store(cards)
    serve_local_program(
        lambda hosts: create_reader_app(store, origin, allowed_hosts=hosts),
        host=host,
        port=port,
        pages="the PIN page",
        started=f"card reader on http://{host}:{port}/ for {origin}, "
        f"{len(store.cards())} card(s) in {store.directory}",
    )


@app.command("list")
def list_cards(
    cards: Path | None = CARDS,
    output: Format = FORMAT_OPTION,
) -> None:
    """List the cards in the reader with holder name and PIN tries left."""
    found = _store(cards).cards()
    rows = [
        {
            "card_number": card.card_number,
            "holder_name": card.holder_name,
            "auth_tries_left": card.auth.tries_left,
            "auth_locked": card.auth.locked,
            "signing_tries_left": card.signing.tries_left,
            "signing_locked": card.signing.locked,
        }
        for card in found
    ]
    if output is Format.json:
        print_json(rows)
        return
    print_table(
        "カード / cards",
        ["card number", "氏名 / name", "利用者証明用 / auth", "署名用 / signing"],
        [
            (
                card.card_number,
                card.holder_name,
                "locked" if card.auth.locked else f"{card.auth.tries_left}/{card.auth.max_tries}",
                "locked"
                if card.signing.locked
                else f"{card.signing.tries_left}/{card.signing.max_tries}",
            )
            for card in found
        ],
    )


@app.command("unlock")
def unlock(
    card_number: str = typer.Argument(help="The card's 12-digit number."),
    kind: Kind = typer.Option(Kind.auth, "--kind", help="Which PIN: auth or signing."),
    token: str = typer.Option(
        ..., "--token", help="The unlock token the municipal office gave you."
    ),
    cards: Path | None = CARDS,
) -> None:
    """Reset a locked PIN with the one-time unlock token the municipal office issued."""
    try:
        _store(cards).unlock(card_number, kind.value, token)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"unlocked the {kind.value} PIN of card {card_number}")


@app.command("change-pin")
def change_pin(
    card_number: str = typer.Argument(help="The card's 12-digit number."),
    kind: Kind = typer.Option(Kind.auth, "--kind", help="Which PIN: auth or signing."),
    old_pin: str = typer.Option(
        ..., "--old-pin", prompt="現在の暗証番号 / current PIN", hide_input=True
    ),
    new_pin: str = typer.Option(
        ...,
        "--new-pin",
        prompt="新しい暗証番号 / new PIN",
        hide_input=True,
        confirmation_prompt=True,
    ),
    cards: Path | None = CARDS,
) -> None:
    """Change a PIN (the current PIN counts as a try)."""
    try:
        _store(cards).change_pin(card_number, kind.value, old_pin, new_pin)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"changed the {kind.value} PIN of card {card_number}")
