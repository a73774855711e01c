"""A bank (a company member of the mesh): customers' accounts, by agency code.

Provides ``account`` (the customer's account) and ``account-check`` (does this account exist
under this holder name: ``exists``, ``name_mismatch``, ``closed`` or ``no_such_account``, which
the payments block asks before a public-fund receiving account is active), and, with the
customer's consent, receives address changes for its customer records. It stands for the whole
Zengin network: its accounts carry the code of any member bank. :class:`ReferenceBank` takes a
総合振込 transfer file and answers with the result of each line, like a bank's 振込結果.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, DataService, Enrolment, NewRow, new_row, require
from kiban.agencies.models import BankAccount
from kiban.blocks import payments
from kiban.kernel import clock
from kiban.kernel.errors import KibanError

ACCOUNT_AGE: Final = 15

ITEMS: Final = ("bank_code", "branch_code", "account_type", "account_number")
BANK_CODE: Final = "0999"  # A code outside the range real banks use.


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    del session
    too_young = clock.now().year - enrolment.birth_date.year < ACCOUNT_AGE
    if too_young or rng.random() < 0.3:
        return []
    return [
        new_row(
            BankAccount,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            branch_code=f"{rng.randint(1, 999):03d}",
            account_type="ordinary",
            account_number=f"{rng.randint(0, 9_999_999):07d}",
            balance_yen=rng.randrange(0, 5_000_000, 1),
        )
    ]


def _account(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: BankAccount = require(session, AGENCY, agency_code)
    return {
        "bank_code": row.bank_code,
        "branch_code": row.branch_code,
        "account_type": row.account_type,
        "account_number": row.account_number,
    }


def _same_holder(on_file: str | None, given: str) -> bool:
    if on_file is None:
        return False
    try:
        return payments.to_zengin(on_file) == payments.to_zengin(given)
    except KibanError:
        return False


def check_account(row: BankAccount | None, params: Mapping[str, Any]) -> str:
    """The bank's answer for an account as it was given (bank, branch, type, number, holder)."""
    number = str(params.get("account_number", "")).zfill(7)
    if row is None or (row.bank_code, row.branch_code, row.account_type, row.account_number) != (
        str(params.get("bank_code", "")),
        str(params.get("branch_code", "")),
        str(params.get("account_type", "")),
        number,
    ):
        return "no_such_account"
    if row.closed:
        return "closed"
    if not _same_holder(row.holder_kana, str(params.get("holder_kana", ""))):
        return "name_mismatch"
    return "exists"


def _account_check(session: Session, agency_code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    row = session.scalar(select(BankAccount).where(BankAccount.agency_code == agency_code))
    return {"result": check_account(row, params)}


def open_account(
    session: Session,
    agency_code: str,
    *,
    bank_code: str,
    branch_code: str,
    account_number: str,
    holder_kana: str,
    account_type: str = "ordinary",
    address: str = "",
) -> BankAccount:
    """Open (or reopen, replacing the one on file) the customer's account."""
    row = session.scalar(select(BankAccount).where(BankAccount.agency_code == agency_code))
    if row is None:
        row = BankAccount(agency_code=agency_code, address=address, balance_yen=0)
        session.add(row)
    row.bank_code = bank_code
    row.branch_code = branch_code
    row.account_type = account_type
    row.account_number = account_number.zfill(7)
    row.holder_kana = payments.to_zengin(holder_kana)
    row.closed = False
    session.flush()
    return row


def close_account(session: Session, agency_code: str) -> None:
    """Close the customer's account (later transfers to it are returned as closed)."""
    row: BankAccount = require(session, AGENCY, agency_code)
    row.closed = True
    session.flush()


class ReferenceBank:
    """The reference bank's side of a 総合振込: each line of the file is paid when the account
    exists under that holder name and is open, and returned otherwise (no such account, name
    mismatch, closed). The result file is the same file with each line's result filled in."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def transfer(self, data: bytes) -> bytes:
        parsed = payments.parse_transfer_file(data)
        results: dict[int, str] = {}
        for transfer in parsed.transfers:
            row = self._session.scalar(
                select(BankAccount)
                .where(BankAccount.bank_code == transfer.bank_code)
                .where(BankAccount.branch_code == transfer.branch_code)
                .where(BankAccount.account_number == transfer.account_number)
            )
            answer = check_account(
                row,
                {
                    "bank_code": transfer.bank_code,
                    "branch_code": transfer.branch_code,
                    "account_type": transfer.account_type,
                    "account_number": transfer.account_number,
                    "holder_kana": transfer.holder,
                },
            )
            results[transfer.line] = "paid" if answer == "exists" else answer
            if answer == "exists" and row is not None:
                row.balance_yen += transfer.amount
        self._session.flush()
        return payments.transfer_results(data, results)


AGENCY: Final = Agency(
    name="bank",
    title="きばん銀行",
    member_class="COM",
    member_code="KIBAN-BANK",
    subsystem_code="accounts",
    model=BankAccount,
    make=_make,
    services=(
        DataService(
            code="account",
            items=ITEMS,
            answer=_account,
            summary="The customer's ordinary account (口座)",
        ),
        DataService(
            code="account-check",
            items=("result",),
            answer=_account_check,
            summary="Whether an account exists under a holder name (口座確認)",
        ),
    ),
)
