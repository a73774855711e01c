"""Platform: server-side web sessions (``platform_web_sessions``).

Revision ID: 0016_platform_web_sessions
Revises: 0015_mesh_records_seq_key
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0016_platform_web_sessions"
down_revision: str | None = "0015_mesh_records_seq_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _instant() -> kiban.platform.db.UtcDateTime:
    return kiban.platform.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "platform_web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("last_seen_at", _instant(), nullable=False),
        sa.Column("authenticated_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", _instant(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_platform_web_sessions_token_hash")),
    )
    with op.batch_alter_table("platform_web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_web_sessions_audience_subject", ["audience", "subject"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("platform_web_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_web_sessions_audience_subject")
    op.drop_table("platform_web_sessions")
