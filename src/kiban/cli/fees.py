"""``kiban payments fees``: fees paid for procedures (政府共通決済), refunds and the daily
reconciliation of the payment provider's settlement report with the ledger.

``check`` asks the provider about one payment and books it (after a reconciliation found a
capture the ledger does not know). ``refund`` needs ``--as`` an official whose role holds
``payments.fee.refund`` for the fee's office (the policy, ``staff.authorize``, is asked);
``list``, ``check`` and ``reconcile`` act as the operator at this terminal.
"""

from __future__ import annotations

import uuid
from datetime import date

import typer

from kiban.blocks import payments, procedures, staff
from kiban.cli.output import (
    FORMAT_OPTION,
    Format,
    fail,
    fail_error,
    operator_actor,
    print_json,
    print_listing,
    print_table,
)
from kiban.cli.staff import AS_OPTION, acting
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.db import transaction

app = typer.Typer(
    no_args_is_help=True,
    help="Fees for procedures: payments, refunds, daily reconciliation (政府共通決済).",
)

REFUND = "payments.fee.refund"


@app.command("list")
def list_(
    office: str | None = typer.Option(None, "--office", help="Only this office's (lg_code)."),
    status: str | None = typer.Option(
        None, "--status", help="created, succeeded, failed or refunded."
    ),
    limit: int = typer.Option(50, min=1, max=1000, help="How many to show."),
    output: Format = FORMAT_OPTION,
) -> None:
    """List fee payments, newest first (JSON: a list of objects with an "id" field)."""
    with transaction() as session:
        found = payments.list_fees(
            session, offices=[office] if office else None, status=status, limit=limit
        )
    print_listing(
        output,
        found,
        "fee payments",
        ["id", "application", "office", "amount (yen)", "status", "method", "refunded", "paid at"],
        [
            (
                f.id,
                procedures.reference_of(f.application_id),
                f.office,
                f.amount,
                f.status,
                f.method,
                f.refunded,
                f.paid_at.isoformat() if f.paid_at else "",
            )
            for f in found
        ],
    )


def _fee_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail("支払IDが正しくありません。", "not a fee payment id", "fee_id")


@app.command("check")
def check(fee_id: str = typer.Argument(..., help="The fee payment's id (from `list`).")) -> None:
    """Ask the provider about a payment and book what it says (idempotent): what to do for a
    capture the reconciliation found missing from the ledger."""
    ident = _fee_id(fee_id)
    try:
        with transaction() as session:
            done = payments.do_check_fee(session, ident, actor=operator_actor())
    except KibanError as error:
        fail_error(error)
    typer.echo(f"fee {done.id}: {done.status}")


@app.command("refund")
def refund(
    fee_id: str = typer.Argument(..., help="The fee payment's id (from `list`)."),
    amount: int = typer.Option(..., "--amount", help="Yen to refund (at most what is left)."),
    reason: str = typer.Option(..., "--reason", help="Why (the applicant is told)."),
    as_: str | None = AS_OPTION,
) -> None:
    """Refund some or all of a paid fee as the official named by --as; the applicant is told
    in the inbox."""
    ident = _fee_id(fee_id)
    try:
        with transaction() as session:
            principal = acting(session, as_)
            assert principal is not None  # noqa: S101 - required above.
            fee = payments.get_fee(session, ident)
            staff.authorize(session, principal, REFUND, organisation=fee.office)
            done = payments.do_refund_fee(
                session,
                ident,
                amount=amount,
                reason=reason,
                reference=procedures.reference_of(fee.application_id),
                actor=principal.actor,
            )
    except KibanError as error:
        fail_error(error)
    typer.echo(f"fee {done.id}: {done.status}, refunded {done.refunded} of {done.amount} yen")


@app.command("reconcile")
def reconcile(
    day: str = typer.Option("", "--date", help="The day (JST) as YYYY-MM-DD; today by default."),
    output: Format = FORMAT_OPTION,
) -> None:
    """Compare the provider's settlement report of a day with the ledger, payment by payment;
    exit status 1 when they differ."""
    try:
        when = date.fromisoformat(day) if day else clock.today_jst()
    except ValueError:
        fail("日付は YYYY-MM-DD で指定してください。", "give the date as YYYY-MM-DD", "date")
    try:
        with transaction() as session:
            report = payments.reconcile_fees(session, when)
    except KibanError as error:
        fail_error(error)
    if output is Format.json:
        print_json(report)
    else:
        typer.echo(
            f"{report.day}: {report.report_lines} settlement line(s); provider captured "
            f"{report.provider_captured} yen, refunded {report.provider_refunded} yen; ledger "
            f"captured {report.ledger_captured} yen, refunded {report.ledger_refunded} yen"
        )
        if report.differences:
            print_table(
                "differences",
                ["kind", "payment", "reference", "provider (yen)", "ledger (yen)"],
                [
                    (d.kind, d.payment_id, d.reference, d.provider, d.ledger)
                    for d in report.differences
                ],
            )
        print_table("fee accounts", ["account", "balance (yen)"], list(report.balances.items()))
        typer.echo(
            "reconciled" if report.reconciled else "NOT reconciled: see the differences above"
        )
    if not report.reconciled:
        raise typer.Exit(1)
