"""The ``kiban`` command: one Typer application, one module per command group."""

from __future__ import annotations

import typer

from kiban.cli import (
    address,
    agencies,
    audit,
    benefits,
    card,
    card_reader,
    corporations,
    credentials,
    database,
    death,
    events,
    heirs,
    ids,
    mesh,
    oidc,
    payments,
    qualifications,
    residents,
    seed,
    serve,
    staff,
    wallet,
)
from kiban.cli.failures import KibanGroup

app = typer.Typer(
    name="kiban",
    help="Kiban (基盤): Japan's national–local common digital infrastructure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Failures of every command: bilingual messages, no traceback (kiban.cli.failures).
    cls=KibanGroup,
)
app.add_typer(ids.app, name="ids")
app.add_typer(address.app, name="address")
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(residents.app, name="residents")
app.add_typer(corporations.app, name="corporations")
app.add_typer(card.app, name="card")
app.add_typer(card_reader.app, name="card-reader")
app.add_typer(wallet.app, name="wallet")
app.add_typer(oidc.app, name="oidc")
app.add_typer(mesh.app, name="mesh")
app.add_typer(staff.app, name="staff")
app.add_typer(credentials.app, name="credentials")
app.add_typer(heirs.app, name="heirs")
app.add_typer(benefits.app, name="benefits")
app.add_typer(qualifications.app, name="qualifications")
app.add_typer(payments.app, name="payments")
app.add_typer(agencies.app, name="agencies")
app.add_typer(death.app, name="death")
app.command("migrate")(database.migrate)
app.command("seed")(seed.seed)
app.command("serve")(serve.serve)


def main() -> None:
    """Console-script entry point."""
    app()
