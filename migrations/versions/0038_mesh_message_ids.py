"""Mesh: the replay guard's message ids, one row per client and message id while fresh.

Revision ID: 0038_mesh_message_ids
Revises: 0037_death_holds
Create Date: 2026-12-07 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0038_mesh_message_ids"
down_revision: str | None = "0037_death_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mesh_message_ids",
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "message_id", name=op.f("pk_mesh_message_ids")),
    )
    with op.batch_alter_table("mesh_message_ids", schema=None) as batch_op:
        batch_op.create_index("ix_mesh_message_ids_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mesh_message_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_mesh_message_ids_expires_at")
    op.drop_table("mesh_message_ids")
