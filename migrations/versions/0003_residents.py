"""Resident register: households, persons, record versions.

Revision ID: 0003_residents
Revises: 0002_address
Create Date: 2026-11-26 09:53:33.131140
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0003_residents"
down_revision: str | None = "0002_address"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "residents_households",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("head_person_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_households")),
    )
    with op.batch_alter_table("residents_households", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_households_lg_code"), ["lg_code"], unique=False
        )

    op.create_table(
        "residents_persons",
        sa.Column("individual_number", sa.String(length=12), nullable=False),
        sa.Column("family_name", sa.String(length=64), nullable=False),
        sa.Column("given_name", sa.String(length=64), nullable=False),
        sa.Column("family_name_kana", sa.String(length=128), nullable=False),
        sa.Column("given_name_kana", sa.String(length=128), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("male", "female", name="sex", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "resident", "moved_out", "deceased", name="status", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("town_id", sa.Uuid(), nullable=False),
        sa.Column("chome", sa.Integer(), nullable=True),
        sa.Column("block_number", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=128), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.Column("resident_since", sa.Date(), nullable=False),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.Column("moved_out_to", sa.String(length=256), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["residents_households.id"],
            name=op.f("fk_residents_persons_household_id_residents_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_persons")),
        sa.UniqueConstraint(
            "individual_number", name=op.f("uq_residents_persons_individual_number")
        ),
    )
    with op.batch_alter_table("residents_persons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_persons_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "ix_residents_persons_lg_code_status", ["lg_code", "status"], unique=False
        )

    op.create_table(
        "residents_record_versions",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "registered",
                "birth",
                "move_in",
                "move_out",
                "move_within",
                "death",
                "name_change",
                "head_change",
                name="changereason",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["residents_persons.id"],
            name=op.f("fk_residents_record_versions_person_id_residents_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_record_versions")),
        sa.UniqueConstraint(
            "person_id", "version", name=op.f("uq_residents_record_versions_person_id_version")
        ),
    )


def downgrade() -> None:

    op.drop_table("residents_record_versions")
    with op.batch_alter_table("residents_persons", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_persons_lg_code_status")
        batch_op.drop_index(batch_op.f("ix_residents_persons_household_id"))

    op.drop_table("residents_persons")
    with op.batch_alter_table("residents_households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_households_lg_code"))

    op.drop_table("residents_households")
