"""Address base registry: prefectures, municipalities, towns.

Revision ID: 0002_address
Revises: 0001_platform
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0002_address"
down_revision: str | None = "0001_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address_prefectures",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=8), nullable=False),
        sa.Column("kana", sa.String(length=32), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_address_prefectures")),
    )
    op.create_table(
        "address_municipalities",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("pref_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kana", sa.String(length=128), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=True),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pref_code"],
            ["address_prefectures.code"],
            name=op.f("fk_address_municipalities_pref_code_address_prefectures"),
        ),
        sa.PrimaryKeyConstraint("lg_code", name=op.f("pk_address_municipalities")),
    )
    with op.batch_alter_table("address_municipalities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_address_municipalities_pref_code"), ["pref_code"], unique=False
        )

    op.create_table(
        "address_towns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kana", sa.String(length=256), nullable=False),
        sa.Column("has_chome", sa.Boolean(), nullable=False),
        sa.Column(
            "postal_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lg_code"],
            ["address_municipalities.lg_code"],
            name=op.f("fk_address_towns_lg_code_address_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_towns")),
        sa.UniqueConstraint(
            "lg_code", "machiaza_id", name=op.f("uq_address_towns_lg_code_machiaza_id")
        ),
        sa.UniqueConstraint("lg_code", "name", name=op.f("uq_address_towns_lg_code_name")),
    )


def downgrade() -> None:
    op.drop_table("address_towns")
    with op.batch_alter_table("address_municipalities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_municipalities_pref_code"))
    op.drop_table("address_municipalities")
    op.drop_table("address_prefectures")
