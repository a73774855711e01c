"""Procedures: applications as a hash-chained action journal, tasks and prefill sources.

Revision ID: 0014_procedures
Revises: 0013_notifications
Create Date: 2026-11-26 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0014_procedures"
down_revision: str | None = "0013_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _instant() -> kiban.platform.db.UtcDateTime:
    return kiban.platform.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "procedures_actions",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("state_before", sa.String(length=64), nullable=True),
        sa.Column("state_after", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", _json(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures_actions")),
        sa.UniqueConstraint(
            "application_id", "seq", name=op.f("uq_procedures_actions_application_id_seq")
        ),
    )
    op.create_table(
        "procedures_applications",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("office", sa.String(length=6), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("values", _json(), nullable=False),
        sa.Column("sources", _json(), nullable=False),
        sa.Column("outputs", _json(), nullable=False),
        sa.Column("signature", _json(), nullable=True),
        sa.Column("submitted_at", _instant(), nullable=True),
        sa.Column("closed_at", _instant(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures_applications")),
    )
    op.create_index(
        "ix_procedures_applications_applicant",
        "procedures_applications",
        ["applicant_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_procedures_applications_code",
        "procedures_applications",
        ["code", "state"],
        unique=False,
    )
    op.create_index(
        "ix_procedures_applications_state_office",
        "procedures_applications",
        ["state", "office"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_procedures_applications_state_office", table_name="procedures_applications")
    op.drop_index("ix_procedures_applications_code", table_name="procedures_applications")
    op.drop_index("ix_procedures_applications_applicant", table_name="procedures_applications")
    op.drop_table("procedures_applications")
    op.drop_table("procedures_actions")
