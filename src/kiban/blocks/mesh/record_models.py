"""Tables of the access records (情報提供等記録): the records, their chain head and checkpoints.

Only :mod:`kiban.blocks.mesh.records` writes these tables. Rows are never updated or deleted:
each record is linked to its predecessor by ``prev_hash`` and signed checkpoints commit to
Merkle roots over the record hashes, so any later change is detected by
:func:`kiban.blocks.mesh.records.verify_log`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin

HASH_LENGTH = 64  # A SHA-256 digest in hexadecimal.


class MeshAccessRecord(Base):
    """One side's record of one exchange; the requester's and the provider's are separate rows.

    A record is keyed by its position in the log, ``seq`` (on SQLite the rowid: records are
    stored in log order, with no index beside them to update). ``hash`` is SHA-256 over the
    canonical encoding of every other column (see :func:`kiban.blocks.mesh.records.record_hash`).
    ``person_id`` is kiban's internal person id, never the My Number.
    """

    __tablename__ = "mesh_access_records"
    __table_args__ = (
        Index("ix_mesh_access_records_person_id_seq", "person_id", "seq"),
        Index("ix_mesh_access_records_message_id", "message_id"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    recorded_at: Mapped[datetime]
    person_id: Mapped[uuid.UUID]
    side: Mapped[str] = mapped_column(String(16))
    member: Mapped[str] = mapped_column(String(200))
    counterpart: Mapped[str] = mapped_column(String(200))
    agency_code: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(300))
    items: Mapped[list[Any]]
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    consent_id: Mapped[uuid.UUID | None]
    message_id: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(200))
    response_hash: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    provided_at: Mapped[datetime | None]
    non_disclosure_until: Mapped[date | None]
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class MeshRecordChainHead(Base):
    """The one row (``id = 1``) that names the newest access record.

    Appenders lock it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions begin
    IMMEDIATE), so concurrent writers queue instead of forking the chain.
    """

    __tablename__ = "mesh_record_chain_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class MeshRecordCheckpoint(IdMixin, Base):
    """A signed statement: the first ``tree_size`` records have the Merkle root ``root_hash``.

    ``signature`` is Ed25519 (hex) over :func:`kiban.blocks.mesh.records.checkpoint_message`
    by the key ``key_id`` names (the first 16 hex digits of SHA-256 over the raw public key).
    ``frontier`` holds the roots of the perfect subtrees the tree decomposes into, so the next
    checkpoint extends this one without rereading the whole log; verification never trusts it.
    """

    __tablename__ = "mesh_record_checkpoints"
    __table_args__ = (UniqueConstraint("tree_size"),)

    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    created_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)
    frontier: Mapped[list[Any]]
