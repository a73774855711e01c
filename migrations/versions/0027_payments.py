"""Payments: the Zengin bank and branch list, receiving accounts (versioned), obligations,
batches with lines and approvals, the double-entry ledger; the reference bank's accounts gain a
bank code, the holder name in kana and a closed flag.

Revision ID: 0027_payments
Revises: 0025_staff_second_factors
Create Date: 2026-12-07 18:30:11.724367
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiban.platform.db

revision: str = "0027_payments"
down_revision: str | None = "0025_staff_second_factors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments_accounts",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("holder_kana", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verification", sa.String(length=32), nullable=True),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_accounts")),
        sa.UniqueConstraint(
            "person_id", "version", name=op.f("uq_payments_accounts_person_id_version")
        ),
    )
    with op.batch_alter_table("payments_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_accounts_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "payments_approvals",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("official", sa.String(length=200), nullable=False),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_approvals")),
        sa.UniqueConstraint(
            "batch_id", "official", name=op.f("uq_payments_approvals_batch_id_official")
        ),
    )
    with op.batch_alter_table("payments_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_approvals_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "payments_banks",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_payments_banks")),
    )
    op.create_table(
        "payments_batches",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("programme", sa.String(length=64), nullable=False),
        sa.Column("payer", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("maker", sa.String(length=200), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("exported_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("transfer_date", sa.String(length=4), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_batches")),
        sa.UniqueConstraint("number", name=op.f("uq_payments_batches_number")),
    )
    op.create_table(
        "payments_branches",
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("bank_code", "code", name=op.f("pk_payments_branches")),
    )
    op.create_table(
        "payments_lines",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("open_obligation_id", sa.Uuid(), nullable=True),
        sa.Column("paid_obligation_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("bank_code", sa.String(length=4), nullable=True),
        sa.Column("branch_code", sa.String(length=3), nullable=True),
        sa.Column("account_type", sa.String(length=16), nullable=True),
        sa.Column("account_number", sa.String(length=7), nullable=True),
        sa.Column("holder_kana", sa.String(length=30), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_lines")),
        sa.UniqueConstraint("batch_id", "number", name=op.f("uq_payments_lines_batch_id_number")),
        sa.UniqueConstraint(
            "open_obligation_id", name=op.f("uq_payments_lines_open_obligation_id")
        ),
        sa.UniqueConstraint(
            "paid_obligation_id", name=op.f("uq_payments_lines_paid_obligation_id")
        ),
    )
    with op.batch_alter_table("payments_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_lines_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_lines_obligation_id"), ["obligation_id"], unique=False
        )

    op.create_table(
        "payments_obligations",
        sa.Column("programme", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payer", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_obligations")),
        sa.UniqueConstraint(
            "programme",
            "person_id",
            "period",
            name=op.f("uq_payments_obligations_programme_person_id_period"),
        ),
    )
    with op.batch_alter_table("payments_obligations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_obligations_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "ix_payments_obligations_programme_status", ["programme", "status"], unique=False
        )

    op.create_table(
        "payments_postings",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.Column("ledger_account", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_postings")),
        sa.UniqueConstraint(
            "entry_key",
            "ledger_account",
            name=op.f("uq_payments_postings_entry_key_ledger_account"),
        ),
    )
    with op.batch_alter_table("payments_postings", schema=None) as batch_op:
        batch_op.create_index("ix_payments_postings_batch", ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_postings_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_postings_obligation_id"), ["obligation_id"], unique=False
        )

    with op.batch_alter_table("agencies_bank_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_code", sa.String(length=4), server_default="0999", nullable=False)
        )
        batch_op.add_column(sa.Column("holder_kana", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agencies_bank_accounts", schema=None) as batch_op:
        batch_op.drop_column("closed")
        batch_op.drop_column("holder_kana")
        batch_op.drop_column("bank_code")

    with op.batch_alter_table("payments_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_postings_obligation_id"))
        batch_op.drop_index(batch_op.f("ix_payments_postings_entry_id"))
        batch_op.drop_index("ix_payments_postings_batch")

    op.drop_table("payments_postings")
    with op.batch_alter_table("payments_obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_obligations_programme_status")
        batch_op.drop_index(batch_op.f("ix_payments_obligations_person_id"))

    op.drop_table("payments_obligations")
    with op.batch_alter_table("payments_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_lines_obligation_id"))
        batch_op.drop_index(batch_op.f("ix_payments_lines_batch_id"))

    op.drop_table("payments_lines")
    op.drop_table("payments_branches")
    op.drop_table("payments_batches")
    op.drop_table("payments_banks")
    with op.batch_alter_table("payments_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_approvals_batch_id"))

    op.drop_table("payments_approvals")
    with op.batch_alter_table("payments_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_accounts_person_id"))

    op.drop_table("payments_accounts")
