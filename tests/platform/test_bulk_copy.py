"""COPY's text format: values written by ``bulk_copy`` read back as they were sent."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from kiban.platform import bulk_copy

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
    assert bulk_copy.encode_value(None) == "\\N"
    assert bulk_copy.encode_value(AWKWARD) == (
        "tab\\there, new\\nline, back\\\\slash, cr\\r and 漢字"
    )
    assert bulk_copy.encode_value(False) == "f"
    assert bulk_copy.encode_value(["a\tb"]) == '["a\\\\tb"]'
    with pytest.raises(ValueError, match="naive"):
        bulk_copy.encode_value(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test.
    with pytest.raises(TypeError, match="float"):
        bulk_copy.encode_value(1.5)


def test_copied_rows_read_back_as_sent(session: Session) -> None:
    connection = session.connection()
    if not bulk_copy.is_postgresql(connection):
        pytest.skip("COPY is PostgreSQL's")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE copied (id uuid, note text, empty text, flag boolean,"
        " big bigint, at timestamptz, day date, items jsonb) ON COMMIT DROP"
    )
    columns = ("id", "note", "empty", "flag", "big", "at", "day", "items")
    assert bulk_copy.copy_rows(connection, "copied", columns, [ROW, ROW]) == 2
    back = session.execute(text("SELECT * FROM copied")).all()
    assert len(back) == 2
    got = tuple(back[0])
    assert got[:5] == ROW[:5]
    assert got[5] == ROW[5]
    assert got[5].astimezone(UTC) == datetime(2026, 12, 7, 16, 2, 3, 456789, tzinfo=UTC)
    assert got[6:] == ROW[6:]
