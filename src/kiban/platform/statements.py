"""Statements compiled once per dialect and sent to the database driver directly.

SQLAlchemy spends far more time on a statement than SQLite or PostgreSQL do on a short one:
building it, computing its cache key, coercing its parameters and, with the ORM, the unit of
work. On a path that runs thousands of times a second (a token exchange, a card sign-in)
that overhead is most of the request. A :class:`DriverStatement` holds a Core statement,
compiles it once for each dialect (engine), and then sends the compiled SQL on the session's
own connection, inside the session's transaction, through the DB-API cursor:

- parameters go through each bind's type, as SQLAlchemy would send them (UUIDs as the
  dialect stores them, aware instants, JSON);
- result values come back through each column's type (UUIDs, aware UTC instants, JSON);
- driver errors are raised as SQLAlchemy's own exceptions (``IntegrityError`` and so on);
- pending ORM changes of the session are flushed first, as autoflush would.

Identity-map objects the session already holds do not see what these statements change (as
with any Core ``UPDATE`` without ``synchronize_session``): use them where a path reads and
writes its rows through them alone. See docs/adr/0037-sign-in-at-speed.md.

A path whose every statement is a driver statement can also run without a session at all:
:func:`driver_transaction` is one transaction on a pooled connection's driver connection (no
ORM ``Session``, no Core ``Connection``), committed when the block ends and rolled back when
it raises. It has no ``after_commit`` hooks, so it suits paths that publish no events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

__all__ = ["DriverStatement", "DriverTransaction", "Executor", "driver_transaction"]

Builder = Callable[[Dialect], ClauseElement]
_Processor = Callable[[Any], Any]
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    # Each bind's name, its type's processor (or None) and its literal value (or _MISSING
    # when the caller must give it), in the order the SQL names them.
    binds: tuple[tuple[str, _Processor | None, Any], ...]
    # The result columns whose values need their type's processor: (index, processor).
    results: tuple[tuple[int, _Processor], ...]
    error: type[Exception]


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.escaped_bind_names or compiled.literal_execute_params:
        raise ValueError("a driver statement takes plain bind names and no expanding binds")
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    binds = []
    for name in names:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        # A bind that is not required holds a literal written into the statement
        # (``status == "pending"``).
        binds.append((name, process, _MISSING if bind.required else bind.effective_value))
    results = []
    for index, column in enumerate(getattr(statement, "exported_columns", ())):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    return _Compiled(
        sql=str(compiled),
        positional=bool(compiled.positional),
        binds=tuple(binds),
        results=tuple(results),
        error=dialect.loaded_dbapi.Error,
    )


def _parameters(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
    values = []
    for name, process, literal in compiled.binds:
        value = params.get(name, literal)
        if value is _MISSING:
            raise TypeError(f"no value for the statement's parameter {name!r}")
        values.append(value if process is None else process(value))
    if compiled.positional:
        return values
    return {name: value for (name, _, _), value in zip(compiled.binds, values, strict=True)}


_CONNECTION_KEY = "kiban.statements.connection"
_COMPILED = "_kiban_driver_statements"
_lock = threading.Lock()


def _connection(session: Session) -> tuple[Dialect, Any]:
    """The dialect and DB-API connection of the session's transaction (begun if need be).

    ``Session.connection()`` costs more than a short statement on SQLite, so its answer is
    kept in the session's ``info`` for as long as the same root transaction is active: a
    session transaction keeps one connection per bind until it ends, and a new transaction
    (after a commit or a rollback) asks again.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_CONNECTION_KEY)
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and transaction.is_active
    ):
        return cached[1], cached[2]
    connection = session.connection()
    found = (connection.dialect, connection.connection.driver_connection)
    session.info[_CONNECTION_KEY] = (session.get_transaction(), *found)
    return found


class DriverTransaction:
    """One database transaction on a driver connection, without an ORM ``Session``: what
    :func:`driver_transaction` hands its block. Driver statements take it where they take a
    session."""

    __slots__ = ("dialect", "driver_connection")

    def __init__(self, dialect: Dialect, driver_connection: Any) -> None:
        self.dialect = dialect
        self.driver_connection = driver_connection


Executor = Session | DriverTransaction


def _wrapped(dialect: Dialect, what: str, error: Exception) -> Exception:
    dbapi_error = dialect.loaded_dbapi.Error
    return DBAPIError.instance(what, None, error, dbapi_error, dialect=dialect)


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[DriverTransaction]:
    """A unit of work for paths made of driver statements alone: one transaction on a pooled
    connection, committed when the block ends and rolled back on any exception (the
    exception is raised again). An ORM ``Session`` costs more than such a path's statements
    on SQLite (ADR 0037).

    On SQLite the transaction begins ``IMMEDIATE``, as every kiban transaction does
    (:mod:`kiban.platform.db`); on PostgreSQL the driver begins it with the first statement.
    A failed commit is raised as SQLAlchemy's exception, as ``Session.commit`` raises it.
    """
    dialect = engine.dialect
    pooled = engine.raw_connection()
    driver: Any = pooled.driver_connection
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    try:
        if dialect.name == "sqlite":
            try:
                driver.execute("BEGIN IMMEDIATE")
            except dbapi_error as error:
                raise _wrapped(dialect, "BEGIN IMMEDIATE", error) from error
        try:
            yield DriverTransaction(dialect, driver)
        except BaseException:
            try:
                driver.rollback()
            except dbapi_error:
                # The connection is broken: the pool must not hand it out again.
                pooled.invalidate()
            raise
        try:
            driver.commit()
        except dbapi_error as error:
            try:
                driver.rollback()
            except dbapi_error:
                pooled.invalidate()
            raise _wrapped(dialect, "COMMIT", error) from error
    finally:
        pooled.close()


class DriverStatement:
    """A Core statement (or a builder taking the dialect, for dialect-specific statements
    such as ``INSERT … ON CONFLICT``), compiled once per dialect and run through the DB-API
    cursor of a session's connection."""

    __slots__ = ("_build",)

    def __init__(self, statement: ClauseElement | Builder) -> None:
        self._build: Builder = (
            statement if not isinstance(statement, ClauseElement) else (lambda _: statement)
        )

    def _for(self, dialect: Dialect) -> _Compiled:
        # The compiled forms live on the dialect (one per engine), so they go when its engine
        # goes, and a lookup is one attribute and one dict access.
        compiled: dict[DriverStatement, _Compiled] | None = getattr(dialect, _COMPILED, None)
        if compiled is None:
            with _lock:
                compiled = getattr(dialect, _COMPILED, None)
                if compiled is None:
                    compiled = {}
                    setattr(dialect, _COMPILED, compiled)
        found = compiled.get(self)
        if found is None:
            with _lock:
                found = compiled.get(self)
                if found is None:
                    found = compiled[self] = _compile(self._build(dialect), dialect)
        return found

    def _execute(self, session: Executor, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        if type(session) is DriverTransaction:
            dialect, driver_connection = session.dialect, session.driver_connection
        else:
            assert isinstance(session, Session)  # noqa: S101 - narrows the union for mypy.
            if session.autoflush:
                session.flush()
            dialect, driver_connection = _connection(session)
        compiled = self._for(dialect)
        sent = _parameters(compiled, params)
        cursor = driver_connection.cursor()
        try:
            cursor.execute(compiled.sql, sent)
        except compiled.error as error:
            cursor.close()
            raise DBAPIError.instance(
                compiled.sql, sent, error, compiled.error, dialect=dialect
            ) from error
        return cursor, compiled

    def rows(self, session: Executor, **params: Any) -> list[tuple[Any, ...]]:
        """Every row the statement returns, each value through its column's type."""
        cursor, compiled = self._execute(session, params)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.results:
            return [tuple(row) for row in fetched]
        converted = []
        for row in fetched:
            values = list(row)
            for index, process in compiled.results:
                values[index] = process(values[index])
            converted.append(tuple(values))
        return converted

    def first(self, session: Executor, **params: Any) -> tuple[Any, ...] | None:
        """The first row, or None."""
        found = self.rows(session, **params)
        return found[0] if found else None

    def run(self, session: Executor, **params: Any) -> int:
        """Run an INSERT, UPDATE or DELETE; returns how many rows it matched."""
        cursor, _compiled = self._execute(session, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
