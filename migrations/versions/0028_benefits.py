"""Benefits: programme definitions (as data), push runs and determinations (one per programme
× period × recipient).

Revision ID: 0028_benefits
Revises: 0027_payments
Create Date: 2026-12-07 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0028_benefits"
down_revision: str | None = "0027_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "benefits_programmes",
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("defined_by", sa.String(length=200), nullable=False),
        sa.Column("defined_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_benefits_programmes_code")),
    )
    op.create_table(
        "benefits_runs",
        sa.Column("programme_code", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("base_date", sa.Date(), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("opt_out_until", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_runs")),
        sa.UniqueConstraint(
            "programme_code", "period", name=op.f("uq_benefits_runs_programme_code_period")
        ),
    )
    op.create_table(
        "benefits_determinations",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("amount_yen", sa.Integer(), nullable=False),
        sa.Column("lines", _JSON, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("opt_out_until", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("correction", sa.String(length=400), nullable=True),
        sa.Column("determined_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_determinations")),
        sa.UniqueConstraint(
            "programme_code",
            "period",
            "recipient_id",
            name=op.f("uq_benefits_determinations_programme_code_period_recipient_id"),
        ),
    )
    op.create_index(
        "ix_benefits_determinations_run_status",
        "benefits_determinations",
        ["run_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_determinations_recipient",
        "benefits_determinations",
        ["recipient_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_benefits_determinations_recipient", table_name="benefits_determinations")
    op.drop_index("ix_benefits_determinations_run_status", table_name="benefits_determinations")
    op.drop_table("benefits_determinations")
    op.drop_table("benefits_runs")
    op.drop_table("benefits_programmes")
