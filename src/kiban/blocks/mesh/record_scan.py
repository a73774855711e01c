"""One streaming pass over the stored access records: the fast path of ``kiban mesh verify``.

:func:`scan_log` reads the records in ``seq`` order on the driver's cursor (a server-side cursor
on PostgreSQL), rebuilds each record's canonical encoding straight from the column values and
checks, record by record, that the number is its position, that ``prev_hash`` is the previous
record's hash and that the stored hash is SHA-256 over the encoding; meanwhile it folds every
hash into the RFC 6962 tree and keeps the tree's frontier at each checkpoint's size. It holds
one record at a time, not the log. :func:`scan_in_parts` runs it on parts of the log in worker
processes and joins their results into the same answer.

It only ever *certifies* a log: the first record that is not exactly where and what an intact
log would have stops it (:class:`ScanResult` ``intact`` false), and the caller then runs the
full analysis of :mod:`kiban.blocks.mesh.record_verify`, which names every finding. Since a
record passes only when its stored hash equals SHA-256 over the encoding rebuilt here, and the
encoding is byte for byte :func:`kiban.blocks.mesh.record_chain.canonical_fields` through
``_json`` (a test holds the two together), an intact verdict here is the verdict the full
analysis would give. The hashed format itself is not touched.

Per record the work is one string formatting, two or three SHA-256 and a few dictionary
look-ups: column values that repeat (instants of one append, services, members, items, legal
bases) are converted once and remembered.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, Final

from sqlalchemy import Engine, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from kiban.blocks.mesh.record_chain import _RECORDS, GENESIS_HASH, _instant, _json

Progress = Callable[[int], None]
"""Called with the number of records read since its last call, every :data:`PROGRESS_EVERY`
records and at the end."""

PROGRESS_EVERY = 10_000
_FETCH = 10_000  # Rows per round trip of PostgreSQL's server-side cursor.
_MEMO_LIMIT = 1 << 16  # Remembered conversions per column, before the memo starts afresh.

# The columns in the order they are selected; ``seq`` first and ``prev_hash``, ``hash`` last.
_COLUMNS: Final = (
    "seq",
    "agency_code",
    "consent_id",
    "counterpart",
    "items",
    "legal_basis",
    "member",
    "message_id",
    "non_disclosure_until",
    "outcome",
    "person_id",
    "provided_at",
    "recorded_at",
    "request_hash",
    "requested_at",
    "response_hash",
    "service",
    "side",
    "prev_hash",
    "hash",
)
# The hashed fields in canonical (sorted) key order; ``seq`` and ``prev_hash`` are filled in by
# the pass itself.
_KEYS: Final = tuple(sorted((*_COLUMNS[1:-1], "seq")))

# Columns whose values repeat across records: their conversions are remembered. The others
# are text that differs from record to record: agency codes, message ids, request and response
# hashes (JSON-escaped one by one) and the person's id.
_MEMO: Final = (
    "consent_id",
    "counterpart",
    "items",
    "legal_basis",
    "member",
    "non_disclosure_until",
    "outcome",
    "provided_at",
    "recorded_at",
    "requested_at",
    "service",
    "side",
)
_INSTANTS: Final = frozenset({"provided_at", "recorded_at", "requested_at"})
_UUIDS: Final = frozenset({"consent_id", "person_id"})
# Fields whose JSON the template quotes itself: the previous hash (checked to be the previous
# record's hash, hexadecimal) and the person's id (canonical UUID text, see _person_text).
_QUOTED: Final = frozenset({"prev_hash", "person_id"})
# The encoding as bytes: formatting UTF-8 pieces into a bytes template costs about a third of
# formatting text with non-ASCII characters (the legal bases) and then encoding it. UTF-8 of a
# concatenation is the concatenation of the pieces' UTF-8, so the bytes are the same.
_TEMPLATE: Final = (
    "{"
    + ",".join(
        f'"{key}":' + ("%d" if key == "seq" else '"%s"' if key in _QUOTED else "%s")
        for key in _KEYS
    )
    + "}"
).encode("ascii")


Frontier = list[tuple[int, bytes]]
"""The roots (height, hash) of the perfect subtrees an RFC 6962 tree decomposes into."""


@dataclass
class ScanResult:
    """What one pass over the records after ``after`` found.

    ``intact``: every record was where and what it should be; ``records``: rows read (all of
    them when intact); ``tail``: the last record's hash; ``frontiers``: the Merkle frontier of
    the records read so far at each wanted size reached, and ``frontier`` at the end (subtrees
    of the records after ``after`` only); ``stopped_at``: the stored ``seq`` of the first
    record that was not as expected, with ``reason``."""

    intact: bool
    records: int
    tail: str = GENESIS_HASH
    frontiers: dict[int, Frontier] = field(default_factory=dict)
    frontier: Frontier = field(default_factory=list)
    stopped_at: int | None = None
    reason: str | None = None


def _string(value: Any) -> str:
    if value is None:
        return "null"
    if not isinstance(value, str):
        raise TypeError("not text")
    return str(encode_basestring(value))


def _instant_json(value: datetime | None) -> str:
    return "null" if value is None else '"' + str(_instant(value)) + '"'


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_instant_json(value: int | None) -> str:
    # Integer microseconds: exact, as the driver's datetime of the same instant would be.
    return "null" if value is None else _instant_json(_EPOCH + timedelta(microseconds=value))


def _uuid_json(value: uuid.UUID | str | None) -> str:
    if value is None:
        return "null"
    return '"' + str(value if isinstance(value, uuid.UUID) else uuid.UUID(value)) + '"'


def _date_json(value: date | None) -> str:
    return "null" if value is None else '"' + value.isoformat() + '"'


def _items_json(value: Any) -> str:
    # As the ORM path does: ``[str(item) for item in row.items]``.
    return str(_json([str(item) for item in value]))


def _converter(table: Table, name: str, dialect: Dialect) -> Callable[[Any], str]:
    """Stored value of column ``name`` -> its JSON in the canonical encoding, through the same
    result processor SQLAlchemy applies when the ORM reads the column."""
    processor = table.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
    if name in _INSTANTS:
        encode: Callable[[Any], str] = _instant_json
    elif name in _UUIDS:
        encode = _uuid_json
    elif name == "items":
        encode = _items_json
    elif name == "non_disclosure_until":
        encode = _date_json
    else:
        encode = _string
    if dialect.name == "postgresql" and name in _INSTANTS:
        # Selected as microseconds since the epoch: psycopg turning the text of an instant into
        # a datetime cost as much as the rest of the fetch, and most instants repeat anyway.
        return _epoch_instant_json
    if dialect.name == "postgresql" and name in _UUIDS:
        return encode  # Selected as text: PostgreSQL writes a UUID as Python's str() does.
    if dialect.name == "postgresql" and name == "items":
        import json  # noqa: PLC0415 - only here.

        # Selected as text and parsed here, as psycopg's JSONB loader parses it.
        return lambda raw: encode(json.loads(raw))
    if processor is None:
        return encode
    return lambda raw: encode(processor(raw))


def _memoised(
    convert: Callable[[Any], str],
) -> tuple[dict[Any, bytes], Callable[[Any], bytes]]:
    memo: dict[Any, bytes] = {}

    def remember(raw: Any) -> bytes:
        value = convert(raw).encode("utf-8")
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[raw] = value
        return value

    return memo, remember


def _select(dialect: Dialect, after: int | None, upto: int | None) -> str:
    table = _RECORDS.name
    if dialect.name == "postgresql":
        names = [
            f"(extract(epoch from {name}) * 1000000)::bigint"
            if name in _INSTANTS
            else f"{name}::text"
            if name in _UUIDS or name == "items"
            else name
            for name in _COLUMNS
        ]
    else:
        names = list(_COLUMNS)
    bounds = [f"seq > {int(after)}"] if after is not None else []
    bounds += [f"seq <= {int(upto)}"] if upto is not None else []
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    return f"SELECT {', '.join(names)} FROM {table}{where} ORDER BY seq"  # noqa: S608


def _rows(dialect: Dialect, driver: Any, after: int | None = None, upto: int | None = None) -> Any:
    """The records in ``seq`` order (those in ``(after, upto]``, each end open when None), as
    the driver connection ``driver`` returns them, without holding them all."""
    if dialect.name == "postgresql":
        cursor = driver.cursor(name="kiban_mesh_verify")
        cursor.itersize = _FETCH
    else:
        cursor = driver.cursor()
    cursor.execute(_select(dialect, after, upto))
    return cursor


def _person_text(dialect: Dialect) -> Callable[[Any], bytes]:
    """Stored person id -> its canonical text. PostgreSQL's ``uuid::text`` is already that.
    SQLite stores the 32 hex digits (SQLAlchemy's ``Uuid``); they are cut into groups, and
    everything past the 20th character goes into the last group, so a stored value that is not
    exactly 32 lowercase hex digits never yields the canonical text of the hashed record
    (its hash fails, and the full analysis, which reads it as the ORM does, takes over)."""
    if dialect.name == "postgresql":
        return str.encode
    return lambda h: f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()


def _memos(dialect: Dialect) -> list[tuple[dict[Any, bytes], Callable[[Any], bytes]]]:
    """A memo and a remembering conversion for each column of :data:`_MEMO`, in its order."""
    return [_memoised(_converter(_RECORDS, name, dialect)) for name in _MEMO]


def scan_log(
    dialect: Dialect,
    driver: Any,
    sizes: set[int],
    *,
    after: int = 0,
    upto: int | None = None,
    start: str = GENESIS_HASH,
    progress: Progress | None = None,
) -> ScanResult:
    """One pass over the stored records on ``driver``, a driver connection of ``dialect`` (in
    the caller's transaction); see the module's docstring. ``sizes`` are the tree sizes whose
    Merkle frontiers are wanted (the checkpoints').

    A part of the log: the records numbered ``after + 1`` to ``upto``, the first linking to
    ``start`` (the stored hash of record ``after``). The first part (``after`` 0) also reads
    any record numbered below 1, and the last (``upto`` None) any record past the head.

    The loop is written out column by column on purpose: a Python call or a loop per column
    of every record is a noticeable part of its cost.
    """
    (
        (m_consent, c_consent),
        (m_counterpart, c_counterpart),
        (m_items, c_items),
        (m_basis, c_basis),
        (m_member, c_member),
        (m_undisclosed, c_undisclosed),
        (m_outcome, c_outcome),
        (m_provided, c_provided),
        (m_recorded, c_recorded),
        (m_requested, c_requested),
        (m_service, c_service),
        (m_side, c_side),
    ) = _memos(dialect)
    person_text = _person_text(dialect)
    text = encode_basestring
    template = _TEMPLATE
    sha256 = hashlib.sha256
    frontier: Frontier = []
    roots: dict[int, Frontier] = {}
    wanted = set(sizes)
    last = start
    position = after
    cursor = _rows(dialect, driver, after or None, upto)
    try:
        for (
            seq,
            agency_code,
            consent_id,
            counterpart,
            items,
            legal_basis,
            member,
            message_id,
            undisclosed,
            outcome,
            person_id,
            provided_at,
            recorded_at,
            request_hash,
            requested_at,
            response_hash,
            service,
            side,
            prev_hash,
            stored,
        ) in cursor:
            position += 1
            if seq != position:
                reason = f"stored as {seq} at position {position}"
                return ScanResult(False, position - after, last, roots, [], seq, reason)
            if prev_hash != last:
                return ScanResult(False, position - after, last, roots, [], seq, "does not link")
            try:
                encoded = template % (
                    text(agency_code).encode(),
                    m_consent.get(consent_id) or c_consent(consent_id),
                    m_counterpart.get(counterpart) or c_counterpart(counterpart),
                    m_items.get(items) or c_items(items),
                    m_basis.get(legal_basis) or c_basis(legal_basis),
                    m_member.get(member) or c_member(member),
                    text(message_id).encode(),
                    m_undisclosed.get(undisclosed) or c_undisclosed(undisclosed),
                    m_outcome.get(outcome) or c_outcome(outcome),
                    person_text(person_id),
                    last.encode(),
                    m_provided.get(provided_at) or c_provided(provided_at),
                    m_recorded.get(recorded_at) or c_recorded(recorded_at),
                    text(request_hash).encode(),
                    m_requested.get(requested_at) or c_requested(requested_at),
                    b"null" if response_hash is None else text(response_hash).encode(),
                    position,
                    m_service.get(service) or c_service(service),
                    m_side.get(side) or c_side(side),
                )
            except (TypeError, ValueError, AttributeError, OverflowError) as error:
                return ScanResult(
                    False, position - after, last, roots, [], seq, f"unreadable: {error}"
                )
            digest = sha256(encoded).digest()
            last = digest.hex()
            if last != stored:
                return ScanResult(
                    False, position - after, prev_hash, roots, [], seq, "content does not match"
                )
            # RFC 6962: the leaf, then merge equal-height subtrees (as record_checkpoints does).
            node = sha256(b"\x00" + digest).digest()
            height = 0
            while frontier and frontier[-1][0] == height:
                node = sha256(b"\x01" + frontier.pop()[1] + node).digest()
                height += 1
            frontier.append((height, node))
            if position in wanted:
                roots[position] = list(frontier)
            if progress is not None and (position - after) % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
    finally:
        cursor.close()
    if progress is not None:
        progress((position - after) % PROGRESS_EVERY)
    if upto is not None and position != upto:
        return ScanResult(False, position - after, last, roots, [], upto, "missing")
    return ScanResult(True, position - after, last, roots, frontier)


def joined(left: Frontier, right: Frontier) -> Frontier:
    """The frontier of the records of ``left`` followed by those of ``right``, when ``left``
    covers a multiple of 2**h records for every height h in ``right`` (a part's records start
    at such a boundary): the subtrees are appended, equal heights merged as leaves are."""
    out = list(left)
    for subtree in right:
        height, node = subtree
        while out and out[-1][0] == height:
            node = hashlib.sha256(b"\x01" + out.pop()[1] + node).digest()
            height += 1
        out.append((height, node))
    return out


def root(frontier: Frontier) -> str:
    """The Merkle tree hash (hex) of the records a frontier covers."""
    if not frontier:
        return hashlib.sha256(b"").hexdigest()
    node = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        node = hashlib.sha256(b"\x01" + left + node).digest()
    return node.hex()


# --- In parts, on every core ------------------------------------------------------------------

PARALLEL_FROM = 200_000
"""Logs of at least this many records are read in parts by several processes by default."""

_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]{1,64}$")


@dataclass(frozen=True)
class Part:
    """Records ``after + 1`` to ``upto`` (None: to the end) and the wanted sizes among them."""

    after: int
    upto: int | None
    sizes: frozenset[int]


def parts_of(total: int, count: int, sizes: set[int]) -> list[Part]:
    """Split a log of ``total`` records into at most ``count`` parts of 2**k records (the last
    one shorter and open above): each part's Merkle subtrees then join its predecessors'."""
    span = 1
    while -(-total // span) > count:
        span *= 2
    bounds = list(range(0, max(total - span, 0) + 1, span)) if total > span else [0]
    parts = []
    for index, after in enumerate(bounds):
        upto = bounds[index + 1] if index + 1 < len(bounds) else None
        inside = frozenset(s for s in sizes if s > after and (upto is None or s <= upto))
        parts.append(Part(after, upto, inside))
    return parts


_engine: Engine | None = None
_read: Any = None  # A shared counter of records read (multiprocessing.Value).


def _start_worker(url: str, counter: Any) -> None:
    global _engine, _read  # noqa: PLW0603 - one engine and one counter per worker process.
    from kiban.platform.db import make_engine  # noqa: PLC0415 - in the worker only.

    _engine = make_engine(url)
    _read = counter


def _told(done: int) -> None:
    with _read.get_lock():
        _read.value += done


def _scan_part(part: Part, snapshot: str | None) -> ScanResult:
    """Scan one part in a worker process, on a connection of its own: on PostgreSQL in the
    snapshot the parent exported, so every part sees the same log."""
    assert _engine is not None  # noqa: S101 - set by _start_worker.
    raw = _engine.raw_connection()
    driver: Any = raw.driver_connection
    dialect = _engine.dialect
    try:
        cursor = driver.cursor()
        if snapshot is not None:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        start = GENESIS_HASH
        if part.after:
            marker = "%s" if dialect.name == "postgresql" else "?"
            cursor.execute(f"SELECT hash FROM {_RECORDS.name} WHERE seq = {marker}", (part.after,))  # noqa: S608
            found = cursor.fetchone()
            if found is None:
                return ScanResult(False, 0, stopped_at=part.after, reason="missing")
            start = str(found[0])
        cursor.close()
        return scan_log(
            dialect,
            driver,
            set(part.sizes),
            after=part.after,
            upto=part.upto,
            start=start,
            progress=_told,
        )
    finally:
        driver.rollback()
        raw.close()


def scan_in_parts(
    session: Session,
    total: int,
    sizes: set[int],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[ScanResult, dict[int, str]]:
    """Scan the log in parts on ``workers`` processes and join the parts: the result of one
    scan over the whole log, and the Merkle root (hex) at each wanted size."""
    connection = session.connection()
    engine = connection.engine
    snapshot = None
    if connection.dialect.name == "postgresql":
        # Every part reads the parent's snapshot, as pg_dump's parallel workers do.
        snapshot = str(connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
        if not _SNAPSHOT_ID.match(snapshot):  # pragma: no cover - PostgreSQL's own format.
            raise RuntimeError("unexpected snapshot id")
    parts = parts_of(total, workers * 4, sizes)
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(url, counter)
    ) as pool:
        futures = [pool.submit(_scan_part, part, snapshot) for part in parts]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if progress is not None:
                progress(int(counter.value))
        results = [future.result() for future in futures]
    return _join(results)


def _join(results: list[ScanResult]) -> tuple[ScanResult, dict[int, str]]:
    """One result from the parts' results, in order. A part starts from the stored hash of the
    record before it, which the previous part found to be that record's true hash: so the parts
    link up exactly when each is intact and reads all of its records (scan_log checks that)."""
    frontier: Frontier = []
    roots: dict[int, str] = {}
    tail = GENESIS_HASH
    records = 0
    for result in results:
        if not result.intact:
            return replace(result, records=records + result.records), roots
        records += result.records
        for size, local in sorted(result.frontiers.items()):
            roots[size] = root(joined(frontier, local))
        frontier = joined(frontier, result.frontier)
        tail = result.tail
    return ScanResult(True, records, tail, {}, frontier), roots
