"""Mesh: consent artefacts and their status chain.

Revision ID: 0011_mesh_consent
Revises: 0010_mesh_records
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0011_mesh_consent"
down_revision: str | None = "0010_mesh_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mesh_consents",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("purpose_text", sa.String(length=500), nullable=False),
        sa.Column("items", _json(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("fetch_type", sa.String(length=16), nullable=False),
        sa.Column("frequency", _json(), nullable=True),
        sa.Column("data_life_days", sa.Integer(), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_consents")),
    )
    op.create_index(
        "ix_mesh_consents_person_company", "mesh_consents", ["person_id", "company"], unique=False
    )
    op.create_table(
        "mesh_consent_statuses",
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_consent_statuses")),
        sa.UniqueConstraint(
            "consent_id", "seq", name=op.f("uq_mesh_consent_statuses_consent_id_seq")
        ),
    )
    op.create_index(
        op.f("ix_mesh_consent_statuses_consent_id"),
        "mesh_consent_statuses",
        ["consent_id"],
        unique=False,
    )
    op.create_table(
        "mesh_consent_uses",
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("used_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_consent_uses")),
        sa.UniqueConstraint(
            "consent_id",
            "period",
            "slot",
            name=op.f("uq_mesh_consent_uses_consent_id_period_slot"),
        ),
    )


def downgrade() -> None:
    op.drop_table("mesh_consent_uses")
    op.drop_index(op.f("ix_mesh_consent_statuses_consent_id"), table_name="mesh_consent_statuses")
    op.drop_table("mesh_consent_statuses")
    op.drop_index("ix_mesh_consents_person_company", table_name="mesh_consents")
    op.drop_table("mesh_consents")
