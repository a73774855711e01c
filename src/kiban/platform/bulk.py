"""Writing many rows at once, in the caller's transaction: PostgreSQL's ``COPY`` where the
database is PostgreSQL, a chunked ``executemany`` elsewhere (SQLite).

A national run writes a few rows per resident (a determination, a notice and its two steps,
events, obligations and their postings): as ``INSERT`` statements, even batched, the driver and
SQLAlchemy spend far more per row than the database does; ``COPY FROM STDIN`` streams the rows
in the server's own input format. The rows go through the same session's connection, inside
its transaction (and savepoint), so they commit or roll back with everything else.

Every row is a mapping of column name to value with the same keys. Columns left out get their
Python-side default (as ``executemany`` would give them) or the server's. Values are converted
as the table's types would convert them: JSON columns (``None`` as JSON ``null``, as
SQLAlchemy's ``JSON`` does), enums by value, and instants must be aware. A unique or foreign key
violation is raised as SQLAlchemy's ``IntegrityError``, like an ``INSERT``'s.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ARRAY, JSON, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

__all__ = ["CHUNK", "among", "insert_rows"]

CHUNK: Final = 5_000
"""Rows per ``executemany`` on a database without ``COPY``."""


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


def _table(target: Any) -> Table:
    table = getattr(target, "__table__", target)
    if not isinstance(table, Table):
        raise TypeError(f"not a table or mapped class: {target!r}")
    return table


def _plain(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb  # noqa: PLC0415 - only PostgreSQL needs it.

    return Jsonb(value)


def _enum(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _instant(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: kiban stores aware UTC instants only")
        return value.astimezone(UTC)
    return value


def _converter(table: Table, name: str) -> Callable[[Any], Any]:
    kind = table.columns[name].type
    if isinstance(kind, JSON):
        return _json
    python: Any
    try:
        python = kind.python_type
    except NotImplementedError:
        return _enum
    if python is datetime:
        return _instant
    if isinstance(python, type) and issubclass(python, enum.Enum):
        return _enum
    return _plain


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


def insert_rows(session: Session, target: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` into ``target`` (a mapped class or a table) in the session's transaction;
    how many. ``COPY`` on PostgreSQL, ``executemany`` by :data:`CHUNK` elsewhere."""
    if not rows:
        return 0
    table = _table(target)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for first in range(0, len(rows), CHUNK):
            session.execute(insert(table), list(rows[first : first + CHUNK]))
        return len(rows)
    import psycopg  # noqa: PLC0415 - only PostgreSQL needs it.
    from psycopg import sql  # noqa: PLC0415

    session.flush()  # Pending ORM rows first: the copied ones may refer to them.
    given = list(rows[0])
    defaults = _defaults(table, set(given))
    names = given + [name for name, _ in defaults]
    convert = [(name, _converter(table, name)) for name in given]
    fill = [(_converter(table, name), make) for name, make in defaults]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)  # noqa: S101 - the dialect said so.
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [c(row[name]) for name, c in convert]
                if fill:
                    values += [c(make()) for c, make in fill]
                copy.write_row(values)
    except psycopg.IntegrityError as error:
        raise IntegrityError(str(statement.as_string(driver)), None, error) from error
    return len(rows)
