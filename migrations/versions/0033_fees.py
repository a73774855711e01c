"""Fees (政府共通決済): payment intents for procedures' fees, their refunds, and the ledger
postings that carry the fee they belong to.

Revision ID: 0033_fees
Revises: 0032_death
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0033_fees"
down_revision: str | None = "0032_death"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments_fees",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("paid_application_id", sa.Uuid(), nullable=True),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("office", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("failure", sa.String(length=32), nullable=True),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_fees")),
        sa.UniqueConstraint(
            "paid_application_id", name=op.f("uq_payments_fees_paid_application_id")
        ),
        sa.UniqueConstraint("provider_id", name=op.f("uq_payments_fees_provider_id")),
    )
    with op.batch_alter_table("payments_fees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_fees_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_fees_office"), ["office"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_fees_person_id"), ["person_id"], unique=False)
    op.create_table(
        "payments_fee_refunds",
        sa.Column("fee_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("official", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_fee_refunds")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_payments_fee_refunds_provider_id")),
    )
    with op.batch_alter_table("payments_fee_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_fee_refunds_fee_id"), ["fee_id"], unique=False
        )
    with op.batch_alter_table("payments_postings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_postings_fee_id"), ["fee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_postings_fee_id"))
        batch_op.drop_column("fee_id")
    with op.batch_alter_table("payments_fee_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_fee_refunds_fee_id"))
    op.drop_table("payments_fee_refunds")
    with op.batch_alter_table("payments_fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_fees_person_id"))
        batch_op.drop_index(batch_op.f("ix_payments_fees_office"))
        batch_op.drop_index(batch_op.f("ix_payments_fees_application_id"))
    op.drop_table("payments_fees")
