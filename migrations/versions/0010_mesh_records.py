"""Mesh: access records (情報提供等記録) and signed checkpoints.

Revision ID: 0010_mesh_records
Revises: 0009_mesh_core
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0010_mesh_records"
down_revision: str | None = "0009_mesh_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mesh_access_records",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("counterpart", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("items", _json(), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=True),
        sa.Column("consent_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=200), nullable=False),
        sa.Column("response_hash", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("requested_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("provided_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("non_disclosure_until", sa.Date(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_access_records")),
        sa.UniqueConstraint("hash", name=op.f("uq_mesh_access_records_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_mesh_access_records_seq")),
    )
    with op.batch_alter_table("mesh_access_records", schema=None) as batch_op:
        batch_op.create_index("ix_mesh_access_records_message_id", ["message_id"], unique=False)
        batch_op.create_index(
            "ix_mesh_access_records_person_id_seq", ["person_id", "seq"], unique=False
        )

    op.create_table(
        "mesh_record_chain_heads",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_record_chain_heads")),
    )

    op.create_table(
        "mesh_record_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", kiban.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("frontier", _json(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_record_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_mesh_record_checkpoints_tree_size")),
    )


def downgrade() -> None:
    op.drop_table("mesh_record_checkpoints")
    op.drop_table("mesh_record_chain_heads")
    with op.batch_alter_table("mesh_access_records", schema=None) as batch_op:
        batch_op.drop_index("ix_mesh_access_records_person_id_seq")
        batch_op.drop_index("ix_mesh_access_records_message_id")
    op.drop_table("mesh_access_records")
