"""Tables of the benefits block: programme definitions (as data), runs and determinations.

A determination is unique per programme × period × recipient, so re-running a programme for a
period never doubles anyone; its status walks ``notified`` → ``declined`` |
``correction_requested`` | ``obligated`` (handed to the payments block).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class BenefitsProgramme(IdMixin, Base):
    """A programme's current definition (a validated ``ProgrammeDefinition`` as JSON)."""

    __tablename__ = "benefits_programmes"
    __table_args__ = (UniqueConstraint("code"),)

    code: Mapped[str] = mapped_column(String(48))
    definition: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=1)
    defined_by: Mapped[str] = mapped_column(String(200))
    defined_at: Mapped[datetime] = mapped_column(default=clock.now)


class BenefitsRun(IdMixin, Base):
    """One push run of a programme for a period: determined, notified, then settled."""

    __tablename__ = "benefits_runs"
    __table_args__ = (UniqueConstraint("programme_code", "period"),)

    programme_code: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(10))
    base_date: Mapped[date]
    definition: Mapped[dict[str, Any]]
    """The definition the run was determined by (later edits do not change a past run)."""
    opt_out_until: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    settled_at: Mapped[datetime | None]


class BenefitsDetermination(IdMixin, Base):
    """What one recipient is awarded by one run, with a line per eligible member."""

    __tablename__ = "benefits_determinations"
    __table_args__ = (
        UniqueConstraint("programme_code", "period", "recipient_id"),
        Index("ix_benefits_determinations_run_status", "run_id", "status"),
        Index("ix_benefits_determinations_recipient", "recipient_id"),
    )

    run_id: Mapped[uuid.UUID]
    programme_code: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(10))
    recipient_id: Mapped[uuid.UUID]
    household_id: Mapped[uuid.UUID]
    amount_yen: Mapped[int]
    lines: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(24))
    opt_out_until: Mapped[datetime]
    notice_id: Mapped[uuid.UUID | None]
    correction: Mapped[str | None] = mapped_column(String(400))
    determined_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)
