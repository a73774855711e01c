"""Tables of the inbox: each notice with its rendered Japanese and English text, and the steps
of its delivery lifecycle (created, delivered, read), one appended row per step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class NotificationsNotice(IdMixin, Base):
    """A notice addressed to a person. The text is rendered once, when it is sent, so that a
    later change of the template never rewrites what the person was told."""

    __tablename__ = "notifications_notices"
    __table_args__ = (
        # The dedupe key makes sending idempotent: a retried step finds its notice again.
        UniqueConstraint("dedupe_key"),
        Index("ix_notifications_notices_person_created", "person_id", "created_at"),
    )

    person_id: Mapped[uuid.UUID]
    template: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]]
    subject_ja: Mapped[str] = mapped_column(String(300))
    subject_en: Mapped[str] = mapped_column(String(300))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    # The latest lifecycle step: created, delivered or read.
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None]


class NotificationsStep(IdMixin, Base):
    """One step of a notice's delivery lifecycle."""

    __tablename__ = "notifications_steps"
    __table_args__ = (UniqueConstraint("notice_id", "status"),)

    notice_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
