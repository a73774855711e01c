"""Resident register: read records (閲覧記録), one row per person an official or operator read.

Revision ID: 0018_residents_read_records
Revises: 0017_staff
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0018_residents_read_records"
down_revision: str | None = "0017_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "residents_read_records",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("organisation", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum(
                "register_administration",
                "certificate",
                "procedure",
                "operation",
                name="readpurpose",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("route", sa.String(length=160), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["residents_persons.id"],
            name=op.f("fk_residents_read_records_person_id_residents_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_read_records")),
    )
    with op.batch_alter_table("residents_read_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_residents_read_records_person_id_read_at", ["person_id", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("residents_read_records", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_read_records_person_id_read_at")
    op.drop_table("residents_read_records")
