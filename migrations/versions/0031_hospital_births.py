"""Reference maternity hospital: its patients and the births it certifies.

Revision ID: 0031_hospital_births
Revises: 0028_benefits
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0031_hospital_births"
down_revision: str | None = "0028_benefits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies_hospital_patients",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("address_changed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_hospital_patients")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agencies_hospital_patients_agency_code")),
    )
    op.create_table(
        "agencies_hospital_births",
        sa.Column("certificate_number", sa.String(length=16), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("born_at", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=256), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("sent_to", sa.String(length=256), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies_hospital_births")),
        sa.UniqueConstraint(
            "certificate_number", name=op.f("uq_agencies_hospital_births_certificate_number")
        ),
    )
    op.create_index(
        op.f("ix_agencies_hospital_births_agency_code"),
        "agencies_hospital_births",
        ["agency_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_agencies_hospital_births_agency_code"), table_name="agencies_hospital_births"
    )
    op.drop_table("agencies_hospital_births")
    op.drop_table("agencies_hospital_patients")
