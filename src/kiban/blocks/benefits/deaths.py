"""After a death: benefits stop from the next period, and what was owed to the deceased waits.

:func:`do_stop_for_death` runs on the register's ``resident.died`` (:mod:`.subscribers`). Of
the deceased's determinations still open (notified, or a correction under review), those of a
period whose base date is after the death are ``stopped`` (never settled, never paid); those of
the period of the death or before are ``held`` (owed to the estate: not settled to the dead,
claimed by the heirs as 未支給). Push runs after the death do not determine the deceased at
all (the engine reads ``died_on``), so scheduled programmes stop by themselves. Then the
payments block holds every obligation to the deceased not yet with the bank. Idempotent: a
second delivery finds nothing open and nothing payable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import payments
from kiban.blocks.benefits import events as topics
from kiban.blocks.benefits.models import BenefitsDetermination, BenefitsRun
from kiban.kernel import clock
from kiban.platform import audit, events

OPEN_AT_DEATH = ("notified", "correction_requested")


@dataclass(frozen=True)
class Stopped:
    """What a death stopped and held."""

    stopped: int
    held: int
    obligations_held: int
    obligations_in_flight: int


def hold_reason(died_on: date) -> str:
    """The reason kept on held obligations (shown to the office and in おくやみ)."""
    return f"受給者死亡 ({died_on.isoformat()}) のため支払保留: 相続人の請求を待つ"


def do_stop_for_death(
    session: Session, person_id: uuid.UUID, died_on: date, *, actor: str
) -> Stopped:
    """Stop and hold the deceased's benefits and payments (see the module docstring)."""
    rows = session.execute(
        select(BenefitsDetermination, BenefitsRun.base_date)
        .join(BenefitsRun, BenefitsRun.id == BenefitsDetermination.run_id)
        .where(BenefitsDetermination.recipient_id == person_id)
        .where(BenefitsDetermination.status.in_(OPEN_AT_DEATH))
        .order_by(BenefitsDetermination.determined_at)
    ).all()
    now = clock.now()
    stopped = held = 0
    for row, base_date in rows:
        row.status = "stopped" if base_date > died_on else "held"
        row.changed_at = now
        stopped += row.status == "stopped"
        held += row.status == "held"
    session.flush()
    result = payments.do_hold_obligations_of(
        session, person_id, reason=hold_reason(died_on), actor=actor
    )
    if rows:
        audit.record(
            session,
            tag=topics.AUDIT_STOPPED,
            actor=actor,
            subject=f"person:{person_id}",
            data={"stopped": stopped, "held": held, "died_on": died_on.isoformat()},
        )
        events.emit(
            session,
            topics.STOPPED,
            {"person_id": str(person_id), "stopped": stopped, "held": held},
            key=str(person_id),
        )
    return Stopped(stopped, held, result.held, result.in_flight)
