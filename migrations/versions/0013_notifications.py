"""Notifications: notice templates, the inbox and each notice's delivery lifecycle.

Revision ID: 0013_notifications
Revises: 0012_agencies
Create Date: 2026-11-26 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0013_notifications"
down_revision: str | None = "0012_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notifications_notices",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("subject_ja", sa.String(length=300), nullable=False),
        sa.Column("subject_en", sa.String(length=300), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_notices")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_notices_dedupe_key")),
    )
    op.create_index(
        "ix_notifications_notices_person_created",
        "notifications_notices",
        ["person_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "notifications_steps",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_steps")),
        sa.UniqueConstraint(
            "notice_id", "status", name=op.f("uq_notifications_steps_notice_id_status")
        ),
    )
    op.create_index(
        op.f("ix_notifications_steps_notice_id"),
        "notifications_steps",
        ["notice_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_steps_notice_id"), table_name="notifications_steps")
    op.drop_table("notifications_steps")
    op.drop_index("ix_notifications_notices_person_created", table_name="notifications_notices")
    op.drop_table("notifications_notices")
