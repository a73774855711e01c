"""Agency codes (機関別符号): how each member knows a person.

A member's code for a person is HMAC-SHA-256 over the internal person id (never the individual
number) under a key that belongs to that member and never leaves the mesh: 160 bits of it, in
lower-case base32. Codes for one person therefore differ across members and cannot be linked
without the mesh's keys. Each code is stored with its person (``mesh_agency_codes``) so that the
gateway can turn the requester's code back into the person and on into the provider's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
import weakref
from collections.abc import Sequence
from typing import cast

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, Table, bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from kiban.blocks.mesh.models import MeshAgencyCode, MeshMember
from kiban.blocks.mesh.service import engine_of, key_store, member_of
from kiban.kernel import clock
from kiban.platform import bulk
from kiban.platform.keys import KeyStore

_keys: dict[tuple[int, str], tuple[KeyStore, bytes]] = {}


def _member_key(store: KeyStore, member: str) -> bytes:
    cached = _keys.get((id(store), member))
    if cached is not None and cached[0] is store:
        return cached[1]
    key = _derive(store, member)
    _keys[id(store), member] = (store, key)
    return key


def _derive(store: KeyStore, member: str) -> bytes:
    # The member's code key is derived from a key-store key of its own, so it lives (and would be
    # rotated or moved to an HSM) with the other keys of the system.
    name = "mesh-codes-" + member.lower().replace("/", ".")
    secret = store.get_or_create(name, "ed25519")
    if not isinstance(secret, ed25519.Ed25519PrivateKey):
        raise TypeError("agency code keys are kept as Ed25519 keys")
    raw = secret.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kiban mesh agency code"
    ).derive(raw)


def compute(member: str, person_id: uuid.UUID) -> str:
    """The member's code for the person (pure: no database)."""
    key = _member_key(key_store(), member_of(member))
    digest = hmac.new(key, person_id.bytes, hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode().lower()


def compute_many(member: str, person_ids: Sequence[uuid.UUID]) -> list[str]:
    """:func:`compute` for many people, the member's key looked up once."""
    key = _member_key(key_store(), member_of(member))
    new, sha256, encode = hmac.new, hashlib.sha256, base64.b32encode
    return [encode(new(key, p.bytes, sha256).digest()[:20]).decode().lower() for p in person_ids]


# What this process knows of a database's ``mesh_agency_codes``: (member, code) → person. A
# code is a function of the member's key and the person, so a pair once seen stays true (rows
# are never changed or deleted). ``_resolved`` holds every pair read, ``_stored`` only those known
# to be committed — read or written in a transaction of its own — whose insert can be skipped.
_CACHE_LIMIT = 200_000
_Known = weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], uuid.UUID]]
_resolved: _Known = weakref.WeakKeyDictionary()
_stored: _Known = weakref.WeakKeyDictionary()


def _slots(cache: _Known, engine: Engine) -> dict[tuple[str, str], uuid.UUID]:
    slots = cache.get(engine)
    if slots is None:
        slots = cache.setdefault(engine, {})
    elif len(slots) > _CACHE_LIMIT:
        slots.clear()
    return slots


# Built once: the gateway runs these on every request whose person it has not seen yet.
_CODES = cast(Table, MeshAgencyCode.__table__)
_INSERT_PG = pg_insert(_CODES).on_conflict_do_nothing()
_INSERT_SQLITE = sqlite_insert(_CODES).on_conflict_do_nothing()
_PERSON_FOR = select(_CODES.c.person_id).where(
    _CODES.c.member == bindparam("member"), _CODES.c.code == bindparam("code")
)


def is_stored(engine: Engine, member: str, code: str) -> bool:
    """Whether the code is known to be committed in the engine's database."""
    return (member_of(member), code) in _slots(_stored, engine)


def mark_stored(engine: Engine, member: str, code: str, person_id: uuid.UUID) -> None:
    """Note that the code's row is committed (the caller's transaction of its own has ended)."""
    pair = (member_of(member), code)
    _slots(_stored, engine)[pair] = person_id
    _slots(_resolved, engine)[pair] = person_id


_PENDING = "kiban.mesh.codes.stored"


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # The codes a session inserted are stored once it commits (this runs after the commit).
    if session.in_nested_transaction():
        # A savepoint was released (SQLAlchemy fires after_commit for those too): the outer
        # transaction has not committed yet.
        return
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        engine, pairs = pending
        _slots(_stored, engine).update(pairs)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, *_: object) -> None:
    # Any rollback, a savepoint's too, forgets them: at worst a code is inserted again.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without a commit ends its transaction without a rollback event.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def store_codes(session: Session, rows: Sequence[tuple[str, str, uuid.UUID]]) -> None:
    """Store (member, code, person) rows that may exist already, in one statement; the caller
    commits and then calls :func:`mark_all_stored`.

    On PostgreSQL a large set goes through ``COPY`` into a temporary table and one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING``: a batched ``INSERT`` of thousands of rows
    costs the driver more than the server's work."""
    engine = engine_of(session)
    now = clock.now()
    if engine.dialect.name == "postgresql" and len(rows) >= _COPY_FROM:
        _copy_codes(session, [(uuid.uuid4(), member_of(m), c, p, now) for m, c, p in rows])
        return
    values = [
        {"id": uuid.uuid4(), "member": member_of(m), "code": c, "person_id": p, "created_at": now}
        for m, c, p in rows
    ]
    statement = _INSERT_PG if engine.dialect.name == "postgresql" else _INSERT_SQLITE
    session.execute(statement, values)


_COPY_FROM = 200
_STAGE = "kiban_mesh_codes_stage"
_STAGE_COLUMNS = ("id", "member", "code", "person_id", "created_at")


def _copy_codes(
    session: Session, rows: list[tuple[uuid.UUID, str, str, uuid.UUID, object]]
) -> None:
    connection = session.connection()
    columns = ", ".join(_STAGE_COLUMNS)
    # The staging table lives for the transaction; the same transaction may stage again.
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
        f"(LIKE {_CODES.name} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    bulk.copy_rows(connection, _STAGE, _STAGE_COLUMNS, rows)
    connection.exec_driver_sql(
        f"INSERT INTO {_CODES.name} ({columns}) SELECT {columns} FROM {_STAGE} "  # noqa: S608
        f"ON CONFLICT DO NOTHING"
    )
    connection.exec_driver_sql(f"TRUNCATE {_STAGE}")


def mark_all_stored(engine: Engine, rows: Sequence[tuple[str, str, uuid.UUID]]) -> None:
    for member, code, person in rows:
        mark_stored(engine, member, code, person)


def agency_code(session: Session, member_or_subsystem: str, person_id: uuid.UUID) -> str:
    """The member's code for the person, stored for the reverse lookup on first use."""
    member = member_of(member_or_subsystem)
    code = compute(member, person_id)
    engine = engine_of(session)
    if (member, code) in _slots(_stored, engine):
        return code
    row = {"id": uuid.uuid4(), "member": member, "code": code, "person_id": person_id}
    row["created_at"] = clock.now()
    statement = _INSERT_PG if engine.dialect.name == "postgresql" else _INSERT_SQLITE
    session.execute(statement, row)
    pending: tuple[Engine, dict[tuple[str, str], uuid.UUID]] | None = session.info.get(_PENDING)
    if pending is None or pending[0] is not engine:
        pending = session.info[_PENDING] = (engine, {})
    pending[1][member, code] = person_id
    return code


def person_for(
    session: Session, member_or_subsystem: str, code: str, *, committed: bool = False
) -> uuid.UUID | None:
    """The person a member knows by ``code``, or None. ``committed``: the session is a
    transaction of the caller's own that reads only committed rows (what it finds is stored)."""
    member = member_of(member_or_subsystem)
    engine = engine_of(session)
    person = _slots(_resolved, engine).get((member, code))
    if person is not None:
        return person
    person = session.execute(_PERSON_FOR, {"member": member, "code": code}).scalar()
    if person is not None:
        _slots(_resolved, engine)[member, code] = person
        if committed:
            _slots(_stored, engine)[member, code] = person
    return person


def _written(session: Session, engine: Engine) -> dict[tuple[str, str], uuid.UUID]:
    """The (member, code) → person pairs this session's transaction has stored so far."""
    pending: tuple[Engine, dict[tuple[str, str], uuid.UUID]] | None = session.info.get(_PENDING)
    if pending is None or pending[0] is not engine:
        pending = session.info[_PENDING] = (engine, {})
    elif len(pending[1]) > _CACHE_LIMIT:
        # A long transaction (a country's enrolment) forgets: at worst a code is sent again.
        pending[1].clear()
    return pending[1]


def agency_codes(
    session: Session, member_or_subsystem: str, person_ids: Sequence[uuid.UUID]
) -> list[str]:
    """The member's codes for many people (in order), the missing ones stored in one statement
    in the caller's transaction — :func:`agency_code` for a batch. Codes stored earlier in the
    same transaction are not sent again."""
    member = member_of(member_or_subsystem)
    made = compute_many(member, person_ids)
    engine = engine_of(session)
    known = _slots(_stored, engine)
    written = _written(session, engine)
    missing = [
        (member, code, person)
        for code, person in zip(made, person_ids, strict=True)
        if (member, code) not in known and (member, code) not in written
    ]
    for start in range(0, len(missing), _STORE_CHUNK):
        store_codes(session, missing[start : start + _STORE_CHUNK])
    for _, code, person in missing:
        written[member, code] = person
    return made


_STORE_CHUNK = 5_000


def people_for(
    session: Session, member_or_subsystem: str, found_codes: Sequence[str]
) -> dict[str, uuid.UUID]:
    """The people a member knows by ``found_codes``, code → person, in one query per thousand
    codes (codes that name nobody are left out) — :func:`person_for` for a batch."""
    member = member_of(member_or_subsystem)
    engine = engine_of(session)
    resolved = _slots(_resolved, engine)
    written = _written(session, engine)
    found: dict[str, uuid.UUID] = {}
    wanted: list[str] = []
    for code in found_codes:
        person = resolved.get((member, code)) or written.get((member, code))
        if person is None:
            wanted.append(code)
        else:
            found[code] = person
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        rows = session.execute(
            select(_CODES.c.code, _CODES.c.person_id).where(
                _CODES.c.member == member, _CODES.c.code.in_(chunk)
            )
        )
        for code, person in rows:
            found[code] = person
    return found


def convert(session: Session, from_member: str, code: str, to_member: str) -> str | None:
    """The ``to_member``'s code for the person ``from_member`` knows by ``code`` (or None)."""
    person = person_for(session, from_member, code)
    if person is None:
        return None
    return agency_code(session, to_member, person)


def enrol_person(session: Session, person_id: uuid.UUID) -> dict[str, str]:
    """Make the person's code for every active member; returns member → code."""
    members = session.scalars(select(MeshMember.xroad_id).where(MeshMember.active.is_(True)))
    return {member: agency_code(session, member, person_id) for member in members}
