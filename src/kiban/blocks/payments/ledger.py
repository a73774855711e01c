"""The double-entry ledger of public funds: every yen moves between accounts and every entry's
postings sum to zero.

============== =====================================================================
account        holds
============== =====================================================================
appropriation  the budget (credited when an obligation is recognised)
payable        obligations owed and not yet sent to the bank
in_transit     lines of approved batches awaiting the bank's result
paid           what the bank paid out
returned       transfers the bank returned, owed again until a later batch pays them
============== =====================================================================

Fees (政府共通決済) have their own three accounts:

============== =====================================================================
fee_income     fees charged for procedures (credited when a payment is captured)
fee_cash       what the payment provider holds for us (captures in, refunds out)
fee_refunds    what was paid back to applicants
============== =====================================================================

Entries: appropriation → payable (an obligation), payable or returned → in_transit (approval),
in_transit → paid or returned (the bank's result). Each entry has a key, unique with the
account, so a retried step can never post twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks.payments.models import PaymentsPosting
from kiban.kernel import clock
from kiban.platform import bulk

ACCOUNTS: Final = ("appropriation", "payable", "in_transit", "paid", "returned")
FEE_ACCOUNTS: Final = ("fee_income", "fee_cash", "fee_refunds")
_ALL: Final = frozenset((*ACCOUNTS, *FEE_ACCOUNTS))


def post(
    session: Session,
    key: str,
    *,
    source: str,
    target: str,
    amount: int,
    obligation_id: uuid.UUID | None = None,
    batch_id: uuid.UUID | None = None,
    fee_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> bool:
    """Move ``amount`` yen from ``source`` to ``target`` (credit, debit) under ``key``; False,
    writing nothing, when the key was posted before. ``at`` is when the money moved (the
    provider's capture time for a fee), now by default."""
    if source not in _ALL or target not in _ALL or source == target or amount <= 0:
        raise ValueError(f"not a ledger movement: {source} -> {target} {amount}")
    if session.scalar(select(PaymentsPosting.id).where(PaymentsPosting.entry_key == key)):
        return False
    entry, now = uuid.uuid4(), at or clock.now()
    for account, signed in ((source, -amount), (target, amount)):
        session.add(
            PaymentsPosting(
                entry_id=entry,
                entry_key=key,
                ledger_account=account,
                amount=signed,
                obligation_id=obligation_id,
                batch_id=batch_id,
                fee_id=fee_id,
                at=now,
            )
        )
    session.flush()
    return True


def post_many(
    session: Session,
    moves: Sequence[tuple[str, uuid.UUID, int]],
    *,
    source: str,
    target: str,
    batch_id: uuid.UUID | None = None,
) -> None:
    """Many movements ``source`` → ``target`` at once, each ``(key, obligation id, amount)``, in
    one ``executemany``. The keys must be new (the unique constraint refuses a repeated one)."""
    if source not in ACCOUNTS or target not in ACCOUNTS or source == target:
        raise ValueError(f"not a ledger movement: {source} -> {target}")
    now, rows = clock.now(), []
    for key, obligation_id, amount in moves:
        if amount <= 0:
            raise ValueError(f"not a ledger amount: {amount}")
        entry = uuid.uuid4()
        for account, signed in ((source, -amount), (target, amount)):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "entry_id": entry,
                    "entry_key": key,
                    "ledger_account": account,
                    "amount": signed,
                    "obligation_id": obligation_id,
                    "batch_id": batch_id,
                    "at": now,
                }
            )
    bulk.insert_rows(session, PaymentsPosting, rows)


def balances(
    session: Session,
    *,
    batch_id: uuid.UUID | None = None,
    accounts: tuple[str, ...] = ACCOUNTS,
) -> dict[str, int]:
    """Each of ``accounts``' balance (of one batch's postings, when given)."""
    query = select(PaymentsPosting.ledger_account, func.sum(PaymentsPosting.amount)).group_by(
        PaymentsPosting.ledger_account
    )
    if batch_id is not None:
        query = query.where(PaymentsPosting.batch_id == batch_id)
    found = {account: int(total or 0) for account, total in session.execute(query)}
    return {account: found.get(account, 0) for account in accounts}


def inflows(session: Session, batch_id: uuid.UUID) -> dict[str, int]:
    """What one batch's entries moved into each account (its debits only): the paid and
    returned figures the bank's result is compared with, undisturbed by a line that came into
    the batch out of ``returned``."""
    query = (
        select(PaymentsPosting.ledger_account, func.sum(PaymentsPosting.amount))
        .where(PaymentsPosting.batch_id == batch_id)
        .where(PaymentsPosting.amount > 0)
        .group_by(PaymentsPosting.ledger_account)
    )
    found = {account: int(amount or 0) for account, amount in session.execute(query)}
    return {account: found.get(account, 0) for account in ACCOUNTS}


def total(session: Session) -> int:
    """The sum of every posting: zero when the ledger balances."""
    return int(session.scalar(select(func.sum(PaymentsPosting.amount))) or 0)


def unbalanced_entries(session: Session) -> list[uuid.UUID]:
    """Entries whose postings do not sum to zero (none, unless someone edited the table)."""
    return list(
        session.scalars(
            select(PaymentsPosting.entry_id)
            .group_by(PaymentsPosting.entry_id)
            .having(func.sum(PaymentsPosting.amount) != 0)
        )
    )
