"""PostgreSQL's ``COPY … FROM STDIN`` for bulk writes inside the caller's transaction.

Bulk paths (the access records of batch exchanges, agency codes, the agencies' rows at
enrolment) write thousands of rows per statement. SQLAlchemy's batched ``INSERT … VALUES``
makes the driver parse a statement with thousands of parameters, and the driver's
``write_row`` adapts each value on its own: both cost more than the server's work. Here the
rows are formatted in COPY's text format by a few string operations per value and sent in
large pieces, on the driver connection under SQLAlchemy's connection, so the rows are part of
the transaction SQLAlchemy began and commit or roll back with it.

Values are the Python values the Core insert would take: ``None``, ``str``, ``bool``,
``int``, ``uuid.UUID``, aware ``datetime`` (sent with its offset, for ``timestamptz``),
``date``, and lists or dicts for JSON columns (sent as JSON text). Anything else is refused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection

__all__ = ["copy_lines", "copy_rows", "encode_value", "escape", "is_postgresql"]

_CHUNK: Final = 1 << 20
"""Characters sent to the server per write."""
_SPECIAL: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def is_postgresql(connection: Connection) -> bool:
    """Whether the connection's database is PostgreSQL (the only one with ``COPY``)."""
    return connection.dialect.name == "postgresql"


def escape(value: str) -> str:
    """Text in COPY's text format (backslash, tab and line ends escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_SPECIAL)
    return value


def encode_value(value: Any) -> str:  # noqa: PLR0911 - one return per type is clearest.
    """One value in COPY's text format."""
    kind = type(value)
    if value is None:
        return "\\N"
    if kind is str:
        return escape(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is uuid.UUID:
        return str(value)
    if kind is datetime:
        if value.tzinfo is None:
            raise ValueError("naive datetime: kiban stores aware UTC instants only")
        return str(value.isoformat())
    if kind is date:
        return str(value.isoformat())
    if kind is list or kind is dict:
        return escape(_json(value))
    raise TypeError(f"COPY cannot send a {kind.__name__}")


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """``COPY table (columns) FROM STDIN`` with ``rows`` (tuples in the columns' order), in the
    connection's transaction; how many rows it sent."""
    encode = encode_value
    return copy_lines(
        connection,
        table,
        columns,
        ("\t".join([encode(value) for value in row]) + "\n" for row in rows),
    )


def copy_lines(
    connection: Connection, table: str, columns: Sequence[str], lines: Iterable[str]
) -> int:
    """:func:`copy_rows` for lines already in COPY's text format (each ending in a newline),
    for callers that have their values as text already; how many lines it sent."""
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - only a closed connection has none.
        raise RuntimeError("the connection is closed")
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    sent = 0
    cursor = driver.cursor()
    try:
        with cursor.copy(statement) as copy:
            chunk: list[str] = []
            size = 0
            for line in lines:
                chunk.append(line)
                size += len(line)
                sent += 1
                if size >= _CHUNK:
                    copy.write("".join(chunk).encode())
                    chunk, size = [], 0
            if chunk:
                copy.write("".join(chunk).encode())
    finally:
        cursor.close()
    return sent
