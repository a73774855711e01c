"""The Zengin bank and branch code list (全銀協 金融機関コード・店舗コード), loaded into
``payments_banks`` and ``payments_branches`` from the ``zengin-code`` package, which follows
the published list. :func:`do_load_banks` replaces the tables' contents; the names are stored
also in the Zengin character set, as the transfer file writes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kiban.blocks.payments import events as topics
from kiban.blocks.payments.kana import to_zengin
from kiban.blocks.payments.models import PaymentsBank, PaymentsBranch
from kiban.kernel.errors import ValidationFailed
from kiban.platform import audit


@dataclass(frozen=True)
class Loaded:
    banks: int
    branches: int
    version: str


def _kana(text: str, fallback: str) -> str:
    try:
        return to_zengin(text)
    except ValidationFailed:
        return to_zengin(fallback.upper()) if fallback else ""


def _rows() -> Iterator[tuple[dict[str, str], list[dict[str, str]]]]:
    import zengin_code  # noqa: PLC0415 - loads the whole list when imported; only here.

    for code, bank in zengin_code.Bank.all.items():
        yield (
            {"code": code, "name": bank.name, "kana": _kana(bank.kana, bank.roma)},
            [
                {
                    "bank_code": code,
                    "code": branch_code,
                    "name": branch.name,
                    "kana": _kana(branch.kana, branch.roma),
                }
                for branch_code, branch in bank.branches.items()
            ],
        )


def list_version() -> str:
    """The date of the code list the installed package carries."""
    import zengin_code  # noqa: PLC0415

    return str(zengin_code.__version__)


def do_load_banks(session: Session, *, actor: str) -> Loaded:
    """Replace the bank and branch tables with the installed Zengin list (idempotent)."""
    session.execute(delete(PaymentsBranch))
    session.execute(delete(PaymentsBank))
    banks = branches = 0
    for bank, its_branches in _rows():
        session.execute(insert(PaymentsBank), [bank])
        if its_branches:
            session.execute(insert(PaymentsBranch), its_branches)
        banks += 1
        branches += len(its_branches)
    version = list_version()
    audit.record(
        session,
        tag=topics.AUDIT_BANKS_LOADED,
        actor=actor,
        subject="payments:banks",
        data={"banks": banks, "branches": branches, "version": version},
    )
    return Loaded(banks, branches, version)


def banks_loaded(session: Session) -> int:
    """How many banks the tables hold."""
    return int(session.scalar(select(func.count()).select_from(PaymentsBank)) or 0)
