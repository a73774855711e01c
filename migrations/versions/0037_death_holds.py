"""After a death: payments to the deceased held with a reason, and corporations findable by
their representative's person id (おくやみ lists the businesses the deceased represented).

Revision ID: 0037_death_holds
Revises: 0036_credentials_verifier
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0037_death_holds"
down_revision: str | None = "0036_credentials_verifier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments_obligations") as batch:
        batch.add_column(sa.Column("hold_reason", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("held_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("corporations_corporations") as batch:
        batch.add_column(sa.Column("representative_person_id", sa.Uuid(), nullable=True))
        batch.create_index(
            batch.f("ix_corporations_corporations_representative_person_id"),
            ["representative_person_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("corporations_corporations") as batch:
        batch.drop_index(batch.f("ix_corporations_corporations_representative_person_id"))
        batch.drop_column("representative_person_id")
    with op.batch_alter_table("payments_obligations") as batch:
        batch.drop_column("held_at")
        batch.drop_column("hold_reason")
