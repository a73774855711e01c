"""Reading access records: a person's page with inclusion proofs ("who used my data"), the
message-id lookup and the NDJSON export."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kiban.blocks.mesh.record_chain import (
    _BATCH,
    _RECORDS,
    EXPORT_FORMAT,
    KEY_NAME,
    MISMATCH_NOTE,
    PENDING_NOTE,
    CheckpointRead,
    PersonRecord,
    RecordPage,
    _cursor,
    _fields_of_row,
    _instant,
    _json,
)
from kiban.blocks.mesh.record_checkpoints import (
    _head,
    _levels,
    _path,
    latest_checkpoint,
    public_key,
)
from kiban.blocks.mesh.record_models import (
    MeshAccessRecord,
    MeshRecordCheckpoint,
)
from kiban.kernel import clock
from kiban.kernel.errors import ValidationFailed
from kiban.platform import keys

# --- Reading ---------------------------------------------------------------------------------


_tree_cache: dict[tuple[str, int, str], list[list[bytes]]] = {}
_tree_lock = threading.Lock()


def _tree(session: Session, checkpoint: CheckpointRead) -> list[list[bytes]] | None:
    """The levels of the checkpoint's tree, or None if the log no longer matches its root."""
    # The root is part of the key: a database emptied and refilled under the same URL (as the
    # PostgreSQL test database is) must not be answered from the old tree.
    key = (str(session.get_bind().engine.url), checkpoint.tree_size, checkpoint.root_hash)
    with _tree_lock:
        levels = _tree_cache.get(key)
    if levels is None:
        hashes = list(
            session.scalars(
                select(MeshAccessRecord.hash)
                .where(MeshAccessRecord.seq <= checkpoint.tree_size)
                .order_by(MeshAccessRecord.seq)
            )
        )
        levels = _levels(hashes)
        with _tree_lock:
            # Keep the newest tree only: proofs are always against the latest checkpoint.
            _tree_cache.clear()
            _tree_cache[key] = levels
    if len(levels[0]) != checkpoint.tree_size or levels[-1][0].hex() != checkpoint.root_hash:
        return None
    return levels


def records_for_person(
    session: Session,
    person_id: uuid.UUID,
    *,
    limit: int = 20,
    before_seq: int | None = None,
    today: date | None = None,
) -> RecordPage:
    """The person's records, newest first, ``limit`` at a time, each with an inclusion proof
    against the latest checkpoint; records under non-disclosure are withheld until
    ``non_disclosure_until`` (a date in Japan time; ``today`` defaults to today there)."""
    if not 1 <= limit <= 100:
        raise ValidationFailed(
            "limit は 1〜100 です。", "limit must be between 1 and 100.", field="limit"
        )
    day = today or clock.today_jst()
    query = (
        select(MeshAccessRecord)
        .where(MeshAccessRecord.person_id == person_id)
        .where(
            MeshAccessRecord.non_disclosure_until.is_(None)
            | (MeshAccessRecord.non_disclosure_until <= day)
        )
        .order_by(MeshAccessRecord.seq.desc())
        .limit(limit + 1)
    )
    if before_seq is not None:
        query = query.where(MeshAccessRecord.seq < before_seq)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    checkpoint = latest_checkpoint(session)
    levels = None
    if checkpoint is not None and any(row.seq <= checkpoint.tree_size for row in rows):
        levels = _tree(session, checkpoint)
    records = []
    for row in rows:
        covered = checkpoint is not None and row.seq <= checkpoint.tree_size
        proof = None if levels is None or not covered else _path(levels, row.seq - 1)
        note = None if proof is not None else (MISMATCH_NOTE if covered else PENDING_NOTE)
        records.append(
            PersonRecord(
                seq=row.seq,
                hash=row.hash,
                prev_hash=row.prev_hash,
                recorded_at=row.recorded_at,
                side=row.side,
                member=row.member,
                counterpart=row.counterpart,
                agency_code=row.agency_code,
                service=row.service,
                items=[str(item) for item in row.items],
                legal_basis=row.legal_basis,
                consent_id=row.consent_id,
                message_id=row.message_id,
                request_hash=row.request_hash,
                response_hash=row.response_hash,
                outcome=row.outcome,
                requested_at=row.requested_at,
                provided_at=row.provided_at,
                non_disclosure_until=row.non_disclosure_until,
                leaf_index=row.seq - 1,
                proof=proof,
                note=note,
            )
        )
    return RecordPage(
        records=records,
        next_before=rows[-1].seq if more and rows else None,
        checkpoint=checkpoint,
    )


_MESSAGE_USED = (
    select(_RECORDS.c.seq)
    .where(
        _RECORDS.c.message_id == bindparam("message_id"),
        _RECORDS.c.member == bindparam("member"),
        _RECORDS.c.side == "requester",
    )
    .limit(1)
)
# The same on SQLite's driver, as the chain's statements are (see _SqliteChain): the gateway
# asks it before every exchange.
_MESSAGE_USED_SQLITE = (
    f"SELECT seq FROM {_RECORDS.name} "  # noqa: S608 - names of kiban's own table.
    "WHERE message_id = ? AND member = ? AND side = 'requester' LIMIT 1"
)


def message_used(session: Session, member: str, message_id: str) -> bool:
    """Whether the log holds a requester's record of ``member`` (a client subsystem) for
    ``message_id``: the id was used before, by this process or another."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        found = connection.execute(_MESSAGE_USED, {"message_id": message_id, "member": member})
        return found.first() is not None
    cursor = _cursor(connection)
    try:
        return cursor.execute(_MESSAGE_USED_SQLITE, (message_id, member)).fetchone() is not None
    finally:
        cursor.close()


def count_records(session: Session) -> int:
    """How many records the log holds."""
    return int(session.scalar(select(func.count()).select_from(MeshAccessRecord)) or 0)


# --- Export ------------------------------------------------------------------------------------


@dataclass
class LogExport:
    """A log as :func:`verify_log` reads it: record lines (canonical fields + ``hash``) in
    stored order, checkpoints, the chain head and the signer's raw public key."""

    records: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    head: dict[str, Any] | None
    public_key: bytes | None


def _checkpoint_dict(row: MeshRecordCheckpoint) -> dict[str, Any]:
    return {
        "tree_size": row.tree_size,
        "root_hash": row.root_hash,
        "created_at": _instant(row.created_at),
        "key_id": row.key_id,
        "signature": row.signature,
    }


def _db_records(session: Session) -> Iterator[dict[str, Any]]:
    result = session.scalars(
        select(MeshAccessRecord).order_by(MeshAccessRecord.seq).execution_options(yield_per=_BATCH)
    )
    for row in result:
        yield {**_fields_of_row(row), "hash": row.hash}


def load_log_frame(session: Session) -> LogExport:
    """The log from the database without its records: chain head, checkpoints, public key."""
    last_seq, last_hash = _head(session)
    checkpoints = session.scalars(
        select(MeshRecordCheckpoint).order_by(MeshRecordCheckpoint.tree_size)
    )
    return LogExport(
        records=[],
        checkpoints=[_checkpoint_dict(row) for row in checkpoints],
        head={"last_seq": last_seq, "last_hash": last_hash},
        public_key=public_key() if keys.get_key_store().exists(KEY_NAME) else None,
    )


def load_log(session: Session) -> LogExport:
    """The whole log from the database, in ``seq`` order."""
    log = load_log_frame(session)
    log.records = list(_db_records(session))
    return log


def export_log(session: Session, out: IO[str]) -> int:
    """Write the log as NDJSON: a header line (format, chain head, public key), one line per
    record in ``seq`` order, one per checkpoint. Returns the number of records."""
    last_seq, last_hash = _head(session)
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "exported_at": _instant(clock.now()),
        "head": {"last_seq": last_seq, "last_hash": last_hash},
        "public_key": public_key().hex(),
    }
    out.write(_json(header) + "\n")
    count = 0
    for record in _db_records(session):
        out.write(_json({"type": "record", **record}) + "\n")
        count += 1
    for row in session.scalars(
        select(MeshRecordCheckpoint).order_by(MeshRecordCheckpoint.tree_size)
    ):
        out.write(_json({"type": "checkpoint", **_checkpoint_dict(row)}) + "\n")
    return count


def load_export(path: Path) -> LogExport:
    """Read an export of :func:`export_log`; raises ``ValueError`` on a malformed file."""
    log = LogExport(records=[], checkpoints=[], head=None, public_key=None)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                kind = item.pop("type")
            except (ValueError, KeyError, AttributeError, TypeError) as error:
                raise ValueError(f"line {number}: not a log line") from error
            if kind == "header":
                if item.get("format") != EXPORT_FORMAT:
                    raise ValueError(f"line {number}: unknown format {item.get('format')!r}")
                log.head = item.get("head")
                log.public_key = bytes.fromhex(item["public_key"])
            elif kind == "record":
                log.records.append(item)
            elif kind == "checkpoint":
                log.checkpoints.append(item)
            else:
                raise ValueError(f"line {number}: unknown line type {kind!r}")
    return log
