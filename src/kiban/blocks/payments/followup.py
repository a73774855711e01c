"""What the payer's officials read about a batch beyond its totals: each line with the account
version it used, and every line the bank returned with its follow-up — whether and when the
person was told, whether they corrected their account since, and in which later batch the
obligation was paid (or is on its way).

Pure reads: no state changes, so nothing here writes the audit log. The office pages that show
these lines record the read of the payees (``residents.do_record_reads``), since names and
accounts are personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import notifications
from kiban.blocks.payments.batches import _batch_row
from kiban.blocks.payments.models import (
    PaymentsAccount,
    PaymentsBank,
    PaymentsBatch,
    PaymentsLine,
)
from kiban.blocks.payments.schemas import FAILURES, LineResult
from kiban.blocks.payments.service import CHUNK


class LineView(BaseModel):
    """A line as the payer's official sees it: amount, result and the account version used
    (frozen at approval; before it, the version the batch was built with)."""

    number: int
    obligation_id: uuid.UUID
    person_id: uuid.UUID
    amount: int
    result: LineResult
    account_version: int | None
    bank_code: str | None
    bank_name: str | None
    branch_code: str | None
    account_number: str | None
    holder_kana: str | None


class FailureRead(BaseModel):
    """A line the bank returned, and what happened since."""

    batch_number: int
    line_number: int
    programme: str
    person_id: uuid.UUID
    amount: int
    result: LineResult
    account_version: int | None
    told_at: datetime | None
    read_at: datetime | None
    corrected_version: int | None
    corrected_at: datetime | None
    paid_in: int | None
    pending_in: int | None


def _accounts(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PaymentsAccount]:
    found: dict[uuid.UUID, PaymentsAccount] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(
            (row.id, row)
            for row in session.scalars(
                select(PaymentsAccount).where(PaymentsAccount.id.in_(ids[start : start + CHUNK]))
            )
        )
    return found


def batch_lines(
    session: Session, batch: int | uuid.UUID, *, limit: int = 200, offset: int = 0
) -> list[LineView]:
    """A page of the batch's lines with the account version each one used, in line order."""
    row = _batch_row(session, batch)
    lines = list(
        session.scalars(
            select(PaymentsLine)
            .where(PaymentsLine.batch_id == row.id)
            .order_by(PaymentsLine.number)
            .limit(limit)
            .offset(offset)
        )
    )
    accounts = _accounts(session, [line.account_id for line in lines if line.account_id])
    codes = {line.bank_code for line in lines if line.bank_code} | {
        account.bank_code for account in accounts.values()
    }
    banks = {
        b.code: b.name
        for b in session.scalars(select(PaymentsBank).where(PaymentsBank.code.in_(codes)))
    }
    views = []
    for line in lines:
        account = accounts.get(line.account_id) if line.account_id else None
        bank_code = line.bank_code or (account.bank_code if account else None)
        views.append(
            LineView(
                number=line.number,
                obligation_id=line.obligation_id,
                person_id=line.person_id,
                amount=line.amount,
                result=line.result,
                account_version=account.version if account else None,
                bank_code=bank_code,
                bank_name=banks.get(bank_code or ""),
                branch_code=line.branch_code or (account.branch_code if account else None),
                account_number=line.account_number or (account.account_number if account else None),
                holder_kana=line.holder_kana or (account.holder_kana if account else None),
            )
        )
    return views


def _later_lines(
    session: Session, obligation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[int, str]]]:
    """(batch number, result) of every line of each obligation, in batch order."""
    found: dict[uuid.UUID, list[tuple[int, str]]] = {}
    for start in range(0, len(obligation_ids), CHUNK):
        for obligation_id, number, result in session.execute(
            select(PaymentsLine.obligation_id, PaymentsBatch.number, PaymentsLine.result)
            .join(PaymentsBatch, PaymentsBatch.id == PaymentsLine.batch_id)
            .where(PaymentsLine.obligation_id.in_(obligation_ids[start : start + CHUNK]))
            .order_by(PaymentsBatch.number)
        ):
            found.setdefault(obligation_id, []).append((number, result))
    return found


def _active(session: Session, people: Sequence[uuid.UUID]) -> dict[uuid.UUID, PaymentsAccount]:
    found: dict[uuid.UUID, PaymentsAccount] = {}
    for start in range(0, len(people), CHUNK):
        found.update(
            (row.person_id, row)
            for row in session.scalars(
                select(PaymentsAccount)
                .where(PaymentsAccount.person_id.in_(people[start : start + CHUNK]))
                .where(PaymentsAccount.status == "active")
            )
        )
    return found


def list_failures(session: Session, *, payer: str, limit: int = 200) -> list[FailureRead]:
    """The payer's returned lines, newest batch first, each with its follow-up: the inbox
    notice (sent, read), a newer verified account version, and the later batch that paid the
    obligation or carries it now."""
    rows = list(
        session.execute(
            select(PaymentsLine, PaymentsBatch.number, PaymentsBatch.programme)
            .join(PaymentsBatch, PaymentsBatch.id == PaymentsLine.batch_id)
            .where(PaymentsBatch.payer == payer)
            .where(PaymentsLine.result.in_(FAILURES))
            .order_by(PaymentsBatch.number.desc(), PaymentsLine.number)
            .limit(limit)
        )
    )
    lines = [line for line, _, _ in rows]
    used = _accounts(session, [line.account_id for line in lines if line.account_id])
    active = _active(session, [line.person_id for line in lines])
    later = _later_lines(session, [line.obligation_id for line in lines])
    out = []
    for line, number, programme in rows:
        notice = notifications.find_notice(session, f"payments:returned:{line.id}")
        account = used.get(line.account_id) if line.account_id else None
        now_active = active.get(line.person_id)
        newer = (
            now_active
            if now_active and (account is None or now_active.version > account.version)
            else None
        )
        after = [(n, r) for n, r in later.get(line.obligation_id, []) if n > number]
        out.append(
            FailureRead(
                batch_number=number,
                line_number=line.number,
                programme=programme,
                person_id=line.person_id,
                amount=line.amount,
                result=line.result,
                account_version=account.version if account else None,
                told_at=notice.created_at if notice else None,
                read_at=notice.read_at if notice else None,
                corrected_version=newer.version if newer else None,
                corrected_at=newer.created_at if newer else None,
                paid_in=next((n for n, r in after if r == "paid"), None),
                pending_in=next((n for n, r in after if r == "pending"), None),
            )
        )
    return out
