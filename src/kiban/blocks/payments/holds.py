"""Holds: obligations to a person that must not be paid until someone decides (the payee died:
what the state owed them is owed to the estate, and goes to the heirs who claim it).

:func:`do_hold_obligations_of` holds every obligation of a person that has not left for the
bank: those waiting (``payable``) and those on a line of a draft batch (the line is taken off
the batch, whose count and total shrink). A batch approved by two officials is frozen — its
accounts, total and ledger entries are fixed — so its lines are left for the officials (they
are reported as not held). Idempotent: a held obligation is not held again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.payments import events as topics
from kiban.blocks.payments.models import PaymentsBatch, PaymentsLine, PaymentsObligation
from kiban.blocks.payments.schemas import ObligationRead
from kiban.blocks.payments.service import list_obligations
from kiban.kernel import clock
from kiban.platform import audit, events


@dataclass(frozen=True)
class HoldResult:
    """What a hold did: obligations newly held, and those already with the bank (not held)."""

    held: int
    in_flight: int


def _take_off_draft(session: Session, obligation: PaymentsObligation) -> bool:
    """Take the obligation's line off its draft batch; False when its batch is past draft."""
    for line in session.scalars(
        select(PaymentsLine).where(PaymentsLine.open_obligation_id == obligation.id)
    ):
        batch = session.get(PaymentsBatch, line.batch_id)
        if batch is None or batch.status != "draft":
            return False
        batch.line_count -= 1
        batch.total -= line.amount
        session.delete(line)
    return True


def do_hold_obligations_of(
    session: Session, person_id: uuid.UUID, *, reason: str, actor: str
) -> HoldResult:
    """Hold every obligation to ``person_id`` not yet with the bank, with ``reason`` (shown to
    the office and to the bereaved). Audited; ``payments.obligations_held`` when any was."""
    rows = list(
        session.scalars(
            select(PaymentsObligation)
            .where(PaymentsObligation.person_id == person_id)
            .where(PaymentsObligation.status.in_(("payable", "batched")))
            .order_by(PaymentsObligation.created_at, PaymentsObligation.id)
        )
    )
    now = clock.now()
    held: list[PaymentsObligation] = []
    in_flight = 0
    for row in rows:
        if row.status == "batched" and not _take_off_draft(session, row):
            in_flight += 1
            continue
        row.status = "held"
        row.hold_reason = reason[:200]
        row.held_at = now
        held.append(row)
    session.flush()
    if held:
        audit.record(
            session,
            tag=topics.AUDIT_OBLIGATIONS_HELD,
            actor=actor,
            subject=f"person:{person_id}",
            data={
                "held": len(held),
                "amount": sum(row.amount for row in held),
                "in_flight": in_flight,
                "reason": reason[:200],
            },
        )
        events.emit(
            session,
            topics.OBLIGATIONS_HELD,
            {"person_id": str(person_id), "held": len(held)},
            key=str(person_id),
        )
    return HoldResult(held=len(held), in_flight=in_flight)


def list_held_of(session: Session, person_id: uuid.UUID) -> list[ObligationRead]:
    """The person's held obligations, oldest first."""
    return [o for o in list_obligations(session, person_id=person_id) if o.status == "held"]
