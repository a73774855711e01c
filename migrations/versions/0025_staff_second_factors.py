"""Staff: officials' second factors (WebAuthn credentials, TOTP secrets encrypted) and the
WebAuthn challenges handed to browsers.

Revision ID: 0025_staff_second_factors
Revises: 0024_platform_throttle
Create Date: 2026-12-07 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0025_staff_second_factors"
down_revision: str | None = "0024_platform_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_webauthn_credentials",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.String(length=2000), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "transports",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_webauthn_credentials")),
        sa.UniqueConstraint(
            "credential_id", name=op.f("uq_staff_webauthn_credentials_credential_id")
        ),
    )
    with op.batch_alter_table("staff_webauthn_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_webauthn_credentials_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "staff_totp_secrets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=500), nullable=False),
        sa.Column("confirmed_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_totp_secrets")),
        sa.UniqueConstraint("account_id", name=op.f("uq_staff_totp_secrets_account_id")),
    )

    op.create_table(
        "staff_factor_challenges",
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("binding", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("challenge", sa.String(length=200), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_factor_challenges")),
    )
    with op.batch_alter_table("staff_factor_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_staff_factor_challenges_binding", ["binding"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_factor_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_factor_challenges_binding")
    op.drop_table("staff_factor_challenges")
    op.drop_table("staff_totp_secrets")
    with op.batch_alter_table("staff_webauthn_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_webauthn_credentials_account_id"))
    op.drop_table("staff_webauthn_credentials")
