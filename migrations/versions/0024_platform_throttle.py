"""The throttle's counts in the database, shared by every process of a cluster.

Revision ID: 0024_platform_throttle
Revises: 0023_credentials
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0024_platform_throttle"
down_revision: str | None = "0023_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_throttle",
        sa.Column("throttle", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "window_started_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("throttle", "key", name=op.f("pk_platform_throttle")),
    )
    op.create_index(
        "ix_platform_throttle_last_failure_at", "platform_throttle", ["last_failure_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_platform_throttle_last_failure_at", table_name="platform_throttle")
    op.drop_table("platform_throttle")
