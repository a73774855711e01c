"""Driver statements send compiled SQL straight to the driver, yet behave as SQLAlchemy would:
column types both ways, SQLAlchemy's exceptions, autoflush, the session's transaction; and a
driver transaction (no ORM session) commits, rolls back and raises as a session's does."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.platform import db
from kiban.platform.models import AuditEntry
from kiban.platform.statements import DriverStatement, driver_transaction

JST = timezone(timedelta(hours=9))
_entries: Table = AuditEntry.__table__  # type: ignore[assignment]
INSERT = DriverStatement(
    insert(_entries).values({column.key: bindparam(column.key) for column in _entries.c})
)
BY_SEQ = DriverStatement(
    select(_entries.c.id, _entries.c.recorded_at, _entries.c.data, _entries.c.tag).where(
        _entries.c.seq == bindparam("wanted")
    )
)
RETAG_ONE_TAG = DriverStatement(
    update(_entries)
    .where(_entries.c.tag == "test:thing:made")  # A literal written into the statement.
    .values(tag=bindparam("new_tag"))
)


def _row(seq: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "seq": seq,
        # Not UTC on the way in: stored and read back as the same instant, in UTC.
        "recorded_at": datetime(2026, 4, 1, 18, 30, 15, 123456, tzinfo=JST)
        + timedelta(seconds=seq),
        "tag": "test:thing:made",
        "actor": "official:1",
        "subject": f"thing-{seq}",
        "data": {"name": "山田 花子", "items": [1, 2.5, None, True]},
        "prev_hash": "0" * 64,
        "hash": f"{seq:064x}",
    }
    return row | changes


def test_values_go_through_the_column_types_both_ways(session: Session) -> None:
    written = _row(1)

    assert INSERT.run(session, **written) == 1
    found = BY_SEQ.first(session, wanted=1)

    assert found == (
        written["id"],
        written["recorded_at"],
        written["data"],
        written["tag"],
    )
    assert isinstance(found[0], uuid.UUID)
    assert found[1].utcoffset() == timedelta(0)
    # The ORM reads exactly what the driver statement wrote.
    entry = session.scalar(select(AuditEntry).where(AuditEntry.seq == 1))
    assert entry is not None
    assert (entry.id, entry.recorded_at, entry.data) == (
        written["id"],
        written["recorded_at"],
        written["data"],
    )
    assert BY_SEQ.first(session, wanted=2) is None


def test_literals_in_the_statement_and_missing_parameters(session: Session) -> None:
    INSERT.run(session, **_row(1))
    INSERT.run(session, **_row(2, tag="test:thing:kept"))

    assert RETAG_ONE_TAG.run(session, new_tag="test:thing:renamed") == 1
    assert BY_SEQ.first(session, wanted=1)[3] == "test:thing:renamed"  # type: ignore[index]
    assert BY_SEQ.first(session, wanted=2)[3] == "test:thing:kept"  # type: ignore[index]
    with pytest.raises(TypeError, match="new_tag"):
        RETAG_ONE_TAG.run(session)


def test_driver_errors_are_sqlalchemy_exceptions(engine: Engine) -> None:
    with db.transaction(engine) as session:
        INSERT.run(session, **_row(1))
    with pytest.raises(IntegrityError), db.transaction(engine) as session:
        INSERT.run(session, **_row(1, hash="f" * 64))  # The same sequence number.
    with db.session_factory(engine)() as session:
        assert BY_SEQ.first(session, wanted=1) is not None


def test_pending_orm_changes_are_flushed_first(session: Session) -> None:
    session.add(AuditEntry(**_row(7)))

    assert BY_SEQ.first(session, wanted=7) is not None


def test_each_transaction_of_a_session_gets_its_connection(engine: Engine) -> None:
    with db.session_factory(engine)() as session:
        INSERT.run(session, **_row(1))
        session.rollback()
        # The rolled-back transaction's row is gone, and the next transaction sees that.
        assert BY_SEQ.first(session, wanted=1) is None
        INSERT.run(session, **_row(2))
        session.commit()
        assert BY_SEQ.first(session, wanted=2) is not None
    with db.session_factory(engine)() as other:
        assert BY_SEQ.first(other, wanted=2) is not None
        assert BY_SEQ.first(other, wanted=1) is None


def test_a_driver_transaction_commits_when_its_block_ends(engine: Engine) -> None:
    written = _row(1)
    with driver_transaction(engine) as unit:
        assert INSERT.run(unit, **written) == 1
        assert INSERT.run(unit, **_row(2)) == 1
        # Its own writes are visible inside it, through the column types.
        assert BY_SEQ.first(unit, wanted=1) == (
            written["id"],
            written["recorded_at"],
            written["data"],
            written["tag"],
        )
    with db.transaction(engine) as session:
        assert BY_SEQ.first(session, wanted=1) is not None
        assert BY_SEQ.first(session, wanted=2) is not None


def test_a_driver_transaction_rolls_back_everything_when_its_block_raises(engine: Engine) -> None:
    def failing(error: type[Exception] | None) -> None:
        with driver_transaction(engine) as unit:
            INSERT.run(unit, **_row(1))
            INSERT.run(unit, **_row(2))
            if error is not None:
                raise error("half-way")
            INSERT.run(unit, **_row(2, hash="f" * 64))  # The same sequence number.

    with pytest.raises(RuntimeError, match="half-way"):
        failing(RuntimeError)
    with pytest.raises(IntegrityError):
        failing(None)
    with driver_transaction(engine) as unit:
        assert BY_SEQ.first(unit, wanted=1) is None
        assert BY_SEQ.first(unit, wanted=2) is None
    # The pooled connections were handed back usable, with no transaction left open.
    with db.transaction(engine) as session:
        INSERT.run(session, **_row(3))
    with driver_transaction(engine) as unit:
        assert BY_SEQ.first(unit, wanted=3) is not None
