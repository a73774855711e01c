"""Identity: card PKI (cards, certificates, revocation).

Revision ID: 0005_identity_pki
Revises: 0004_address_geo
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0005_identity_pki"
down_revision: str | None = "0004_address_geo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_cards",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(length=12), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "lost",
                "expired",
                "revoked",
                name="cardstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("active_person_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_cards")),
        sa.UniqueConstraint("active_person_id", name=op.f("uq_identity_cards_active_person_id")),
        sa.UniqueConstraint("card_number", name=op.f("uq_identity_cards_card_number")),
    )
    with op.batch_alter_table("identity_cards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_cards_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "identity_certificates",
        sa.Column("card_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("auth", "signing", name="certificatekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("good", "revoked", name="certificatestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("not_before", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("not_after", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["identity_cards.id"],
            name=op.f("fk_identity_certificates_card_id_identity_cards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_identity_certificates_serial")),
    )
    with op.batch_alter_table("identity_certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_certificates_card_id_kind", ["card_id", "kind"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_certificates_card_id_kind")
    op.drop_table("identity_certificates")
    with op.batch_alter_table("identity_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_cards_person_id"))
    op.drop_table("identity_cards")
