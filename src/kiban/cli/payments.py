"""``kiban payments``: the bank code list, payment batches, the Zengin file, the bank's result
and reconciliation.

Approving needs ``--as`` an official whose role holds ``payments.batch.approve`` (the policy,
``staff.authorize``, is asked with the batch's maker and earlier approver excluded: two
different officials, neither the maker). The other commands act as the operator at this
terminal, or as ``--as`` after the policy let that official act for the batch's payer.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import typer

from kiban.agencies import bank
from kiban.blocks import payments, staff
from kiban.cli import fees
from kiban.cli.output import (
    FORMAT_OPTION,
    Format,
    fail_error,
    operator_actor,
    print_json,
    print_listing,
    print_table,
)
from kiban.cli.staff import AS_OPTION, acting
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(
    no_args_is_help=True,
    help="Public-fund payments: batches, Zengin transfer files, bank results (公金の支払).",
)

app.add_typer(fees.app, name="fees")

APPROVE = "payments.batch.approve"
BATCH_ARGUMENT = typer.Argument(..., min=1, help="The batch number.")


@app.command("load-banks")
def load_banks() -> None:
    """Load the Zengin bank and branch code list (from the installed zengin-code package)."""
    try:
        with transaction() as session:
            loaded = payments.do_load_banks(session, actor=operator_actor())
    except KibanError as error:
        fail_error(error)
    typer.echo(
        f"loaded {loaded.banks} banks and {loaded.branches} branches (list {loaded.version})"
    )


@app.command("batches")
def batches(
    programme: str | None = typer.Option(None, "--programme", help="Only this programme."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many to show."),
    output: Format = FORMAT_OPTION,
) -> None:
    """List payment batches, newest first (JSON: a list of objects with a "number" field)."""
    with transaction() as session:
        found = payments.list_batches(session, programme=programme, limit=limit)
    print_listing(
        output,
        found,
        "payment batches",
        ["number", "programme", "payer", "status", "lines", "total (yen)", "maker", "approvers"],
        [
            (
                b.number,
                b.programme,
                b.payer,
                b.status,
                b.line_count,
                f"{b.total:,}",
                b.maker,
                ", ".join(b.approvers),
            )
            for b in found
        ],
    )


@app.command("approve")
def approve(batch: int = BATCH_ARGUMENT, as_: str | None = AS_OPTION) -> None:
    """Approve a batch as the official named by --as (two officials, neither the maker)."""
    try:
        with transaction() as session:
            principal = acting(session, as_)
            assert principal is not None  # noqa: S101 - required above.
            found = payments.get_batch(session, batch)
            staff.authorize(
                session,
                principal,
                APPROVE,
                organisation=found.payer,
                resource=staff.Resource(excluded_actors=(found.maker, *found.approvers)),
            )
            done = payments.do_approve_batch(session, batch, actor=principal.actor)
    except KibanError as error:
        fail_error(error)
    typer.echo(f"batch {done.number}: {done.status} ({len(done.approvers)} approval(s))")


@app.command("export")
def export(
    batch: int = BATCH_ARGUMENT,
    out: Path = typer.Option(..., "--out", help="Where to write the Zengin file."),
    crlf: bool = typer.Option(False, "--crlf", help="End each record with CR LF."),
) -> None:
    """Write an approved batch's Zengin 総合振込 file. The file is written whole (a temporary
    file renamed into place) before the batch is marked exported, so a crash at any point
    leaves either no file or the complete one, and exporting again writes the same bytes."""
    try:
        with transaction() as session:
            data = payments.transfer_file(session, batch, crlf=crlf)
            temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex}.part")
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(out)
            done = payments.do_mark_exported(session, batch, actor=operator_actor())
    except KibanError as error:
        fail_error(error)
    typer.echo(f"batch {done.number}: {done.line_count} transfers, {done.total:,} yen -> {out}")


@app.command("import-result")
def import_result(
    batch: int = BATCH_ARGUMENT,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The bank's result."),
) -> None:
    """Apply the bank's result file to the batch (importing it again changes nothing)."""
    try:
        with transaction() as session:
            done = payments.do_import_result(
                session, batch, file.read_bytes(), actor=operator_actor()
            )
            lines = payments.get_batch(session, batch).lines
    except KibanError as error:
        fail_error(error)
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.result] = counts.get(line.result, 0) + 1
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    typer.echo(f"batch {done.number}: {done.status} ({summary})")


@app.command("reconcile")
def reconcile(
    batch: int = BATCH_ARGUMENT,
    output: Format = FORMAT_OPTION,
) -> None:
    """The bank's results against the ledger, to the yen, and the ledger's balances. Exits
    with status 1 when they differ."""
    try:
        with transaction() as session:
            report = payments.reconcile(session, batch)
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(report.model_dump(mode="json") | {"reconciled": report.reconciled})
    else:
        print_table(
            f"batch {report.batch_number}: bank and ledger (yen)",
            ["", "bank", "ledger"],
            [
                ("paid", f"{report.bank_paid:,}", f"{report.ledger_paid:,}"),
                ("returned", f"{report.bank_returned:,}", f"{report.ledger_returned:,}"),
                ("awaiting the bank", f"{report.bank_pending:,}", f"{report.ledger_in_transit:,}"),
            ],
        )
        print_table(
            "ledger balances (yen)",
            ["account", "balance"],
            [*((k, f"{v:,}") for k, v in report.balances.items()), ("sum", report.ledger_sum)],
        )
        for difference in report.differences:
            typer.echo(f"difference: {difference}")
        typer.echo("reconciled" if report.reconciled else "NOT reconciled")
    if not report.reconciled:
        raise typer.Exit(1)


@app.command("reference-bank")
def reference_bank(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A Zengin 総合振込 file."),
    out: Path = typer.Option(..., "--out", help="Where to write the bank's result file."),
) -> None:
    """Hand a transfer file to the synthetic country's reference bank and write its result
    (paid, no such account, name mismatch, closed per line), for import-result."""
    try:
        with transaction() as session:
            result = bank.ReferenceBank(session).transfer(file.read_bytes())
            out.write_bytes(result)
            parsed = payments.parse_transfer_file(result)
    except KibanError as error:
        fail_error(error)
    paid = sum(1 for t in parsed.transfers if t.result == "paid")
    typer.echo(f"{paid} paid, {len(parsed.transfers) - paid} returned -> {out}")
