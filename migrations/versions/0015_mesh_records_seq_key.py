"""Mesh: an access record's position in the log (``seq``) becomes its primary key.

The random UUID key and the unique index on ``hash`` are dropped. Every exchange writes two
records, and each random index costs a page written per record; neither guarded anything the
chain does not (a record is found by its position, and a repeated hash would be a broken
chain, which ``kiban mesh verify`` reports). On SQLite the key is the rowid, so the records are
stored in log order with no index beside them.

Revision ID: 0015_mesh_records_seq_key
Revises: 0014_procedures
Create Date: 2026-12-04 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiban.platform.db

revision: str = "0015_mesh_records_seq_key"
down_revision: str | None = "0014_procedures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mesh_access_records"
PERSON_INDEX = ("ix_mesh_access_records_person_id_seq", ["person_id", "seq"])
MESSAGE_INDEX = ("ix_mesh_access_records_message_id", ["message_id"])
# Every column but the key, in the table's order.
COLUMNS = (
    "recorded_at, person_id, side, member, counterpart, agency_code, service, items, "
    "legal_basis, consent_id, message_id, request_hash, response_hash, outcome, requested_at, "
    "provided_at, non_disclosure_until, prev_hash, hash"
)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _instant() -> kiban.platform.db.UtcDateTime:
    return kiban.platform.db.UtcDateTime(timezone=True)


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("recorded_at", _instant(), nullable=False),
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
        sa.Column("requested_at", _instant(), nullable=False),
        sa.Column("provided_at", _instant(), nullable=True),
        sa.Column("non_disclosure_until", sa.Date(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
    ]


def _rebuild_sqlite(
    key: list[sa.Column[object]], constraints: list[sa.Constraint], copy: str
) -> None:
    """SQLite cannot change a table's key in place: build the new table, copy, swap."""
    for name, _ in (PERSON_INDEX, MESSAGE_INDEX):
        op.drop_index(name, table_name=TABLE)
    op.create_table(f"_new_{TABLE}", *key, *_columns(), *constraints)
    op.execute(f"INSERT INTO _new_{TABLE} SELECT {copy} FROM {TABLE}")  # noqa: S608
    op.drop_table(TABLE)
    op.rename_table(f"_new_{TABLE}", TABLE)
    for name, columns in (MESSAGE_INDEX, PERSON_INDEX):
        op.create_index(name, TABLE, columns, unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # INTEGER (not BIGINT) PRIMARY KEY: SQLite's rowid, 64 bits.
        _rebuild_sqlite(
            [sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False)],
            [sa.PrimaryKeyConstraint("seq", name=op.f("pk_mesh_access_records"))],
            f"seq, {COLUMNS}",
        )
        return
    op.drop_constraint("pk_mesh_access_records", TABLE, type_="primary")
    op.drop_constraint("uq_mesh_access_records_hash", TABLE, type_="unique")
    op.drop_constraint("uq_mesh_access_records_seq", TABLE, type_="unique")
    op.drop_column(TABLE, "id")
    op.create_primary_key("pk_mesh_access_records", TABLE, ["seq"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(
            [
                sa.Column("seq", sa.BigInteger(), nullable=False),
                sa.Column("id", sa.Uuid(), nullable=False),
            ],
            [
                sa.PrimaryKeyConstraint("id", name=op.f("pk_mesh_access_records")),
                sa.UniqueConstraint("hash", name=op.f("uq_mesh_access_records_hash")),
                sa.UniqueConstraint("seq", name=op.f("uq_mesh_access_records_seq")),
            ],
            f"seq, lower(hex(randomblob(16))), {COLUMNS}",
        )
        return
    op.drop_constraint("pk_mesh_access_records", TABLE, type_="primary")
    op.add_column(TABLE, sa.Column("id", sa.Uuid(), nullable=True))
    op.execute(f"UPDATE {TABLE} SET id = gen_random_uuid()")  # noqa: S608
    op.alter_column(TABLE, "id", nullable=False)
    op.create_primary_key("pk_mesh_access_records", TABLE, ["id"])
    op.create_unique_constraint("uq_mesh_access_records_seq", TABLE, ["seq"])
    op.create_unique_constraint("uq_mesh_access_records_hash", TABLE, ["hash"])
