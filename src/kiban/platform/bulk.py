"""Writing many rows at once, in the caller's transaction: PostgreSQL's ``COPY … FROM STDIN``
where the database is PostgreSQL, a chunked ``executemany`` elsewhere (SQLite). The one module
for bulk writes (ADR 0039, 0040, 0041): the national run, enrolment, the mesh and the seed.

A bulk path writes thousands of rows per statement. As ``INSERT`` statements, even batched, the
driver and SQLAlchemy spend far more per row than the database does (the driver parses a
statement with thousands of parameters; its ``write_row`` adapts each value on its own); here
the rows are formatted in COPY's text format by a few string operations per value and sent in
large pieces, on the driver connection under SQLAlchemy's connection, so they are part of the
transaction (and savepoint) SQLAlchemy began and commit or roll back with everything else.

- :func:`insert_rows` takes the rows a Core insert would take (mappings of column name to value,
  every row with the same keys) and a Session or a Connection. Columns left out get their
  Python-side default (as ``executemany`` would give them) or the server's. Values are converted
  as the table's types would convert them: JSON columns (``None`` as JSON ``null``, as
  SQLAlchemy's ``JSON`` does), enums by value, and instants must be aware. A unique or foreign
  key violation is raised as SQLAlchemy's ``IntegrityError``, like an ``INSERT``'s.
- :func:`copy_rows` and :func:`copy_lines` take tuples (or ready lines) in a given column order,
  for callers that build their own rows. Their values are those :func:`encode_value` takes:
  ``None``, ``str``, ``bool``, ``int``, ``uuid.UUID``, aware ``datetime`` (sent with its offset,
  for ``timestamptz``), ``date``, and lists or dicts for JSON columns (sent as JSON text).
  Anything else is refused.
"""

from __future__ import annotations

import enum
import functools
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

__all__ = [
    "CHUNK",
    "among",
    "copy_lines",
    "copy_rows",
    "encode_value",
    "escape",
    "insert_rows",
    "is_postgresql",
]

CHUNK: Final = 5_000
"""Rows per ``executemany`` on a database without ``COPY``."""
_SEND: Final = 1 << 20
"""Characters sent to the server per write."""
_SPECIAL: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL: Final = "\\N"
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def is_postgresql(connection: Connection) -> bool:
    """Whether the connection's database is PostgreSQL (the only one with ``COPY``)."""
    return connection.dialect.name == "postgresql"


def among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)``, written for a long list: on PostgreSQL one array parameter
    (``column = ANY(:values)``), so the driver neither renders nor parses a placeholder per
    value; elsewhere the usual ``IN`` (keep lists under SQLite's variable limit)."""
    result: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        result = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:
        result = column.in_(values)
    return result


# --- COPY's text format ----------------------------------------------------------------------


def escape(value: str) -> str:
    """Text in COPY's text format (backslash, tab and line ends escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_SPECIAL)
    return value


def encode_value(value: Any) -> str:  # noqa: PLR0911 - one return per type is clearest.
    """One value in COPY's text format."""
    kind = type(value)
    if value is None:
        return _NULL
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
                if size >= _SEND:
                    copy.write("".join(chunk).encode())
                    chunk, size = [], 0
            if chunk:
                copy.write("".join(chunk).encode())
    finally:
        cursor.close()
    return sent


# --- Rows as mappings, converted by the table's column types ---------------------------------
#
# The COPY step of :func:`insert_rows` hands each row to the driver's ``write_row``, whose
# compiled dumpers format and escape a value faster than the Python text encoding above does
# (measured: 200,000 rows of the persons shape, ADR 0040); only the columns whose values need a
# conversion first (JSON, enums, instants) pay a Python call per value.


def _table(target: Any) -> Table:
    table = getattr(target, "__table__", target)
    if not isinstance(table, Table):
        raise TypeError(f"not a table or mapped class: {target!r}")
    return table


def _json_text(value: Any) -> str:
    return _json(value)  # None as JSON null, as SQLAlchemy's JSON does; JSONB parses the text.


def _enum(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _instant(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime: kiban stores aware UTC instants only")
        return value.astimezone(UTC)
    return value


def _converter(table: Table, name: str) -> Callable[[Any], Any] | None:
    """What a column's values go through before the driver dumps them; ``None`` for as-is."""
    kind: Any = table.columns[name].type
    if isinstance(kind, TypeDecorator):  # Such as UtcDateTime: convert as its stored type.
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return _json_text
    python: Any
    try:
        python = kind.python_type
    except NotImplementedError:
        return _enum
    if python is datetime:
        return _instant
    if isinstance(python, type) and issubclass(python, enum.Enum):
        # A str enum's members are already their values to the driver (``str`` comes first in
        # their classes' order): only other enums need converting.
        return None if issubclass(python, str) else _enum
    return None


def _defaults(table: Table, given: set[str]) -> list[tuple[str, Callable[[], Any]]]:
    """The columns ``given`` leaves out that have a Python-side default, with a function that
    gives the default for one row (called per row, as ``executemany`` would)."""
    out: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default: Any = column.default
        if column.name in given or default is None:
            continue
        if default.is_callable:
            out.append((column.name, functools.partial(default.arg, None)))
        elif default.is_scalar:
            out.append((column.name, functools.partial(lambda value: value, default.arg)))
    return out


def insert_rows(into: Session | Connection, target: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` into ``target`` (a mapped class or a table) in the transaction of
    ``into`` (a session, flushed first, or a connection; never commits); how many. ``COPY`` on
    PostgreSQL, ``executemany`` by :data:`CHUNK` elsewhere."""
    if not rows:
        return 0
    table = _table(target)
    connection = into.connection() if isinstance(into, Session) else into
    if not is_postgresql(connection):
        for first in range(0, len(rows), CHUNK):
            into.execute(insert(table), list(rows[first : first + CHUNK]))
        return len(rows)
    if isinstance(into, Session):
        into.flush()  # Pending ORM rows first: the copied ones may refer to them.
    _copy(connection, table, rows)
    return len(rows)


def _copy(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    import psycopg  # noqa: PLC0415 - only PostgreSQL needs it.
    from psycopg import sql  # noqa: PLC0415

    given = list(rows[0])
    defaults = _defaults(table, set(given))
    names = given + [name for name, _ in defaults]
    convert = [(i, c) for i, name in enumerate(given) if (c := _converter(table, name))]
    fill = [(_converter(table, name) or _same, make) for name, make in defaults]
    values = itemgetter(*given)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):  # pragma: no cover - the dialect said so.
        raise TypeError("COPY needs the psycopg driver")
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                out = list(values(row)) if len(given) > 1 else [values(row)]
                for i, c in convert:
                    out[i] = c(out[i])
                if fill:
                    out += [c(make()) for c, make in fill]
                write(out)
    except psycopg.IntegrityError as error:
        raise IntegrityError(str(statement.as_string(driver)), None, error) from error


def _same(value: Any) -> Any:
    return value
