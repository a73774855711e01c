"""Death: the reference physician's death certificates (死亡診断書) and the day a pension
stopped because its holder died.

Revision ID: 0032_death
Revises: 0031_hospital_births
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0032_death"
down_revision: str | None = "0031_hospital_births"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies_physician_certificates",
        sa.Column("died_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("place_kind", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=256), nullable=False),
        sa.Column("cause_category", sa.String(length=32), nullable=False),
        sa.Column("physician", sa.String(length=64), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_physician_certificates")),
        sa.UniqueConstraint(
            "agency_code", name=op.f("uq_agencies_physician_certificates_agency_code")
        ),
    )
    with op.batch_alter_table("agencies_pension_records") as batch:
        batch.add_column(sa.Column("stopped_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agencies_pension_records") as batch:
        batch.drop_column("stopped_on")
    op.drop_table("agencies_physician_certificates")
