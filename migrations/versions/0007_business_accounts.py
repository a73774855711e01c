"""Corporations registry and business accounts.

Revision ID: 0007_business_accounts
Revises: 0006_identity_oidc
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0007_business_accounts"
down_revision: str | None = "0006_identity_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kinds() -> sa.Enum:
    return sa.Enum(
        "kabushiki_kaisha",
        "yugen_kaisha",
        "godo_kaisha",
        "gomei_kaisha",
        "goshi_kaisha",
        "ippan_shadan_hojin",
        "ippan_zaidan_hojin",
        "koeki_shadan_hojin",
        "koeki_zaidan_hojin",
        "npo_hojin",
        "iryo_hojin",
        "shakai_fukushi_hojin",
        "gakko_hojin",
        name="corporationkind",
        native_enum=False,
        length=32,
    )


def upgrade() -> None:

    op.create_table(
        "corporations_corporations",
        sa.Column("corporate_number", sa.String(length=13), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("name_kana", sa.String(length=256), nullable=False),
        sa.Column("kind", _kinds(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "closed", name="corporationstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("town_id", sa.Uuid(), nullable=False),
        sa.Column("chome", sa.Integer(), nullable=True),
        sa.Column("block_number", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=128), nullable=True),
        sa.Column("address_text", sa.String(length=512), nullable=False),
        sa.Column("representative_name", sa.String(length=128), nullable=False),
        sa.Column("representative_name_kana", sa.String(length=256), nullable=True),
        sa.Column("representative_title", sa.String(length=32), nullable=False),
        sa.Column("representative_lg_code", sa.String(length=6), nullable=False),
        sa.Column("representative_town_id", sa.Uuid(), nullable=False),
        sa.Column("representative_chome", sa.Integer(), nullable=True),
        sa.Column("representative_block_number", sa.String(length=32), nullable=False),
        sa.Column("representative_building", sa.String(length=128), nullable=True),
        sa.Column("representative_address_text", sa.String(length=512), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporations_corporations")),
        sa.UniqueConstraint(
            "corporate_number", name=op.f("uq_corporations_corporations_corporate_number")
        ),
    )
    with op.batch_alter_table("corporations_corporations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corporations_corporations_lg_code"), ["lg_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("corporations_corporations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corporations_corporations_lg_code"))

    op.drop_table("corporations_corporations")
