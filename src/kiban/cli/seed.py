"""``kiban seed``: build the synthetic country in the configured database."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kiban.blocks import residents
from kiban.cli.output import fail
from kiban.kernel.errors import KibanError
from kiban.platform.db import get_engine, transaction


def seed(
    size: str = typer.Option("demo", help=f"One of: {', '.join(residents.SIZES)}."),
    seed: int = typer.Option(2026, help="Random seed: the same seed gives the same country."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing (and succeed) when the register already has people."
    ),
) -> None:
    """Fill the empty resident register with a synthetic country (real towns, Faker names)."""
    console = Console(stderr=True)
    engine = get_engine()
    if if_empty:
        with transaction(engine) as session:
            existing = residents.get_country_summary(session)
        if existing.residents or existing.moved_out or existing.deceased:
            console.print(f"register already holds {existing.residents:,} residents; not seeding")
            return

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]seeding {task.fields[size]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("seed", total=None, size=size, rate="")

        def advance(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}/s")

        try:
            with transaction(engine) as session:
                summary = residents.seed_population(session, size=size, seed=seed, progress=advance)
        except KibanError as error:
            fail(error.message_ja, error.message_en, error.field)
    elapsed = time.perf_counter() - started
    console.print(
        f"seeded {summary.residents:,} residents in {summary.households:,} households across "
        f"{summary.municipalities:,} municipalities in {elapsed:,.1f} s "
        f"({summary.residents / elapsed:,.0f} residents/s, size={size}, seed={seed})"
    )
