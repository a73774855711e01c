"""Tables of the qualifications block: registrations (籍簿) and their history.

A registration links a qualification type to a register person by the person's internal id
(never the My Number); its ``status`` walks ``active`` → ``suspended`` → ``active`` (業務停止
and its end) and ends at ``revoked`` (免許の取消). Every change appends a history row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class QualificationsHolder(IdMixin, Base):
    """One person's registration of one qualification."""

    __tablename__ = "qualifications_holders"
    __table_args__ = (
        UniqueConstraint("qualification", "registration_number"),
        Index("ix_qualifications_holders_person", "person_id"),
        Index("ix_qualifications_holders_authority", "authority", "qualification"),
    )

    qualification: Mapped[str] = mapped_column(String(48))
    person_id: Mapped[uuid.UUID]
    registration_number: Mapped[str] = mapped_column(String(32))
    registered_on: Mapped[date]
    authority: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    valid_until: Mapped[date | None]
    suspended_until: Mapped[date | None]
    details: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)


class QualificationsHistory(IdMixin, Base):
    """One change of a registration, in order (``version``)."""

    __tablename__ = "qualifications_history"
    __table_args__ = (UniqueConstraint("holder_id", "version"),)

    holder_id: Mapped[uuid.UUID]
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(400))
    effective_on: Mapped[date]
    acted_by: Mapped[str] = mapped_column(String(200))
    acted_at: Mapped[datetime] = mapped_column(default=clock.now)
