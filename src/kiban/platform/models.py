"""Platform tables: the audit log (a hash chain with a single-row head), the transactional
outbox, and the bookkeeping that makes event consumers idempotent.

Only :mod:`kiban.platform.audit` and :mod:`kiban.platform.events` write these tables; other code
goes through their functions.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin

HASH_LENGTH = 64  # A SHA-256 digest in hexadecimal.


class AuditChainHead(Base):
    """The one row (``id = 1``) that names the newest audit entry.

    Appenders lock it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions begin
    IMMEDIATE) so that concurrent writers queue up instead of forking the chain.
    """

    __tablename__ = "platform_audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class AuditEntry(IdMixin, Base):
    """One append-only audit record, linked to its predecessor by ``prev_hash``.

    ``hash`` is SHA-256 over the canonical serialisation of every other column (see
    :func:`kiban.platform.audit.compute_hash`). ``data`` must never hold a My Number.
    """

    __tablename__ = "platform_audit_entries"
    __table_args__ = (
        UniqueConstraint("seq"),
        UniqueConstraint("hash"),
        Index("ix_platform_audit_entries_subject", "subject"),
        Index("ix_platform_audit_entries_tag", "tag"),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime]
    tag: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class OutboxEvent(IdMixin, Base):
    """An event written in the same transaction as the change that caused it.

    ``status`` is ``pending`` until it is delivered in-process (``delivered``) or handed to
    JetStream (``published``); after too many failed in-process attempts it becomes ``dead``
    and stays here for an operator to inspect and replay.
    """

    __tablename__ = "platform_outbox_events"
    __table_args__ = (Index("ix_platform_outbox_events_status_created_at", "status", "created_at"),)

    topic: Mapped[str] = mapped_column(String(200), index=True)
    key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class ConsumedEvent(IdMixin, Base):
    """Proof that ``consumer`` handled ``event_id``; inserted in the handler's own transaction.

    The unique pair is what turns at-least-once delivery into an exactly-once effect.
    """

    __tablename__ = "platform_consumed_events"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    consumer: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[uuid.UUID]
    consumed_at: Mapped[datetime] = mapped_column(default=clock.now)


class DeliveryFailure(IdMixin, Base):
    """Failed attempts of one consumer on one event in JetStream mode (in-process mode keeps
    them on the outbox row). ``dead`` once the consumer gave up; the event is never lost."""

    __tablename__ = "platform_delivery_failures"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    consumer: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[uuid.UUID]
    topic: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class WebSessionRecord(IdMixin, Base):
    """A browser's session (see :mod:`kiban.platform.sessions`): the row *is* the session.

    The cookie holds an opaque random token signed with the installation secret; only its
    SHA-256 is stored here, so a copy of this table opens no session. ``revoked_at`` is set by
    logout, "sign out everywhere" and operators; a revoked row never becomes live again.
    """

    __tablename__ = "platform_web_sessions"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_platform_web_sessions_audience_subject", "audience", "subject"),
    )

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    audience: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    authenticated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    idle_seconds: Mapped[int] = mapped_column(Integer)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class ThrottleCount(Base):
    """One throttled key's failed attempts (see :mod:`kiban.platform.throttle`): shared by
    every process of a cluster, so that N workers do not give a guesser N budgets. Rows of
    keys quiet for longer than their throttle forgives are pruned."""

    __tablename__ = "platform_throttle"
    __table_args__ = (Index("ix_platform_throttle_last_failure_at", "last_failure_at"),)

    throttle: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime]
    lockouts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime]
