"""Address: Address Base Registry tables and town versions.

Revision ID: 0008_address_abr
Revises: 0007_business_accounts
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0008_address_abr"
down_revision: str | None = "0007_business_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "address_abr_towns",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("machiaza_type", sa.String(length=1), nullable=True),
        sa.Column("pref", sa.String(length=8), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("ward", sa.String(length=32), nullable=True),
        sa.Column("oaza_cho", sa.String(length=128), nullable=True),
        sa.Column("oaza_cho_kana", sa.String(length=256), nullable=True),
        sa.Column("chome", sa.String(length=32), nullable=True),
        sa.Column("chome_number", sa.Integer(), nullable=True),
        sa.Column("koaza", sa.String(length=128), nullable=True),
        sa.Column("koaza_kana", sa.String(length=256), nullable=True),
        sa.Column("rsdt_addr_flg", sa.Boolean(), nullable=False),
        sa.Column("status_flg", sa.String(length=1), nullable=True),
        sa.Column("efct_date", sa.Date(), nullable=True),
        sa.Column("ablt_date", sa.Date(), nullable=True),
        sa.Column("post_code", sa.String(length=7), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rep_lat", sa.Double(), nullable=True),
        sa.Column("rep_lon", sa.Double(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_abr_towns")),
        sa.UniqueConstraint(
            "lg_code", "machiaza_id", name=op.f("uq_address_abr_towns_lg_code_machiaza_id")
        ),
    )
    op.create_table(
        "address_blocks",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("blk_id", sa.String(length=3), nullable=False),
        sa.Column("blk_num", sa.String(length=16), nullable=False),
        sa.Column("rsdt_addr_flg", sa.Boolean(), nullable=False),
        sa.Column("efct_date", sa.Date(), nullable=True),
        sa.Column("ablt_date", sa.Date(), nullable=True),
        sa.Column("rep_lat", sa.Double(), nullable=True),
        sa.Column("rep_lon", sa.Double(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_blocks")),
        sa.UniqueConstraint(
            "lg_code",
            "machiaza_id",
            "blk_id",
            name=op.f("uq_address_blocks_lg_code_machiaza_id_blk_id"),
        ),
    )
    op.create_table(
        "address_parcels",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("prc_id", sa.String(length=15), nullable=False),
        sa.Column("prc_num1", sa.String(length=16), nullable=False),
        sa.Column("prc_num2", sa.String(length=16), nullable=True),
        sa.Column("prc_num3", sa.String(length=16), nullable=True),
        sa.Column("efct_date", sa.Date(), nullable=True),
        sa.Column("ablt_date", sa.Date(), nullable=True),
        sa.Column("rep_lat", sa.Double(), nullable=True),
        sa.Column("rep_lon", sa.Double(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_parcels")),
        sa.UniqueConstraint(
            "lg_code",
            "machiaza_id",
            "prc_id",
            name=op.f("uq_address_parcels_lg_code_machiaza_id_prc_id"),
        ),
    )
    op.create_table(
        "address_residences",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("blk_id", sa.String(length=3), nullable=False),
        sa.Column("rsdt_id", sa.String(length=3), nullable=False),
        sa.Column("rsdt2_id", sa.String(length=4), nullable=False),
        sa.Column("blk_num", sa.String(length=16), nullable=True),
        sa.Column("rsdt_num", sa.String(length=16), nullable=False),
        sa.Column("rsdt_num2", sa.String(length=16), nullable=True),
        sa.Column("efct_date", sa.Date(), nullable=True),
        sa.Column("ablt_date", sa.Date(), nullable=True),
        sa.Column("rep_lat", sa.Double(), nullable=True),
        sa.Column("rep_lon", sa.Double(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_residences")),
        sa.UniqueConstraint(
            "lg_code",
            "machiaza_id",
            "blk_id",
            "rsdt_id",
            "rsdt2_id",
            name=op.f("uq_address_residences_lg_code_machiaza_id_blk_id_rsdt_id_rsdt2_id"),
        ),
    )
    op.create_table(
        "address_town_versions",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("machiaza_id", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("efct_date", sa.Date(), nullable=True),
        sa.Column("ablt_date", sa.Date(), nullable=True),
        sa.Column("record", json, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_town_versions")),
        sa.UniqueConstraint(
            "lg_code",
            "machiaza_id",
            "version",
            name=op.f("uq_address_town_versions_lg_code_machiaza_id_version"),
        ),
    )


def downgrade() -> None:
    op.drop_table("address_town_versions")
    op.drop_table("address_residences")
    op.drop_table("address_parcels")
    op.drop_table("address_blocks")
    op.drop_table("address_abr_towns")
