"""Credentials: issued SD-JWT VC credentials (no claims, only their place in a status list),
the Token Status Lists they point to, and OpenID4VCI offers (digests of their codes only).

Revision ID: 0023_credentials
Revises: 0022_address_towns_official_name
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0023_credentials"
down_revision: str | None = "0022_address_towns_official_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credentials_status_lists",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_status_lists")),
        sa.UniqueConstraint("number", name=op.f("uq_credentials_status_lists_number")),
    )
    op.create_table(
        "credentials_credentials",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("credential_type", sa.String(length=64), nullable=False),
        sa.Column("vct", sa.String(length=300), nullable=False),
        sa.Column("holder_key_thumbprint", sa.String(length=64), nullable=False),
        sa.Column("status_list_number", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=64), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_credentials")),
        sa.UniqueConstraint(
            "status_list_number",
            "status_index",
            name=op.f("uq_credentials_credentials_status_list_number_status_index"),
        ),
    )
    op.create_table(
        "credentials_offers",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("credential_type", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("access_token_hash", sa.String(length=64), nullable=True),
        sa.Column("access_expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("credential_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_offers")),
        sa.UniqueConstraint(
            "access_token_hash", name=op.f("uq_credentials_offers_access_token_hash")
        ),
        sa.UniqueConstraint("code_hash", name=op.f("uq_credentials_offers_code_hash")),
    )
    op.create_index(
        op.f("ix_credentials_offers_person_id"), "credentials_offers", ["person_id"], unique=False
    )
    op.create_index(
        "ix_credentials_credentials_person_type",
        "credentials_credentials",
        ["person_id", "credential_type"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_credentials_credentials_person_type", table_name="credentials_credentials")
    op.drop_index(op.f("ix_credentials_offers_person_id"), table_name="credentials_offers")
    op.drop_table("credentials_offers")
    op.drop_table("credentials_credentials")
    op.drop_table("credentials_status_lists")
