"""Qualifications: the national qualifications registry (registrations and their history);
credentials' status lists widened to two bits (suspension).

Revision ID: 0035_qualifications
Revises: 0033_fees
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0035_qualifications"
down_revision: str | None = "0033_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = kiban.platform.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    # Status lists get two bits per credential so that a suspension (2) can be published; an
    # index keeps its meaning, and verifiers read ``bits`` from each list they fetch.
    op.execute("UPDATE credentials_status_lists SET bits = 2 WHERE bits = 1")
    op.create_table(
        "qualifications_holders",
        sa.Column("qualification", sa.String(length=48), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("registration_number", sa.String(length=32), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications_holders")),
        sa.UniqueConstraint(
            "qualification",
            "registration_number",
            name=op.f("uq_qualifications_holders_qualification_registration_number"),
        ),
    )
    op.create_index(
        "ix_qualifications_holders_person", "qualifications_holders", ["person_id"], unique=False
    )
    op.create_index(
        "ix_qualifications_holders_authority",
        "qualifications_holders",
        ["authority", "qualification"],
        unique=False,
    )
    op.create_table(
        "qualifications_history",
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("acted_by", sa.String(length=200), nullable=False),
        sa.Column("acted_at", _TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications_history")),
        sa.UniqueConstraint(
            "holder_id", "version", name=op.f("uq_qualifications_history_holder_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("qualifications_history")
    op.drop_index("ix_qualifications_holders_authority", table_name="qualifications_holders")
    op.drop_index("ix_qualifications_holders_person", table_name="qualifications_holders")
    op.drop_table("qualifications_holders")
