"""Credentials: registered relying parties and stored OpenID4VP presentation requests.

Revision ID: 0036_credentials_verifier
Revises: 0035_qualifications
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0036_credentials_verifier"
down_revision: str | None = "0035_qualifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credentials_relying_parties",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_ja", sa.String(length=200), nullable=False),
        sa.Column("display_en", sa.String(length=200), nullable=False),
        sa.Column("purpose_ja", sa.String(length=500), nullable=False),
        sa.Column("purpose_en", sa.String(length=500), nullable=False),
        sa.Column("credential_type", sa.String(length=64), nullable=False),
        sa.Column(
            "claims",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_relying_parties")),
        sa.UniqueConstraint("name", name=op.f("uq_credentials_relying_parties_name")),
    )
    op.create_table(
        "credentials_presentation_requests",
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("relying_party_id", sa.Uuid(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "claims",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("answered_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.String(length=64), nullable=True),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_presentation_requests")),
        sa.UniqueConstraint("handle", name=op.f("uq_credentials_presentation_requests_handle")),
        sa.UniqueConstraint("state", name=op.f("uq_credentials_presentation_requests_state")),
    )
    op.create_index(
        op.f("ix_credentials_presentation_requests_relying_party_id"),
        "credentials_presentation_requests",
        ["relying_party_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_credentials_presentation_requests_relying_party_id"),
        table_name="credentials_presentation_requests",
    )
    op.drop_table("credentials_presentation_requests")
    op.drop_table("credentials_relying_parties")
