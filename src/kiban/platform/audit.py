"""The audit log: an append-only SHA-256 hash chain.

Every entry carries a sequence number, the instant, a tag (``source:subject:action``, as in
warehouse), the actor, the subject, a JSON ``data`` object, the previous entry's hash and its
own hash — SHA-256 over the canonical serialisation of all of these (see :func:`canonical`).
Appenders lock the single-row chain head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
transactions already begin IMMEDIATE), so concurrent writers queue instead of forking the
chain. :func:`verify` walks the chain and names every modified, deleted, inserted or reordered
entry by sequence number.

**Callers' duty:** ``data``, ``subject`` and ``actor`` must never contain a My Number
(個人番号). Refer to people by their kiban id; the audit log is read by operators and, for
access records, by the person, and it is append-only, so a number written here could never be
removed.

Usage, always inside the caller's transaction (these functions never commit)::

    entry = audit.record(session, tag="residents:person:registered",
                         actor="official:123", subject=str(person_id), data={"lg_code": "131016"})
    audit.record_many(session, (audit.Entry(...) for ...))   # bulk seeding
    report = audit.verify(session)

**Who acted, and in which session.** The route that authenticates an official or a service
account binds it to the request's database session with :func:`bind_acting` (the staff
block's principal resolvers do). Every entry recorded in that session under that principal's
``actor`` then carries ``data["by"]``: the account id, the organisation, the role (``None`` for
an API key), and a non-secret session reference — ``office-session:<row id>`` for an office
session (never the cookie), ``api-key:<key id>`` for a key, ``cli:<run id>`` for ``--as`` on the
command line. The actor name already says account, organisation and role; ``by`` makes them
fields, adds the session, and cannot be forgotten by an action.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final, Literal

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from kiban.kernel import clock
from kiban.platform.models import AuditChainHead, AuditEntry
from kiban.platform.statements import DriverStatement

__all__ = [
    "GENESIS_HASH",
    "ActingAs",
    "Appended",
    "AuditEntry",
    "Entry",
    "Problem",
    "ProblemKind",
    "VerifyReport",
    "acting_of",
    "append",
    "bind_acting",
    "canonical",
    "compute_hash",
    "record",
    "record_many",
    "record_sign_in",
    "sign_in_tag",
    "verify",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

HEAD_ID = 1
_TAG = re.compile(r"^[a-z0-9_.-]+:[a-z0-9_.-]+:[a-z0-9_.-]+$")
_BATCH = 5_000

ProblemKind = Literal["modified", "deleted", "inserted", "reordered"]


@dataclass(frozen=True)
class Entry:
    """An entry to append with :func:`record_many`; ``recorded_at`` defaults to now."""

    tag: str
    actor: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify`: what is wrong (``kind``) and where (``seq``)."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`."""

    ok: bool
    entries: int
    problems: list[Problem]


@dataclass(frozen=True)
class ActingAs:
    """The principal a request (or a CLI run) acts as: see :func:`bind_acting`."""

    actor: str  # The actor name its actions record, e.g. ``staff:<id>@011011/approval``.
    account: str
    organisation: str
    role: str | None
    session: str  # A non-secret reference: ``office-session:<id>``, ``api-key:<id>``, ...

    def as_data(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "organisation": self.organisation,
            "role": self.role,
            "session": self.session,
        }


_ACTING_KEY: Final = "kiban.audit.acting"


def bind_acting(session: Session, acting: ActingAs) -> None:
    """Bind the principal of this database session (one request, one CLI run): entries it
    records under ``acting.actor`` carry ``data["by"]`` (see the module's docstring)."""
    session.info[_ACTING_KEY] = acting


def acting_of(session: Session) -> ActingAs | None:
    """The principal bound with :func:`bind_acting`, if any."""
    bound = session.info.get(_ACTING_KEY)
    return bound if isinstance(bound, ActingAs) else None


def _attributed(session: Session, entry: Entry) -> Entry:
    bound = acting_of(session)
    if bound is None or entry.actor != bound.actor or "by" in entry.data:
        return entry
    return Entry(
        tag=entry.tag,
        actor=entry.actor,
        subject=entry.subject,
        data={**entry.data, "by": bound.as_data()},
        recorded_at=entry.recorded_at,
    )


# --- Hashing ---------------------------------------------------------------------------------


def person_actor(person_id: uuid.UUID) -> str:
    """The actor name of a resident acting for themselves (``person:<kiban id>``)."""
    return f"person:{person_id}"


def format_instant(instant: datetime) -> str:
    """The fixed instant format of the canonical form: UTC, microseconds, ``Z``."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: kiban stores aware UTC instants only")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical(
    *,
    seq: int,
    recorded_at: datetime,
    tag: str,
    actor: str,
    subject: str,
    data: dict[str, Any],
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed: sorted-key compact JSON of every field, in UTF-8."""
    return _json(
        {
            "actor": actor,
            "data": data,
            "prev_hash": prev_hash,
            "recorded_at": format_instant(recorded_at),
            "seq": seq,
            "subject": subject,
            "tag": tag,
        }
    ).encode("utf-8")


def compute_hash(
    *,
    seq: int,
    recorded_at: datetime,
    tag: str,
    actor: str,
    subject: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of :func:`canonical`."""
    return hashlib.sha256(
        canonical(
            seq=seq,
            recorded_at=recorded_at,
            tag=tag,
            actor=actor,
            subject=subject,
            data=data,
            prev_hash=prev_hash,
        )
    ).hexdigest()


def _normalise(entry: Entry) -> tuple[datetime, dict[str, Any]]:
    if not _TAG.match(entry.tag):
        raise ValueError(f"audit tag must be source:subject:action, got {entry.tag!r}")
    if not isinstance(entry.data, dict):
        raise TypeError("audit data must be a JSON object")
    # Store exactly what is hashed: a JSON round trip turns tuples into lists and rejects
    # values (sets, NaN, objects) that would not survive the database unchanged.
    data = json.loads(_json(entry.data))
    instant = entry.recorded_at or clock.now()
    if instant.tzinfo is None:
        raise ValueError("naive datetime: kiban stores aware UTC instants only")
    return instant.astimezone(UTC), data


# --- Appending -------------------------------------------------------------------------------


def _linked(entry: Entry, *, seq: int, prev_hash: str) -> dict[str, Any]:
    """The column values of ``entry`` at ``seq`` after ``prev_hash``, checked and hashed."""
    instant, payload = _normalise(entry)
    fields: dict[str, Any] = {
        "seq": seq,
        "recorded_at": instant,
        "tag": entry.tag,
        "actor": entry.actor,
        "subject": entry.subject,
        "data": payload,
        "prev_hash": prev_hash,
    }
    return {"id": uuid.uuid4(), **fields, "hash": compute_hash(**fields)}


# The chain head's statements, and the entry's INSERT, are compiled once per dialect and sent
# as driver SQL (ADR 0037): every audited action runs them, and SQLAlchemy's handling of a
# statement costs many times what the database does for it.
_head_table: Table = AuditChainHead.__table__  # type: ignore[assignment]
_entry_table: Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD_FOR_UPDATE = DriverStatement(
    select(_head_table.c.last_seq, _head_table.c.last_hash)
    .where(_head_table.c.id == HEAD_ID)
    .with_for_update()
)
_SET_HEAD = DriverStatement(
    update(_head_table)
    .where(_head_table.c.id == HEAD_ID)
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)
_INSERT_ENTRY = DriverStatement(
    insert(_entry_table).values({column.key: bindparam(column.key) for column in _entry_table.c})
)


def _create_head(dialect: Dialect) -> ClauseElement:
    values = {"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
    if dialect.name == "postgresql":
        return postgresql.insert(_head_table).values(values).on_conflict_do_nothing()
    if dialect.name == "sqlite":
        return sqlite.insert(_head_table).values(values).on_conflict_do_nothing()
    return insert(_head_table).values(values)  # pragma: no cover - other backends.


_CREATE_HEAD = DriverStatement(_create_head)


def _lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain head for the rest of the caller's transaction; create it if missing.

    The head exists after the first entry, so it is read (and locked) first; only a missing
    head is created, with ``ON CONFLICT DO NOTHING`` so that two first writers cannot both
    create it, and read again.
    """
    row = _HEAD_FOR_UPDATE.first(session)
    if row is None:
        _CREATE_HEAD.run(session)
        row = _HEAD_FOR_UPDATE.first(session)
        assert row is not None  # noqa: S101 - created above or by a concurrent writer.
    return int(row[0]), str(row[1])


def _set_head(session: Session, seq: int, hash_: str) -> None:
    _SET_HEAD.run(session, new_seq=seq, new_hash=hash_)


@dataclass(frozen=True, slots=True)
class Appended:
    """Where :func:`append` put an entry in the chain."""

    id: uuid.UUID
    seq: int
    hash: str


def append(
    session: Session,
    *,
    tag: str,
    actor: str,
    subject: str,
    data: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> Appended:
    """As :func:`record`, for paths that run many times a second: the same entry, hashed and
    chained the same way under the same head lock, written as one driver INSERT instead of
    an ORM object (nothing is added to the session). Returns its id, sequence number and
    hash."""
    item = _attributed(
        session,
        Entry(tag=tag, actor=actor, subject=subject, data=data or {}, recorded_at=recorded_at),
    )
    last_seq, last_hash = _lock_head(session)
    row = _linked(item, seq=last_seq + 1, prev_hash=last_hash)
    _INSERT_ENTRY.run(session, **row)
    _set_head(session, row["seq"], row["hash"])
    return Appended(id=row["id"], seq=row["seq"], hash=row["hash"])


def record(
    session: Session,
    *,
    tag: str,
    actor: str,
    subject: str,
    data: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (never commits) and return it.

    ``tag`` is ``source:subject:action`` in lower case. ``data`` must be a JSON object and
    must never contain a My Number.
    """
    item = _attributed(
        session,
        Entry(tag=tag, actor=actor, subject=subject, data=data or {}, recorded_at=recorded_at),
    )
    last_seq, last_hash = _lock_head(session)
    entry = AuditEntry(**_linked(item, seq=last_seq + 1, prev_hash=last_hash))
    session.add(entry)
    _set_head(session, entry.seq, entry.hash)
    session.flush([entry])
    return entry


def record_many(session: Session, entries: Iterable[Entry]) -> int:
    """Append many entries in the caller's transaction; returns how many.

    The fast path for bulk seeding: the chain head is locked once, hashes are computed in
    Python and rows are inserted in batches with ``executemany``.
    """
    session.flush()
    last_seq, last_hash = _lock_head(session)
    count = 0
    iterator = iter(entries)
    while batch := list(islice(iterator, _BATCH)):
        rows = []
        for item in batch:
            last_seq += 1
            row = _linked(_attributed(session, item), seq=last_seq, prev_hash=last_hash)
            rows.append(row)
            last_hash = row["hash"]
        session.execute(insert(AuditEntry), rows)
        count += len(rows)
    if count:
        _set_head(session, last_seq, last_hash)
    return count


# --- Sign-in events ---------------------------------------------------------------------------


def sign_in_tag(*, succeeded: bool, channel: str = "office") -> str:
    """``staff:<channel>:sign_in`` or ``staff:<channel>:sign_in_failed``."""
    return f"staff:{channel}:sign_in" if succeeded else f"staff:{channel}:sign_in_failed"


def record_sign_in(
    session: Session,
    *,
    succeeded: bool,
    source: str | None,
    actor: str | None = None,
    actor_id: str | None = None,
    organisation: str | None = None,
    role: str | None = None,
    reason: str | None = None,
    channel: str = "office",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one sign-in attempt of an official or operator in the caller's transaction:
    ``staff:office:sign_in`` or ``staff:office:sign_in_failed`` (``channel`` replaces
    ``office``, e.g. ``api``).

    ``actor`` is who signed in (``staff:<account id>``); a failure without a known account is
    recorded as ``system:<channel>`` with the client address (``source``) as its subject.
    ``actor_id``, ``organisation`` and ``role`` are stored as fields of their own when known,
    ``reason`` is a short code for a failure (``state``, ``token``, ``not_staff``,
    ``throttled``, ...), ``details`` anything else (a session id, the ``acr``). Never pass a
    password, a token or a My Number.

    A failed sign-in usually ends in an error response: record it in a transaction that
    commits (return the error page without raising, or use a transaction of its own), or the
    record is rolled back with the request.
    """
    fields = {
        "actor_id": actor_id,
        "organisation": organisation,
        "role": role,
        "source": source,
        "reason": reason,
        "channel": channel,
    }
    who = actor or f"system:{channel}"
    return record(
        session,
        tag=sign_in_tag(succeeded=succeeded, channel=channel),
        actor=who,
        subject=actor_id or (who if actor else (source or who)),
        data=(details or {}) | {key: value for key, value in fields.items() if value is not None},
    )


# --- Verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    seq: int
    recorded_at: datetime
    tag: str
    actor: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def digest(self, seq: int | None = None) -> str:
        return compute_hash(
            seq=self.seq if seq is None else seq,
            recorded_at=self.recorded_at,
            tag=self.tag,
            actor=self.actor,
            subject=self.subject,
            data=self.data,
            prev_hash=self.prev_hash,
        )


def _rows(session: Session) -> Iterator[_Row]:
    result = session.execute(
        select(
            AuditEntry.seq,
            AuditEntry.recorded_at,
            AuditEntry.tag,
            AuditEntry.actor,
            AuditEntry.subject,
            AuditEntry.data,
            AuditEntry.prev_hash,
            AuditEntry.hash,
        )
        .order_by(AuditEntry.seq, AuditEntry.id)
        .execution_options(yield_per=_BATCH)
    )
    for r in result:
        yield _Row(
            int(r.seq), r.recorded_at, r.tag, r.actor, r.subject, r.data, r.prev_hash, r.hash
        )


def count_entries(session: Session) -> int:
    """How many entries the log holds (for progress bars)."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


class _Walk:
    """The state of one verification pass (see :func:`verify` for the rules)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.problems: dict[tuple[int, str], Problem] = {}
        self.prev: _Row | None = None
        self.prevprev_hash: str | None = None
        self.shift = 0  # How far sequence numbers were renumbered after a deletion/insertion.
        self.reordered: set[int] = set()

    def report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.problems.setdefault((seq, kind), Problem(seq, kind, detail))

    def seq_of_hash(self, digest: str) -> int | None:
        value = self.session.scalar(select(AuditEntry.seq).where(AuditEntry.hash == digest))
        return None if value is None else int(value)

    def step(self, row: _Row) -> None:
        prev = self.prev
        if prev is not None and row.seq == prev.seq:
            # Two rows claim one place; the intruder is the one that does not verify.
            intruder = row if row.digest() != row.hash or row.prev_hash != prev.prev_hash else prev
            self.report(row.seq, "inserted", "two entries share this sequence number")
            if intruder is prev:
                self.prev = row
            return
        expected_prev = prev.hash if prev is not None else GENESIS_HASH
        expected_seq = prev.seq + 1 if prev is not None else 1
        self_ok = row.digest() == row.hash
        shifted_ok = self.shift != 0 and row.digest(row.seq - self.shift) == row.hash
        if row.prev_hash == expected_prev:
            if not self_ok and not shifted_ok:
                self.report(row.seq, "modified", "content does not match its hash")
            elif row.seq != expected_seq and self_ok:
                self.report(row.seq, "modified", f"sequence number should be {expected_seq}")
        else:
            self._broken_link(row, prev, expected_seq, self_ok=self_ok, shifted_ok=shifted_ok)
        self.prevprev_hash = prev.hash if prev is not None else None
        self.prev = row

    def _broken_link(  # noqa: PLR0911, PLR0912 - one rule per kind of break, read top down.
        self, row: _Row, prev: _Row | None, expected_seq: int, *, self_ok: bool, shifted_ok: bool
    ) -> None:
        target = self.seq_of_hash(row.prev_hash)
        if target is not None and target > row.seq:
            self.reordered.add(row.seq)
            self.report(row.seq, "reordered", f"links to the entry now at {target}, after it")
            return
        if prev is not None and (prev.seq in self.reordered or target in self.reordered):
            if not self_ok:
                self.reordered.add(row.seq)
                self.report(row.seq, "reordered", "out of place among reordered entries")
            return
        if prev is not None and row.prev_hash == self.prevprev_hash:
            # The row links past its predecessor: the predecessor was slipped in.
            self.problems = {k: v for k, v in self.problems.items() if k[0] != prev.seq}
            self.report(prev.seq, "inserted", f"entry {row.seq} links past it to its predecessor")
            if not self_ok and row.digest(row.seq - self.shift - 1) == row.hash:
                self.shift += 1
            elif not self_ok and not shifted_ok:
                self.report(row.seq, "modified", "content does not match its hash")
            return
        if target is None and row.seq > expected_seq:
            missing = range(expected_seq, row.seq)
            for seq in missing:
                self.report(seq, "deleted", f"missing; entry {row.seq} links to a lost entry")
            if not self_ok and not shifted_ok:
                self.report(row.seq, "modified", "content does not match its hash")
            return
        if target is None and not self_ok and row.digest(row.seq - self.shift + 1) == row.hash:
            # Renumbered down by one: the entry before it was deleted and the gap closed.
            self.shift -= 1
            self.report(row.seq, "deleted", "an entry here was deleted and later ones renumbered")
            return
        if target is None and prev is not None and (self_ok or shifted_ok):
            self.report(
                prev.seq, "modified", f"hash was rewritten; entry {row.seq} links to the original"
            )
            return
        if target is not None and target < row.seq - 1:
            for seq in range(target + 1, row.seq):
                self.report(seq, "deleted", f"entry {row.seq} links back to {target}")
            return
        self.report(row.seq, "modified", "does not link to its predecessor")

    def finish(self, last_seq: int | None, last_hash: str | None) -> None:
        prev = self.prev
        if last_seq is None or last_hash is None:
            if prev is not None:
                self.report(prev.seq, "inserted", "entries exist but the chain head is empty")
            return
        if prev is None:
            if last_seq > 0:
                for seq in range(1, last_seq + 1):
                    self.report(seq, "deleted", "the chain head names it but the log is empty")
            return
        if prev.hash == last_hash:
            return
        head_at = self.seq_of_hash(last_hash)
        if head_at is None and prev.seq < last_seq:
            for seq in range(prev.seq + 1, last_seq + 1):
                self.report(seq, "deleted", "the chain head names a later entry")
        elif head_at is not None and head_at < prev.seq:
            for seq in range(head_at + 1, prev.seq + 1):
                self.report(seq, "inserted", "after the entry the chain head names")
        else:
            self.report(prev.seq, "modified", "does not match the chain head")


def verify(session: Session, *, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Walk the chain in sequence order and report every break, by sequence number.

    - **modified**: an entry's content no longer matches its hash, or its hash was rewritten
      so that the next entry links to the original;
    - **deleted**: a gap in the numbering or a link to an entry that no longer exists, or the
      chain head naming entries past the end;
    - **inserted**: an entry its successor links past, a duplicate sequence number, or an
      entry after the one the chain head names;
    - **reordered**: entries whose links point forward, i.e. whose places were swapped.

    ``progress`` is called with the number of entries checked so far, every few thousand.
    Entries appended and re-hashed by someone who also rewrote the chain head cannot be told
    from genuine ones by the chain alone; that is what external checkpoints are for.
    """
    walk = _Walk(session)
    count = 0
    for row in _rows(session):
        walk.step(row)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    head = session.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
            AuditChainHead.id == HEAD_ID
        )
    ).one_or_none()
    if head is None:
        walk.finish(None if count else 0, None if count else GENESIS_HASH)
    else:
        walk.finish(int(head.last_seq), str(head.last_hash))
    problems = sorted(walk.problems.values(), key=lambda p: (p.seq, p.kind))
    return VerifyReport(ok=not problems, entries=count, problems=problems)
