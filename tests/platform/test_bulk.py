"""Bulk inserts (``COPY`` on PostgreSQL, ``executemany`` on SQLite) write what an ``INSERT``
would, inside the caller's transaction, and refuse a duplicate like an ``INSERT``; values
written in COPY's text format by ``copy_rows`` read back as they were sent."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
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


AWKWARD = "tab\there, new\nline, back\\slash, cr\r and 漢字"
ROW = (
    uuid.UUID(int=7),
    AWKWARD,
    None,
    True,
    12_345_678_901,
    datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=9))),
    date(2026, 4, 1),
    ["普通", "tab\tin a list"],
)


def test_values_are_escaped_for_the_text_format() -> None:
    assert bulk.encode_value(None) == "\\N"
    assert bulk.encode_value(AWKWARD) == ("tab\\there, new\\nline, back\\\\slash, cr\\r and 漢字")
    assert bulk.encode_value(False) == "f"
    assert bulk.encode_value(["a\tb"]) == '["a\\\\tb"]'
    with pytest.raises(ValueError, match="naive"):
        bulk.encode_value(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test.
    with pytest.raises(TypeError, match="float"):
        bulk.encode_value(1.5)


def test_copied_rows_read_back_as_sent(session: Session) -> None:
    connection = session.connection()
    if not bulk.is_postgresql(connection):
        pytest.skip("COPY is PostgreSQL's")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE copied (id uuid, note text, empty text, flag boolean,"
        " big bigint, at timestamptz, day date, items jsonb) ON COMMIT DROP"
    )
    columns = ("id", "note", "empty", "flag", "big", "at", "day", "items")
    assert bulk.copy_rows(connection, "copied", columns, [ROW, ROW]) == 2
    back = session.execute(text("SELECT * FROM copied")).all()
    assert len(back) == 2
    got = tuple(back[0])
    assert got[:5] == ROW[:5]
    assert got[5] == ROW[5]
    assert got[5].astimezone(UTC) == datetime(2026, 12, 7, 16, 2, 3, 456789, tzinfo=UTC)
    assert got[6:] == ROW[6:]


class _Topic(enum.StrEnum):
    BULK = "test.bulk"


def test_a_connection_will_do_and_values_are_converted_by_column(session: Session) -> None:
    # Given rows with an enum member, JSON null and an instant with an offset, written on the
    # session's connection (the seed's way, no flush),
    at = datetime(2026, 4, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    row = {**_event(0, at), "topic": _Topic.BULK, "payload": None}
    assert bulk.insert_rows(session.connection(), OutboxEvent.__table__, [row]) == 1
    session.commit()
    # then the row reads back by value, JSON null as None, the instant the same instant,
    event = session.get_one(OutboxEvent, row["id"])
    assert (event.topic, event.payload, event.created_at) == ("test.bulk", None, at)
    assert (event.status, event.attempts) == ("pending", 0)
    # and a naive instant is refused (by the column type on SQLite), with nothing written.
    naive = {**_event(1, datetime(2026, 4, 1)), "id": uuid.uuid4()}  # noqa: DTZ001
    with pytest.raises((ValueError, StatementError), match="naive"), session.begin_nested():
        bulk.insert_rows(session, OutboxEvent, [naive])
    assert session.get(OutboxEvent, naive["id"]) is None
