"""Access records (情報提供等記録): append-only, hash-chained, checkpointed, readable by the person.

Before the gateway releases a response it writes one record per side of the exchange (the
requester's and the provider's are separate rows) with :class:`RecordWriter`, or with
:func:`append_records` inside a transaction of its own.

**The chain.** Every record carries ``seq``, ``prev_hash`` and ``hash`` — SHA-256 over the
canonical encoding (sorted-key compact JSON, UTF-8) of every field including ``seq`` and
``prev_hash`` (see :func:`canonical_fields` and :func:`record_hash`). Appenders lock the
single-row chain head, so concurrent writers queue instead of forking the chain.

**Group commit.** :class:`RecordWriter` owns one database connection and a background thread.
Gateway threads call :meth:`RecordWriter.write`, which queues the records and blocks until the
batch holding them has been committed: the thread drains whatever is queued (up to
``max_batch`` records), appends it in one transaction and commits once, so one disk flush
serves every waiting request. ``write`` returns only after the commit has returned; on SQLite
the writer's connection runs with ``PRAGMA synchronous=FULL`` (the rest of kiban uses NORMAL,
which survives a killed process but not a power cut), so a returned ``write`` has been fsync'd
to the WAL; on PostgreSQL the default ``synchronous_commit=on`` gives the same guarantee. A
request whose records did not commit gets an exception, never a 2xx.

**Checkpoints.** :func:`make_checkpoint` signs (Ed25519, key ``mesh-records`` of
:mod:`kiban.platform.keys`) the RFC 6962 Merkle root over the record hashes in ``seq`` order.
A :class:`Checkpointer` thread (started by the web application) makes one whenever records are
waiting and either 10 seconds have passed since the last checkpoint or 10,000 records have
accumulated; ``kiban mesh checkpoint`` makes one on demand. The log is only checkpointed when
it grew: an idle log keeps its last checkpoint, which still covers every record.

**Reading.** :func:`records_for_person` pages a person's records newest first, each with an
inclusion proof (RFC 6962 audit path) against the latest checkpoint. A record newer than that
checkpoint comes with ``proof=None`` and a note: reading never writes, and the checkpointer
covers it within about 10 seconds. Records under a non-disclosure flag are left out until
their release date (Japan time), without a trace in the page.

**Verifying.** :func:`verify_log` checks a whole log — from the database or from the NDJSON of
:func:`export_log` — and names each modified, deleted, inserted or reordered record and each
checkpoint whose root or signature does not match. It rebuilds the original order by following
the hash links, so renumbering rows does not hide anything. It holds the log in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, ClassVar, Final, Literal, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes as agency_codes
from kiban.blocks.mesh.record_models import (
    MeshAccessRecord,
    MeshRecordChainHead,
    MeshRecordCheckpoint,
)
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import keys

__all__ = [
    "CHECKPOINT_INTERVAL",
    "CHECKPOINT_RECORDS",
    "GENESIS_HASH",
    "AccessRecordCreate",
    "CheckpointRead",
    "Checkpointer",
    "LogExport",
    "PersonRecord",
    "Problem",
    "RecordPage",
    "RecordWriteFailed",
    "RecordWriter",
    "VerifyReport",
    "append_records",
    "checkpoint_due",
    "export_log",
    "inclusion_path",
    "latest_checkpoint",
    "load_export",
    "make_checkpoint",
    "merkle_root",
    "record_hash",
    "record_writer",
    "records_for_person",
    "stop_record_writers",
    "verify_log",
]

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

CHECKPOINT_INTERVAL = 10.0
"""Seconds after which waiting records are checkpointed."""

CHECKPOINT_RECORDS = 10_000
"""Waiting records that trigger a checkpoint before the interval is up."""

KEY_NAME = "mesh-records"
EXPORT_FORMAT = "kiban-mesh-records/1"
CHECKPOINT_CONTEXT = b"kiban mesh access-record checkpoint v1\n"
PENDING_NOTE = "not yet covered by a signed checkpoint; the next one follows within 10 seconds"
MISMATCH_NOTE = "the log does not match the checkpoint; run `kiban mesh verify`"

HEAD_ID = 1
_BATCH = 5_000
_OUTCOME = re.compile(r"^(ok|(refused|error):[A-Za-z0-9_.:-]{1,150})$")
_SIDES = ("requester", "provider")

Side = Literal["requester", "provider"]
ProblemKind = Literal["modified", "deleted", "inserted", "reordered", "checkpoint"]


# --- Data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRecordCreate:
    """One side's record of one exchange, as the gateway hands it over."""

    person_id: uuid.UUID
    side: Side
    member: str
    counterpart: str
    agency_code: str
    service: str
    items: list[str]
    legal_basis: str | None
    consent_id: uuid.UUID | None
    message_id: str
    request_hash: str
    response_hash: str | None
    outcome: str
    requested_at: datetime
    provided_at: datetime | None
    non_disclosure_until: date | None = None


@dataclass(frozen=True)
class CheckpointRead:
    """A signed Merkle root over the first ``tree_size`` records."""

    tree_size: int
    root_hash: str
    created_at: datetime
    key_id: str
    signature: str


@dataclass(frozen=True)
class PersonRecord:
    """A record as its person sees it, with its inclusion proof.

    ``proof`` is the RFC 6962 audit path (hex hashes, leaf to root) of leaf ``leaf_index``
    (``seq - 1``) in the tree of the page's checkpoint; ``None`` with a ``note`` when no
    checkpoint covers the record yet. The leaf is ``hash``, the record's chain hash.
    """

    seq: int
    hash: str
    prev_hash: str
    recorded_at: datetime
    side: str
    member: str
    counterpart: str
    agency_code: str
    service: str
    items: list[str]
    legal_basis: str | None
    consent_id: uuid.UUID | None
    message_id: str
    request_hash: str
    response_hash: str | None
    outcome: str
    requested_at: datetime
    provided_at: datetime | None
    non_disclosure_until: date | None
    leaf_index: int
    proof: list[str] | None
    note: str | None


@dataclass(frozen=True)
class RecordPage:
    """One page of a person's records, newest first.

    ``next_before`` is the ``before_seq`` of the next page (``None`` on the last page);
    ``checkpoint`` is the checkpoint the proofs lead to.
    """

    records: list[PersonRecord]
    next_before: int | None
    checkpoint: CheckpointRead | None


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify_log`: ``seq`` is the stored sequence number of the record
    (for ``deleted``: the missing number; for ``checkpoint``: the checkpoint's tree size)."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_log`."""

    records: int
    checkpoints: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The earliest finding in log order (records before checkpoints at the same number)."""
        return self.problems[0] if self.problems else None


class RecordWriteFailed(KibanError):
    """The access records of an exchange could not be made durable; the exchange must fail."""

    code = "mesh.record_write_failed"
    status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(
            "情報提供等記録を保存できませんでした。しばらくしてから再度お試しください。",
            f"The access records could not be stored ({detail}); try again later.",
        )


# --- Canonical form and hashing ---------------------------------------------------------------


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: kiban stores aware UTC instants only")
    # As strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fifth of the cost.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# The canonical encoding; built once (``json.dumps`` with options builds an encoder a call).
_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_fields(
    record: AccessRecordCreate, *, seq: int, recorded_at: datetime, prev_hash: str
) -> dict[str, Any]:
    """Every hashed field as JSON values: instants in UTC with microseconds and ``Z``, dates
    ISO, UUIDs in canonical text. This is also a record's line in the export."""
    return {
        "seq": seq,
        "recorded_at": _instant(recorded_at),
        "person_id": str(record.person_id),
        "side": record.side,
        "member": record.member,
        "counterpart": record.counterpart,
        "agency_code": record.agency_code,
        "service": record.service,
        "items": list(record.items),
        "legal_basis": record.legal_basis,
        "consent_id": None if record.consent_id is None else str(record.consent_id),
        "message_id": record.message_id,
        "request_hash": record.request_hash,
        "response_hash": record.response_hash,
        "outcome": record.outcome,
        "requested_at": _instant(record.requested_at),
        "provided_at": _instant(record.provided_at),
        "non_disclosure_until": (
            None if record.non_disclosure_until is None else record.non_disclosure_until.isoformat()
        ),
        "prev_hash": prev_hash,
    }


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) over the canonical encoding of ``fields`` (without ``hash``)."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(_json(body).encode("utf-8")).hexdigest()


def _fields_of_row(row: MeshAccessRecord) -> dict[str, Any]:
    return canonical_fields(
        _create_of(row), seq=row.seq, recorded_at=row.recorded_at, prev_hash=row.prev_hash
    )


def _create_of(row: MeshAccessRecord) -> AccessRecordCreate:
    return AccessRecordCreate(
        person_id=row.person_id,
        side=cast(Side, row.side),
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
    )


# The text fields: (name, longest, may be None).
_TEXTS: Final = (
    ("member", 200, False),
    ("counterpart", 200, False),
    ("agency_code", 200, False),
    ("service", 300, False),
    ("message_id", 200, False),
    ("request_hash", 200, False),
    ("response_hash", 200, True),
    ("legal_basis", 500, True),
)


def _check(record: AccessRecordCreate) -> None:
    """Refuse a record that could not be stored exactly as hashed."""
    if record.side not in _SIDES:
        raise ValidationFailed(
            "side は requester か provider です。", "side is requester or provider.", field="side"
        )
    for name, limit, optional in _TEXTS:
        value = getattr(record, name)
        if (value is not None or not optional) and (
            not isinstance(value, str) or not value or len(value) > limit
        ):
            raise ValidationFailed(
                f"{name} は 1〜{limit} 文字の文字列でなければなりません。",
                f"{name} must be a string of 1 to {limit} characters.",
                field=name,
            )
    if not isinstance(record.items, list) or not all(
        isinstance(item, str) and item for item in record.items
    ):
        raise ValidationFailed(
            "items はデータ項目名の一覧です。", "items is a list of data item names.", field="items"
        )
    if not _OUTCOME.match(record.outcome):
        raise ValidationFailed(
            "outcome は ok、refused:<code>、error:<code> のいずれかです。",
            "outcome is ok, refused:<code> or error:<code>.",
            field="outcome",
        )
    for name in ("requested_at", "provided_at"):
        instant = getattr(record, name)
        if instant is not None and instant.tzinfo is None:
            raise ValidationFailed(
                f"{name} にはタイムゾーンが必要です。",
                f"{name} must be timezone-aware.",
                field=name,
            )


# --- Appending --------------------------------------------------------------------------------


def _lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain head for the rest of the caller's transaction; create it if missing."""
    head = _SELECT_HEAD
    # The head exists but in a fresh log: one round trip instead of an insert and a select.
    # (Core statements go straight to the connection: the session's layer costs as much.)
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        found = _SqliteChain.of(connection).head(connection)
        if found is not None:
            return found
    row = connection.execute(head).first()
    if row is not None:
        return int(row.last_seq), str(row.last_hash)
    dialect = session.get_bind().dialect.name
    values = {"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
    if dialect == "postgresql":
        session.execute(
            postgresql.insert(MeshRecordChainHead).values(values).on_conflict_do_nothing()
        )
    elif dialect == "sqlite":
        session.execute(sqlite.insert(MeshRecordChainHead).values(values).on_conflict_do_nothing())
    elif session.get(MeshRecordChainHead, HEAD_ID) is None:  # pragma: no cover - other backends.
        session.execute(insert(MeshRecordChainHead).values(values))
    created = session.execute(head).one()
    return int(created.last_seq), str(created.last_hash)


_HEAD = cast(Table, MeshRecordChainHead.__table__)
_RECORDS = cast(Table, MeshAccessRecord.__table__)
_SELECT_HEAD = (
    select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
)
_INSERT_RECORDS = insert(_RECORDS)
_UPDATE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)


def append_records(session: Session, records: Sequence[AccessRecordCreate]) -> list[int]:
    """Append ``records`` to the chain in the caller's transaction (never commits); returns
    their sequence numbers. Raises ``kiban.invalid`` (422, ``field`` set) for a malformed record,
    before anything is written."""
    for record in records:
        _check(record)
    if not records:
        return []
    last_seq, last_hash = _lock_head(session)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for record in records:
        last_seq += 1
        fields = canonical_fields(record, seq=last_seq, recorded_at=now, prev_hash=last_hash)
        last_hash = record_hash(fields)
        rows.append(
            {
                "seq": last_seq,
                "recorded_at": now,
                "person_id": record.person_id,
                "side": record.side,
                "member": record.member,
                "counterpart": record.counterpart,
                "agency_code": record.agency_code,
                "service": record.service,
                "items": list(record.items),
                "legal_basis": record.legal_basis,
                "consent_id": record.consent_id,
                "message_id": record.message_id,
                "request_hash": record.request_hash,
                "response_hash": record.response_hash,
                "outcome": record.outcome,
                "requested_at": record.requested_at,
                "provided_at": record.provided_at,
                "non_disclosure_until": record.non_disclosure_until,
                "prev_hash": fields["prev_hash"],
                "hash": last_hash,
            }
        )
    # Core statements on the tables: the ORM's bulk path costs more than the insert itself.
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        _SqliteChain.of(connection).append(connection, rows, last_seq, last_hash)
    else:
        connection.execute(_INSERT_RECORDS, rows)
        connection.execute(_UPDATE_HEAD, {"new_seq": last_seq, "new_hash": last_hash})
    return [int(row["seq"]) for row in rows]


def _cursor(connection: Connection) -> Any:
    """A cursor of the driver's connection under ``connection`` (in its transaction)."""
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - only a closed connection has none.
        raise RuntimeError("the connection is closed")
    return driver.cursor()


class _SqliteChain:
    """The chain's three statements on SQLite, run on the driver's cursor inside the
    transaction SQLAlchemy began (``BEGIN IMMEDIATE`` already holds the write lock).

    Every exchange runs them, and SQLAlchemy's execution of a statement cost more than
    SQLite's (about a sixth of a gateway hop). The values still go through each column's own
    bind processor, so the rows are exactly what the Core insert would write (``verify_log``
    reads them back through SQLAlchemy and recomputes every hash). PostgreSQL keeps the Core
    statements: its driver round trip dominates there.
    """

    _by_dialect: ClassVar[dict[int, tuple[Dialect, _SqliteChain]]] = {}

    def __init__(self, dialect: Dialect) -> None:
        table = _RECORDS
        head = _HEAD.name
        self.select = f"SELECT last_seq, last_hash FROM {head} WHERE id = ?"  # noqa: S608
        self.update = f"UPDATE {head} SET last_seq = ?, last_hash = ? WHERE id = ?"  # noqa: S608
        names = [column.name for column in table.columns]
        self.insert = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        self.names = names
        # (position, processor) of the columns whose values the driver cannot take as they are.
        self.binds = [
            (index, bind)
            for index, column in enumerate(table.columns)
            if (bind := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]

    @classmethod
    def of(cls, connection: Connection) -> _SqliteChain:
        dialect = connection.dialect
        held = cls._by_dialect.get(id(dialect))
        if held is None or held[0] is not dialect:
            held = cls._by_dialect[id(dialect)] = (dialect, cls(dialect))
        return held[1]

    def head(self, connection: Connection) -> tuple[int, str] | None:
        cursor = _cursor(connection)
        try:
            found = cursor.execute(self.select, (HEAD_ID,)).fetchone()
        finally:
            cursor.close()
        return None if found is None else (int(found[0]), str(found[1]))

    def append(
        self, connection: Connection, rows: list[dict[str, Any]], last_seq: int, last_hash: str
    ) -> None:
        values = [[row[name] for name in self.names] for row in rows]
        for value in values:
            for index, bind in self.binds:
                value[index] = bind(value[index])
        cursor = _cursor(connection)
        try:
            cursor.executemany(self.insert, values)
            cursor.execute(self.update, (last_seq, last_hash, HEAD_ID))
        finally:
            cursor.close()


# --- Group commit -----------------------------------------------------------------------------


@dataclass
class _Pending:
    records: Sequence[AccessRecordCreate]
    codes: Sequence[tuple[str, str, uuid.UUID]] = ()
    done: threading.Event = field(default_factory=threading.Event)
    seqs: list[int] = field(default_factory=list)
    error: BaseException | None = None


_STOP = object()


class RecordWriter:
    """Group commit of access records: many threads :meth:`write`, one thread commits.

    Use one writer per process and database (see :func:`record_writer`)::

        seqs = record_writer(engine).write([requester_record, provider_record])

    ``write`` blocks until the batch holding the records has committed and returns their
    sequence numbers, or raises :class:`RecordWriteFailed` (``mesh.record_write_failed``, 503)
    if they could not be stored or ``timeout`` passed; the caller must then fail the exchange.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 2_000, durable: bool = True) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.durable = durable
        self.batches = 0
        self.committed = 0
        self._poked = 0
        self._queue: queue.Queue[_Pending | object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> RecordWriter:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mesh-record-writer", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def __enter__(self) -> RecordWriter:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def write(
        self,
        records: Sequence[AccessRecordCreate],
        *,
        timeout: float | None = 30.0,
        codes: Sequence[tuple[str, str, uuid.UUID]] = (),
    ) -> list[int]:
        """Queue ``records`` and wait until they are committed; their sequence numbers.
        ``codes`` — (member, agency code, person) — are stored in the same commit (see
        :func:`kiban.blocks.mesh.codes.store_codes`): the codes the records name."""
        for record in records:
            _check(record)
        if not records:
            return []
        if self._thread is None:
            raise RecordWriteFailed("the record writer is not running")
        pending = _Pending(list(records), list(codes))
        self._queue.put(pending)
        if not pending.done.wait(timeout):
            raise RecordWriteFailed("timed out waiting for the commit")
        if pending.error is not None:
            raise RecordWriteFailed(type(pending.error).__name__) from pending.error
        return pending.seqs

    def _run(self) -> None:
        connection = self.engine.connect()
        try:
            if self.durable and self.engine.dialect.name == "sqlite":
                # Outside any transaction (the driver runs in autocommit mode, see
                # kiban.platform.db): every commit of this connection now waits for fsync.
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA synchronous=FULL"
                )
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch = [cast(_Pending, first)]
                size = len(batch[0].records)
                while size < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(cast(_Pending, item))
                    size += len(cast(_Pending, item).records)
                self._commit(connection, batch)
        finally:
            connection.close()

    def _commit(self, connection: Any, batch: list[_Pending]) -> None:
        try:
            stored = [c for p in batch for c in p.codes]
            with Session(bind=connection) as session:
                if stored:
                    agency_codes.store_codes(session, stored)
                seqs = append_records(session, [r for p in batch for r in p.records])
                session.commit()
            if stored:
                agency_codes.mark_all_stored(self.engine, stored)
        except Exception as error:
            logger.exception("access records batch of %d requests failed", len(batch))
            for pending in batch:
                pending.error = error
                pending.done.set()
            return
        self.batches += 1
        self.committed += len(seqs)
        if self.committed - self._poked >= CHECKPOINT_RECORDS:
            # Do not wait for the checkpointer's next poll: at tens of thousands of records per
            # second a second's worth would overshoot the 10,000-record bound.
            self._poked = self.committed
            _wake_checkpointers()
        at = 0
        for pending in batch:
            pending.seqs = seqs[at : at + len(pending.records)]
            at += len(pending.records)
            pending.done.set()


_writers: dict[str, RecordWriter] = {}
_writers_lock = threading.Lock()


def record_writer(engine: Engine) -> RecordWriter:
    """The running writer of this process for ``engine``'s database (started on first use)."""
    key = engine.url.render_as_string(hide_password=False)
    with _writers_lock:
        writer = _writers.get(key)
        if writer is None:
            writer = _writers[key] = RecordWriter(engine).start()
        return writer


def stop_record_writers() -> None:
    """Commit what is queued and stop every writer (at shutdown)."""
    with _writers_lock:
        writers = list(_writers.values())
        _writers.clear()
    for writer in writers:
        writer.stop()


# --- Merkle tree (RFC 6962 §2.1) ---------------------------------------------------------------


def _leaf(record_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _extend(frontier: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Append a leaf to the list of perfect-subtree roots the tree decomposes into."""
    frontier.append((0, leaf))
    while len(frontier) >= 2 and frontier[-1][0] == frontier[-2][0]:
        height, right = frontier.pop()
        _, left = frontier.pop()
        frontier.append((height + 1, _node(left, right)))


def _frontier_root(frontier: list[tuple[int, bytes]]) -> bytes:
    if not frontier:
        return hashlib.sha256(b"").digest()
    root = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        root = _node(left, root)
    return root


def merkle_root(record_hashes: Iterable[str]) -> str:
    """The RFC 6962 Merkle tree hash (hex) over the record hashes, in order."""
    frontier: list[tuple[int, bytes]] = []
    for digest in record_hashes:
        _extend(frontier, _leaf(digest))
    return _frontier_root(frontier).hex()


def _levels(record_hashes: Sequence[str]) -> list[list[bytes]]:
    # Pairing bottom-up and carrying an odd last node up unchanged builds exactly the RFC 6962
    # tree (its left subtrees are the largest powers of two).
    level = [_leaf(digest) for digest in record_hashes]
    levels = [level]
    while len(level) > 1:
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        levels.append(level)
    return levels


def _path(levels: list[list[bytes]], index: int) -> list[str]:
    path = []
    for level in levels[:-1]:
        if index % 2 == 1:
            path.append(level[index - 1].hex())
        elif index + 1 < len(level):
            path.append(level[index + 1].hex())
        index //= 2
    return path


def inclusion_path(record_hashes: Sequence[str], index: int) -> list[str]:
    """The RFC 6962 audit path (hex, leaf to root) of leaf ``index`` in the tree of all
    ``record_hashes``."""
    return _path(_levels(record_hashes), index)


# --- Checkpoints -------------------------------------------------------------------------------


def checkpoint_message(tree_size: int, root_hash: str, created_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {"created_at": _instant(created_at), "root_hash": root_hash, "tree_size": tree_size}
    return CHECKPOINT_CONTEXT + _json(body).encode("utf-8")


def _signing_key() -> ed25519.Ed25519PrivateKey:
    key = keys.get_key_store().get_or_create(KEY_NAME, "ed25519")
    if not isinstance(key, ed25519.Ed25519PrivateKey):  # pragma: no cover - a misfiled key.
        raise TypeError(f"key {KEY_NAME} is not Ed25519")
    return key


def _raw_public(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def public_key() -> bytes:
    """The raw Ed25519 public key checkpoints are signed with (the trust anchor to publish)."""
    return _raw_public(_signing_key().public_key())


def _read_checkpoint(row: MeshRecordCheckpoint) -> CheckpointRead:
    return CheckpointRead(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        created_at=row.created_at,
        key_id=row.key_id,
        signature=row.signature,
    )


def _latest_row(session: Session) -> MeshRecordCheckpoint | None:
    return session.scalars(
        select(MeshRecordCheckpoint).order_by(MeshRecordCheckpoint.tree_size.desc()).limit(1)
    ).first()


def latest_checkpoint(session: Session) -> CheckpointRead | None:
    """The checkpoint over the most records, if any."""
    row = _latest_row(session)
    return None if row is None else _read_checkpoint(row)


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(MeshRecordChainHead.last_seq, MeshRecordChainHead.last_hash).where(
            MeshRecordChainHead.id == HEAD_ID
        )
    ).one_or_none()
    return (0, GENESIS_HASH) if row is None else (int(row.last_seq), str(row.last_hash))


class LogBroken(KibanError):
    """Records the chain head names are missing; a checkpoint would certify a damaged log."""

    code = "mesh.records_log_broken"
    status = 409

    def __init__(self, detail: str) -> None:
        super().__init__(
            "情報提供等記録が欠けています。`kiban mesh verify` で確認してください。",
            f"The access-record log is damaged ({detail}); run `kiban mesh verify`.",
        )


def make_checkpoint(session: Session) -> CheckpointRead:
    """Sign the Merkle root over every committed record, in the caller's transaction.

    Returns the latest checkpoint unchanged when no record was added since. Raises
    ``mesh.records_log_broken`` (409) when records the chain head names are missing.
    Two checkpointers racing for the same size: the second commit fails on the unique tree
    size, which the :class:`Checkpointer` ignores.
    """
    last = _latest_row(session)
    size, _ = _head(session)
    start = 0 if last is None else last.tree_size
    if last is not None and size <= start:
        return _read_checkpoint(last)
    frontier = [] if last is None else [(int(h), bytes.fromhex(x)) for h, x in last.frontier]
    added = 0
    result = session.execute(
        select(MeshAccessRecord.seq, MeshAccessRecord.hash)
        .where(MeshAccessRecord.seq > start, MeshAccessRecord.seq <= size)
        .order_by(MeshAccessRecord.seq)
        .execution_options(yield_per=_BATCH)
    )
    for seq, digest in result:
        if seq != start + added + 1:
            raise LogBroken(f"record {start + added + 1} is missing")
        _extend(frontier, _leaf(digest))
        added += 1
    if start + added != size:
        raise LogBroken(f"records {start + added + 1} to {size} are missing")
    root = _frontier_root(frontier).hex()
    created_at = clock.now()
    key = _signing_key()
    row = MeshRecordCheckpoint(
        tree_size=size,
        root_hash=root,
        created_at=created_at,
        key_id=_key_id(_raw_public(key.public_key())),
        signature=key.sign(checkpoint_message(size, root, created_at)).hex(),
        frontier=[[height, node.hex()] for height, node in frontier],
    )
    session.add(row)
    session.flush()
    return _read_checkpoint(row)


def checkpoint_due(
    session: Session,
    *,
    now: datetime | None = None,
    interval: float = CHECKPOINT_INTERVAL,
    max_records: int = CHECKPOINT_RECORDS,
) -> bool:
    """Whether records are waiting and ``interval`` seconds passed since the last checkpoint
    or ``max_records`` records are waiting."""
    size, _ = _head(session)
    last = _latest_row(session)
    covered = 0 if last is None else last.tree_size
    if size <= covered:
        return False
    if size - covered >= max_records or last is None:
        return True
    return (now or clock.now()) - last.created_at >= timedelta(seconds=interval)


_checkpointers: set[Checkpointer] = set()


def _wake_checkpointers() -> None:
    for checkpointer in list(_checkpointers):
        checkpointer.wake()


class Checkpointer:
    """A background thread that makes checkpoints when :func:`checkpoint_due` says so.

    It looks every ``poll`` seconds (and at once when a :class:`RecordWriter` of this process
    has committed 10,000 records); a checkpoint is due ``poll`` seconds early, so no record
    waits longer than ``interval`` for one.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = CHECKPOINT_INTERVAL,
        max_records: int = CHECKPOINT_RECORDS,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.max_records = max_records
        self.poll = poll
        self.made = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> Checkpointer:
        if self._thread is None:
            self._stop.clear()
            _checkpointers.add(self)
            self._thread = threading.Thread(
                target=self._run, name="mesh-record-checkpointer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        thread, self._thread = self._thread, None
        _checkpointers.discard(self)
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout)

    def tick(self) -> bool:
        """Make a checkpoint if one is due; whether one was made."""
        with Session(self.engine) as session:
            due = checkpoint_due(
                session, interval=max(self.interval - self.poll, 0.0), max_records=self.max_records
            )
            if not due:
                return False
            make_checkpoint(session)
            session.commit()
        self.made += 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.tick()
            except IntegrityError:
                continue  # Another process made the same checkpoint first.
            except (SQLAlchemyError, KibanError):
                # The log or the database is in trouble; keep trying, the operator sees it in
                # the log and in `kiban mesh verify`.
                logger.exception("could not make an access-record checkpoint")


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


def load_log(session: Session) -> LogExport:
    """The whole log from the database, in ``seq`` order."""
    last_seq, last_hash = _head(session)
    checkpoints = session.scalars(
        select(MeshRecordCheckpoint).order_by(MeshRecordCheckpoint.tree_size)
    )
    return LogExport(
        records=list(_db_records(session)),
        checkpoints=[_checkpoint_dict(row) for row in checkpoints],
        head={"last_seq": last_seq, "last_hash": last_hash},
        public_key=public_key() if keys.get_key_store().exists(KEY_NAME) else None,
    )


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


# --- Verifying ---------------------------------------------------------------------------------


def _digest_at(fields: dict[str, Any], seq: int) -> str:
    return record_hash({**fields, "seq": seq})


def _stored_seq(fields: dict[str, Any]) -> int:
    value = fields.get("seq")
    return value if isinstance(value, int) else -1


class _Verifier:
    """One pass of :func:`verify_log` over a log held in memory."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.problems: dict[tuple[int, str], Problem] = {}
        self.by_prev: dict[str, list[int]] = defaultdict(list)
        self.position_of_hash: dict[str, int] = {}
        for index, row in enumerate(rows):
            self.by_prev[str(row.get("prev_hash"))].append(index)
            self.position_of_hash.setdefault(str(row.get("hash")), index)
        self.reached = [False] * len(rows)
        self.chain: list[int] = []  # Positions in the original order.
        self.original: dict[int, int] = {}  # Position -> original sequence number.

    def report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.problems.setdefault((seq, kind), Problem(seq, kind, detail))

    def verifies(self, index: int, seq: int) -> bool:
        return _digest_at(self.rows[index], seq) == self.rows[index].get("hash")

    def original_seq(self, index: int, expected: int) -> int | None:
        """The sequence number the record was hashed with, tried near where it should be."""
        stored = _stored_seq(self.rows[index])
        for seq in (stored, expected):
            if seq > 0 and self.verifies(index, seq):
                return seq
        for shift in range(1, 65):
            for seq in (stored + shift, stored - shift):
                if seq > 0 and self.verifies(index, seq):
                    return seq
        return None

    def walk(self) -> None:
        """Follow the hash links from the genesis, resuming after gaps at orphaned records."""
        orphans = [
            index
            for index, row in enumerate(self.rows)
            if row.get("prev_hash") != GENESIS_HASH
            and row.get("prev_hash") not in self.position_of_hash
        ]
        orphan_at = 0
        current, expected = GENESIS_HASH, 1
        while True:
            candidates = [i for i in self.by_prev.get(current, []) if not self.reached[i]]
            if not candidates:
                while orphan_at < len(orphans) and self.reached[orphans[orphan_at]]:
                    orphan_at += 1
                if orphan_at == len(orphans):
                    break
                pick = orphans[orphan_at]
                seq = self.original_seq(pick, expected)
                seq = expected if seq is None else seq
                if seq > expected:
                    for missing in range(expected, seq):
                        self.report(
                            missing, "deleted", f"record {seq} links to a record that is gone"
                        )
                elif self.chain:
                    last = self.chain[-1]
                    self.report(
                        _stored_seq(self.rows[last]),
                        "modified",
                        "its hash was rewritten; the next record links to the original",
                    )
                expected = max(seq, expected)
            elif len(candidates) == 1:
                pick = candidates[0]
            else:
                pick = self._resolve_fork(candidates, expected)
            self.reached[pick] = True
            self.chain.append(pick)
            self.original[pick] = expected
            if not self.verifies(pick, expected):
                self.report(
                    _stored_seq(self.rows[pick]), "modified", "content does not match its hash"
                )
            current = str(self.rows[pick].get("hash"))
            expected += 1

    def _resolve_fork(self, candidates: list[int], expected: int) -> int:
        # Two records link to the same predecessor: the genuine one is continued by the chain
        # (or, at the end, is the one hashed at this place); the others were slipped in.
        def score(index: int) -> tuple[bool, bool, int]:
            continued = any(
                not self.reached[i] for i in self.by_prev.get(str(self.rows[index]["hash"]), [])
            )
            return (continued, self.verifies(index, expected), -index)

        pick = max(candidates, key=score)
        for other in candidates:
            if other != pick:
                self.reached[other] = True
                self.report(
                    _stored_seq(self.rows[other]),
                    "inserted",
                    "links to the same predecessor as the genuine record",
                )
        return pick

    def leftovers(self) -> None:
        for index, reached in enumerate(self.reached):
            if not reached:
                self.report(_stored_seq(self.rows[index]), "inserted", "not part of the hash chain")

    def reorderings(self) -> None:
        # Records of the chain in stored order should carry increasing original numbers; those
        # outside a longest increasing run were moved.
        order = [(i, self.original[i]) for i in range(len(self.rows)) if i in self.original]
        keep = _longest_increasing([seq for _, seq in order])
        for at, (index, seq) in enumerate(order):
            if at not in keep:
                self.report(
                    _stored_seq(self.rows[index]),
                    "reordered",
                    f"record {seq} of the chain is stored out of its place",
                )

    def head(self, head: dict[str, Any]) -> None:
        last_seq, last_hash = int(head["last_seq"]), str(head["last_hash"])
        tail = str(self.rows[self.chain[-1]]["hash"]) if self.chain else GENESIS_HASH
        if tail == last_hash:
            return
        named = self.position_of_hash.get(last_hash)
        if named is not None and named in self.original:
            for index in self.chain:
                if self.original[index] > self.original[named]:
                    self.report(
                        _stored_seq(self.rows[index]),
                        "inserted",
                        "after the record the chain head names",
                    )
            return
        end = len(self.chain)
        if last_seq > end:
            for missing in range(end + 1, last_seq + 1):
                self.report(missing, "deleted", "the chain head names a later record")
        elif self.chain:
            self.report(
                _stored_seq(self.rows[self.chain[-1]]), "modified", "does not match the chain head"
            )

    def checkpoints(
        self, checkpoints: list[dict[str, Any]], signer: ed25519.Ed25519PublicKey | None
    ) -> None:
        wanted = sorted(checkpoints, key=lambda c: int(c["tree_size"]))
        roots: dict[int, str] = {0: _frontier_root([]).hex()}
        frontier: list[tuple[int, bytes]] = []
        sizes = {int(c["tree_size"]) for c in wanted}
        for count, index in enumerate(self.chain, start=1):
            _extend(frontier, _leaf(str(self.rows[index]["hash"])))
            if count in sizes:
                roots[count] = _frontier_root(frontier).hex()
        for checkpoint in wanted:
            size = int(checkpoint["tree_size"])
            if signer is None:
                self.report(size, "checkpoint", "no public key to check the signature with")
            else:
                created = datetime.fromisoformat(str(checkpoint["created_at"]))
                message = checkpoint_message(size, str(checkpoint["root_hash"]), created)
                try:
                    signer.verify(bytes.fromhex(str(checkpoint["signature"])), message)
                except (InvalidSignature, ValueError):
                    self.report(size, "checkpoint", "the signature does not verify")
            root = roots.get(size)
            if root is None:
                self.report(size, "checkpoint", f"the log has only {len(self.chain)} records")
            elif root != checkpoint["root_hash"]:
                self.report(size, "checkpoint", "the Merkle root does not match the records")


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []  # Value at the end of the best run of each length.
    tail_at: list[int] = []  # Index of that value.
    parent = [-1] * len(values)
    for index, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[length] = value
            tail_at[length] = index
        parent[index] = tail_at[length - 1] if length else -1
    keep: set[int] = set()
    index = tail_at[-1] if tail_at else -1
    while index != -1:
        keep.add(index)
        index = parent[index]
    return keep


def verify_log(source: Session | LogExport, *, public_key_raw: bytes | None = None) -> VerifyReport:
    """Check a whole log: the hash chain, the chain head and every checkpoint.

    ``source`` is a session (the configured database) or a :class:`LogExport` read by
    :func:`load_export`. Signatures are checked with ``public_key_raw`` (raw Ed25519) if given,
    else with the key that came with the log. Findings, by stored sequence number:

    - **modified** — content no longer matches its hash, or its hash was rewritten so that the
      next record links to the original;
    - **deleted** — a record the chain (or the chain head) links to is gone, even if the later
      records were renumbered to close the gap;
    - **inserted** — a record outside the chain: one linking to the same predecessor as the
      genuine one, or one appended after the record the chain head names;
    - **reordered** — records whose stored place differs from their place in the chain;
    - **checkpoint** — a checkpoint whose signature or Merkle root does not match.

    A record appended and hashed by someone who also rewrote the chain head, after the last
    checkpoint, cannot be told from a genuine one; the checkpoints bound that window to ~10 s.
    """
    log = load_log(source) if isinstance(source, Session) else source
    raw = public_key_raw if public_key_raw is not None else log.public_key
    signer = None if raw is None else ed25519.Ed25519PublicKey.from_public_bytes(raw)
    verifier = _Verifier(log.records)
    verifier.walk()
    verifier.leftovers()
    verifier.reorderings()
    if log.head is not None:
        verifier.head(log.head)
    verifier.checkpoints(log.checkpoints, signer)
    order = {"deleted": 0, "inserted": 1, "reordered": 2, "modified": 3, "checkpoint": 9}
    problems = sorted(
        verifier.problems.values(),
        key=lambda p: (p.kind == "checkpoint", p.seq, order[p.kind]),
    )
    return VerifyReport(
        records=len(log.records), checkpoints=len(log.checkpoints), problems=problems
    )
