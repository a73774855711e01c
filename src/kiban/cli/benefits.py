"""``kiban benefits``: programmes as data, eligibility previews and push runs.

``run`` is resumable: the first call determines and notifies; a call after the opt-out window
also hands the obligations to the payments block (so does ``settle``, for every run that is
due). Re-running never doubles anything.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kiban.blocks import benefits
from kiban.cli.failures import progress_bar
from kiban.cli.output import FORMAT_OPTION, Format, fail, fail_error, print_json, print_table
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(no_args_is_help=True, help="Benefit programmes and push-type runs.")

OPERATOR_ACTOR = "operator:cli"


FORMAT = FORMAT_OPTION


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(
            "基準日は YYYY-MM-DD で指定してください。",
            "the base date must be YYYY-MM-DD",
            "base_date",
        )


BASE_DATE = typer.Option(..., "--base-date", help="The base date (基準日), YYYY-MM-DD.")


@app.command("programmes")
def programmes(output: Format = FORMAT) -> None:
    """List the defined programmes (JSON: a list of objects with a "code" field)."""
    with transaction() as session:
        found = benefits.list_programmes(session)
    if output is Format.json:
        print_json(found)
        return
    print_table(
        "benefit programmes",
        ["code", "title", "legal basis", "recipient", "opt-out days", "payment months", "v"],
        [
            (
                p.code,
                p.definition.title_ja,
                p.definition.legal_basis,
                p.definition.recipient,
                p.definition.opt_out_days,
                ",".join(str(m) for m in p.definition.payment_months) or "once",
                p.version,
            )
            for p in found
        ],
    )


@app.command("define")
def define(
    path: Path = typer.Argument(..., help="A programme definition as a JSON file."),
) -> None:
    """Define a programme (or a new version of one) from a JSON document."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        fail("定義ファイルを JSON として読めません。", "cannot read the file as JSON", "path")
    try:
        with transaction() as session:
            defined = benefits.do_define_programme(
                session, benefits.parse_programme(data), actor=OPERATOR_ACTOR
            )
    except KibanError as error:
        fail_error(error)
    print_json({"code": defined.code, "version": defined.version})


@app.command("preview")
def preview(
    programme: str = typer.Argument(..., help="The programme's code."),
    base_date: str = BASE_DATE,
    sample: int = typer.Option(5, min=0, max=20, help="How many sampled awards to show."),
    output: Format = FORMAT,
) -> None:
    """Counts and a small sample (ages and amounts, no names) of what a run would award."""
    try:
        with transaction() as session:
            found = benefits.preview_programme(session, programme, _date(base_date), sample=sample)
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(found)
        return
    bound = "" if found.tax_checked else " (upper bound: the tax office is asked only by a run)"
    typer.echo(
        f"{found.programme} {found.period}: {found.recipients:,} recipients for "
        f"{found.eligible_people:,} people, {found.total_yen:,} yen{bound}; "
        f"{found.households:,} households, {found.residents:,} residents on {found.base_date}"
    )
    print_table(
        "sample",
        ["household size", "ages", "amount (yen)"],
        [
            (s.household_size, ", ".join(map(str, s.ages)), f"{s.amount_yen:,}")
            for s in found.sample
        ],
    )


@app.command("run")
def run(
    programme: str = typer.Argument(..., help="The programme's code."),
    base_date: str = BASE_DATE,
    output: Format = FORMAT,
) -> None:
    """Determine who is eligible on the base date, tell each recipient in the inbox and, once
    the opt-out window is over, hand the obligations to payments. Safe to repeat."""
    console = Console(stderr=True)
    started = time.perf_counter()
    day = _date(base_date)
    with progress_bar(
        TextColumn("[bold]{task.fields[programme]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("run", total=None, programme=f"{programme}: people read", rate="")

        def advance(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}/s")

        try:
            with transaction() as session:
                result = benefits.do_run_programme(
                    session, programme, day, actor=OPERATOR_ACTOR, progress=advance
                )
        except KibanError as error:
            fail_error(error)
    if output is Format.json:
        print_json(result)
        return
    elapsed = time.perf_counter() - started
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(result.by_status.items()))
    console.print(
        f"{result.programme} {result.period}: {result.determinations:,} determinations "
        f"({result.new_determinations:,} new), {result.total_yen:,} yen; {statuses}; "
        f"{result.obligations_added:,} obligations added; opt-out until "
        f"{result.opt_out_until:%Y-%m-%d %H:%M} UTC; {elapsed:,.1f} s"
    )


@app.command("settle")
def settle() -> None:
    """Hand the payments block the obligations of every run whose opt-out window is over
    (including recipients who have registered an account since)."""
    try:
        with transaction() as session:
            added = benefits.do_settle_due(session, actor=OPERATOR_ACTOR)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"{added:,} obligations added")
