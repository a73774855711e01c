"""Bulk inserts (``COPY`` on PostgreSQL, ``executemany`` on SQLite) write what an ``INSERT``
would, inside the caller's transaction, and refuse a duplicate like an ``INSERT``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.platform import bulk
from kiban.platform.models import OutboxEvent


def _event(n: int, created_at: datetime) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "topic": "test.bulk",
        "key": None if n % 2 else f"k{n}",
        "payload": {"n": n, "text": "特別定額給付金", "nested": [1, {"a": None}]},
        "created_at": created_at,
    }


def test_rows_are_written_with_json_instants_and_defaults(session: Session) -> None:
    # Given rows that leave out the columns with Python-side defaults (status, attempts),
    at = datetime(2026, 4, 1, 3, 4, 5, 678_000, tzinfo=UTC)
    rows = [_event(n, at) for n in range(2_500)]
    # when they are written in bulk and the transaction commits,
    assert bulk.insert_rows(session, OutboxEvent, rows) == 2_500
    session.commit()
    # then every row reads back as written, the defaults filled in.
    query = select(OutboxEvent).where(OutboxEvent.topic == "test.bulk")
    found = {event.id: event for event in session.scalars(query)}
    assert len(found) == 2_500
    for row in rows:
        event = found[row["id"]]  # type: ignore[index]
        assert (event.key, event.payload, event.created_at) == (
            row["key"],
            row["payload"],
            at,
        )
        assert (event.status, event.attempts) == ("pending", 0)


def test_a_duplicate_is_refused_like_an_insert_and_nothing_of_the_call_stays(
    session: Session,
) -> None:
    at = datetime(2026, 4, 1, tzinfo=UTC)
    first = _event(1, at)
    bulk.insert_rows(session, OutboxEvent, [first])
    # Given a second call whose rows repeat a key already written,
    again = [_event(2, at), first]
    # when it runs in a savepoint, it fails as an INSERT would,
    with pytest.raises(IntegrityError), session.begin_nested():
        bulk.insert_rows(session, OutboxEvent, again)
    # and the transaction goes on with none of that call's rows.
    session.commit()
    ids = set(session.scalars(select(OutboxEvent.id).where(OutboxEvent.topic == "test.bulk")))
    assert ids == {first["id"]}


def test_nothing_to_write_is_no_statement(session: Session) -> None:
    assert bulk.insert_rows(session, OutboxEvent, []) == 0


def test_among_finds_the_listed_rows_only(session: Session) -> None:
    at = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [_event(n, at) for n in range(20)]
    bulk.insert_rows(session, OutboxEvent, rows)
    wanted = [row["id"] for row in rows[::3]] + [uuid.uuid4()]
    found = set(
        session.scalars(select(OutboxEvent.id).where(bulk.among(session, OutboxEvent.id, wanted)))
    )
    assert found == {row["id"] for row in rows[::3]}
    keys = ["k0", "k2", "absent"]
    by_key = set(
        session.scalars(select(OutboxEvent.key).where(bulk.among(session, OutboxEvent.key, keys)))
    )
    assert by_key == {"k0", "k2"}
