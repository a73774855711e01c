"""Corporations registry and business accounts.

Revision ID: 0007_business_accounts
Revises: 0006_identity_oidc
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

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

    op.create_table(
        "identity_business_accounts",
        sa.Column("corporation_id", sa.Uuid(), nullable=False),
        sa.Column("corporate_number", sa.String(length=13), nullable=False),
        sa.Column(
            "account_type",
            sa.Enum("prime", "member", name="accounttype", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "invited", "active", "removed", name="accountstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("prime_of", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column("invitation_code_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "invitation_expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("activated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_business_accounts")),
        sa.UniqueConstraint(
            "invitation_code_hash",
            name=op.f("uq_identity_business_accounts_invitation_code_hash"),
        ),
        sa.UniqueConstraint("prime_of", name=op.f("uq_identity_business_accounts_prime_of")),
    )
    with op.batch_alter_table("identity_business_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_business_accounts_corporation_id_status",
            ["corporation_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_identity_business_accounts_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "identity_business_applications",
        sa.Column("corporation_id", sa.Uuid(), nullable=False),
        sa.Column("corporate_number", sa.String(length=13), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("certificate_serial", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column(
            "application",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("recorded_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_business_accounts.id"],
            name=op.f("fk_identity_business_applications_account_id_identity_business_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_business_applications")),
        sa.UniqueConstraint("nonce", name=op.f("uq_identity_business_applications_nonce")),
    )

    op.create_table(
        "identity_business_delegations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        sa.Column("granted_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_business_accounts.id"],
            name=op.f("fk_identity_business_delegations_account_id_identity_business_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_business_delegations")),
    )
    with op.batch_alter_table("identity_business_delegations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_business_delegations_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("identity_business_delegations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_business_delegations_account_id"))

    op.drop_table("identity_business_delegations")
    op.drop_table("identity_business_applications")
    with op.batch_alter_table("identity_business_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_business_accounts_person_id"))
        batch_op.drop_index("ix_identity_business_accounts_corporation_id_status")

    op.drop_table("identity_business_accounts")

    with op.batch_alter_table("corporations_corporations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corporations_corporations_lg_code"))

    op.drop_table("corporations_corporations")
