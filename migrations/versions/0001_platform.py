"""Platform tables: audit log, outbox and consumer bookkeeping.

Revision ID: 0001_platform
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_platform"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "platform_audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_audit_chain_head")),
    )
    op.create_table(
        "platform_audit_entries",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_platform_audit_entries_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_platform_audit_entries_seq")),
    )
    with op.batch_alter_table("platform_audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_platform_audit_entries_subject", ["subject"], unique=False)
        batch_op.create_index("ix_platform_audit_entries_tag", ["tag"], unique=False)

    op.create_table(
        "platform_consumed_events",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_consumed_events")),
        sa.UniqueConstraint(
            "consumer", "event_id", name=op.f("uq_platform_consumed_events_consumer_event_id")
        ),
    )
    op.create_table(
        "platform_delivery_failures",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_delivery_failures")),
        sa.UniqueConstraint(
            "consumer", "event_id", name=op.f("uq_platform_delivery_failures_consumer_event_id")
        ),
    )
    op.create_table(
        "platform_outbox_events",
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_outbox_events")),
    )
    with op.batch_alter_table("platform_outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_outbox_events_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_platform_outbox_events_topic"), ["topic"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("platform_outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_outbox_events_topic"))
        batch_op.drop_index("ix_platform_outbox_events_status_created_at")
    op.drop_table("platform_outbox_events")
    op.drop_table("platform_delivery_failures")
    op.drop_table("platform_consumed_events")
    with op.batch_alter_table("platform_audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_audit_entries_tag")
        batch_op.drop_index("ix_platform_audit_entries_subject")
    op.drop_table("platform_audit_entries")
    op.drop_table("platform_audit_chain_head")
