"""Tables of the procedures block: the action journal and the applications' projection.

``procedures_actions`` is the record: one appended row per action, chained to the previous row
of the same application by its SHA-256 hash, never updated or deleted. ``procedures_applications``
is a projection of it, kept in the same transaction, that queues and lists are read from; its
state, values, claim and version are exactly the fold of the application's journal
(:func:`kiban.blocks.procedures.journal.fold`), which a test and :func:`verify_journal` check.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class ProceduresApplication(IdMixin, Base):
    """An application as of its last journalled action (the projection)."""

    __tablename__ = "procedures_applications"
    __table_args__ = (
        Index("ix_procedures_applications_state_office", "state", "office"),
        Index("ix_procedures_applications_applicant", "applicant_id", "created_at"),
        Index("ix_procedures_applications_code", "code", "state"),
    )

    code: Mapped[str] = mapped_column(String(64))
    # The internal person id of the applicant; never the individual number.
    applicant_id: Mapped[uuid.UUID]
    state: Mapped[str] = mapped_column(String(64))
    # The number of journalled actions; an action names the version it read.
    version: Mapped[int]
    # The lg_code of the office whose queue holds the task in the current state, if any.
    office: Mapped[str | None] = mapped_column(String(6))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # Field name -> value, and field name -> where a prefilled value came from.
    values: Mapped[dict[str, Any]]
    sources: Mapped[dict[str, Any]]
    # What the effects of actions produced (for example the new address's record version).
    outputs: Mapped[dict[str, Any]]
    # The submission's certificate, signature, serial and revocation status at signing time.
    signature: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The hash of the last journal row, so a truncated journal is noticed.
    head_hash: Mapped[str] = mapped_column(String(64))


class ProceduresAction(IdMixin, Base):
    """One journalled action of an application, chained to the previous one by its hash."""

    __tablename__ = "procedures_actions"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    application_id: Mapped[uuid.UUID]
    # 1, 2, 3 … per application; the unique constraint is the last line of defence against two
    # writers appending the same version.
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    state_before: Mapped[str | None] = mapped_column(String(64))
    state_after: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
