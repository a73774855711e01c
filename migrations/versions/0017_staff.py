"""Staff: organisations, departments, roles as data, staff accounts with memberships and
history, and service accounts' API keys (SHA-256 only).

Revision ID: 0017_staff
Revises: 0016_platform_web_sessions
Create Date: 2026-12-07 15:10:53.463257
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0017_staff"
down_revision: str | None = "0016_platform_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_break_glass",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_break_glass")),
    )
    with op.batch_alter_table("staff_break_glass", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_break_glass_account_person", ["account_id", "person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_break_glass_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "staff_account_events",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account_events")),
    )
    with op.batch_alter_table("staff_account_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_account_events_account_at", ["account_id", "at"], unique=False
        )

    op.create_table(
        "staff_accounts",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
    )
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_staff_accounts_person_id", ["person_id"], unique=False)

    op.create_table(
        "staff_api_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_staff_api_keys_prefix")),
    )
    with op.batch_alter_table("staff_api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_api_keys_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "staff_departments",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_departments")),
        sa.UniqueConstraint(
            "organisation_id", "code", name=op.f("uq_staff_departments_organisation_id_code")
        ),
    )
    op.create_table(
        "staff_memberships",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_memberships")),
    )
    with op.batch_alter_table("staff_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_staff_memberships_account_id", ["account_id"], unique=False)

    op.create_table(
        "staff_organisations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_staff_organisations_code")),
    )
    op.create_table(
        "staff_roles",
        sa.Column("organisation_kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_ja", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_roles")),
        sa.UniqueConstraint(
            "organisation_kind", "code", name=op.f("uq_staff_roles_organisation_kind_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("staff_break_glass")
    op.drop_table("staff_roles")
    op.drop_table("staff_organisations")
    with op.batch_alter_table("staff_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_memberships_account_id")

    op.drop_table("staff_memberships")
    op.drop_table("staff_departments")
    with op.batch_alter_table("staff_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_api_keys_account_id"))

    op.drop_table("staff_api_keys")
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_accounts_person_id")

    op.drop_table("staff_accounts")
    with op.batch_alter_table("staff_account_events", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_account_events_account_at")

    op.drop_table("staff_account_events")
