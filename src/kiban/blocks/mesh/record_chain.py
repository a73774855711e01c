"""The access-record chain: the records' data, their canonical form and hash, and appending
them under the chain head's lock (see :mod:`kiban.blocks.mesh.records`)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Final, Literal, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from kiban.blocks.mesh.record_models import (
    MeshAccessRecord,
    MeshRecordChainHead,
)
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import bulk

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


@functools.lru_cache(maxsize=256)
def _instant(value: datetime | None) -> str | None:
    # Cached: the records of one append share their ``recorded_at``, and a batch's records
    # their ``requested_at`` and ``provided_at``.
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
    first = last_seq + 1
    now = clock.now()
    connection = session.connection()
    # On PostgreSQL a long append goes by COPY, its lines made from the canonical fields (the
    # instants in UTC with ``Z``, the same values the Core insert would store).
    copying = connection.dialect.name == "postgresql" and len(records) >= COPY_FROM
    lines: list[str] = []
    rows: list[dict[str, Any]] = []
    for record in records:
        last_seq += 1
        fields = canonical_fields(record, seq=last_seq, recorded_at=now, prev_hash=last_hash)
        last_hash = _digest(fields)
        if copying:
            lines.append(_copy_line(fields, last_hash))
            continue
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
    if connection.dialect.name == "sqlite":
        _SqliteChain.of(connection).append(connection, rows, last_seq, last_hash)
    else:
        if copying:
            bulk.copy_lines(connection, _RECORDS.name, _COPY_COLUMNS, lines)
        else:
            connection.execute(_INSERT_RECORDS, rows)
        connection.execute(_UPDATE_HEAD, {"new_seq": last_seq, "new_hash": last_hash})
    return list(range(first, last_seq + 1))


def _digest(fields: dict[str, Any]) -> str:
    # :func:`record_hash` of fields made by :func:`canonical_fields` (which have no ``hash``).
    return hashlib.sha256(_json(fields).encode("utf-8")).hexdigest()


def _copy_line(fields: dict[str, Any], hash_: str) -> str:
    """A record's line in COPY's text format, in :data:`_COPY_COLUMNS` order."""
    escape = bulk.escape
    values = [
        "\\N"
        if value is None
        else escape(value)
        if type(value) is str
        else str(value)
        if type(value) is int
        else escape(_json(value))
        for value in fields.values()
    ]
    values.append(hash_)
    return "\t".join(values) + "\n"


COPY_FROM = 256
"""Appends of at least this many records use PostgreSQL's ``COPY`` (batch exchanges, the seed)."""


_COPY_COLUMNS: Final = [
    *canonical_fields(
        AccessRecordCreate(
            person_id=uuid.UUID(int=0),
            side="requester",
            member="-",
            counterpart="-",
            agency_code="-",
            service="-",
            items=[],
            legal_basis=None,
            consent_id=None,
            message_id="-",
            request_hash="-",
            response_hash=None,
            outcome="ok",
            requested_at=datetime(2000, 1, 1, tzinfo=UTC),
            provided_at=None,
        ),
        seq=0,
        recorded_at=datetime(2000, 1, 1, tzinfo=UTC),
        prev_hash=GENESIS_HASH,
    ),
    "hash",
]
"""The columns of a COPY line: the canonical fields' names, in their order, and ``hash``."""


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
