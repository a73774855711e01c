"""Identity: OpenID Connect provider (clients, authorization requests, codes, tokens, consents).

Revision ID: 0006_identity_oidc
Revises: 0005_identity_pki
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0006_identity_oidc"
down_revision: str | None = "0005_identity_pki"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=512), nullable=False),
        sa.Column(
            "allowed_scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sector_identifier", sa.String(length=255), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_identity_oidc_clients_client_id")),
    )
    op.create_table(
        "identity_oidc_authorizations",
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("browser_binding", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("challenge", sa.String(length=128), nullable=True),
        sa.Column(
            "challenge_expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("auth_time", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("signing_certificate_pem", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["identity_oidc_clients.id"],
            name=op.f("fk_identity_oidc_authorizations_client_pk_identity_oidc_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_authorizations")),
    )
    with op.batch_alter_table("identity_oidc_authorizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_oidc_authorizations_client_pk"), ["client_pk"], unique=False
        )

    op.create_table(
        "identity_oidc_consents",
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["identity_oidc_clients.id"],
            name=op.f("fk_identity_oidc_consents_client_pk_identity_oidc_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_consents")),
        sa.UniqueConstraint(
            "client_pk", "person_id", name=op.f("uq_identity_oidc_consents_client_pk_person_id")
        ),
    )
    with op.batch_alter_table("identity_oidc_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_oidc_consents_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "identity_oidc_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["identity_oidc_authorizations.id"],
            name=op.f("fk_identity_oidc_codes_authorization_id_identity_oidc_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["identity_oidc_clients.id"],
            name=op.f("fk_identity_oidc_codes_client_pk_identity_oidc_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_identity_oidc_codes_code_hash")),
    )
    with op.batch_alter_table("identity_oidc_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_oidc_codes_authorization_id"),
            ["authorization_id"],
            unique=False,
        )

    op.create_table(
        "identity_oidc_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["identity_oidc_clients.id"],
            name=op.f("fk_identity_oidc_access_tokens_client_pk_identity_oidc_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["identity_oidc_codes.id"],
            name=op.f("fk_identity_oidc_access_tokens_code_id_identity_oidc_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_identity_oidc_access_tokens_token_hash")),
    )
    with op.batch_alter_table("identity_oidc_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_oidc_access_tokens_code_id"), ["code_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_oidc_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_oidc_access_tokens_code_id"))

    op.drop_table("identity_oidc_access_tokens")
    with op.batch_alter_table("identity_oidc_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_oidc_codes_authorization_id"))

    op.drop_table("identity_oidc_codes")
    with op.batch_alter_table("identity_oidc_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_oidc_consents_person_id"))

    op.drop_table("identity_oidc_consents")
    with op.batch_alter_table("identity_oidc_authorizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_oidc_authorizations_client_pk"))

    op.drop_table("identity_oidc_authorizations")
    op.drop_table("identity_oidc_clients")
