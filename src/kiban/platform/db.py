"""Database plumbing: the declarative base, portable column types, engines and sessions.

Conventions (CONVENTIONS.md §8): UUID keys generated in Python, timezone-aware UTC instants,
JSON that becomes JSONB on PostgreSQL, an explicit constraint naming convention, tables named
``<block>_<plural>``. SQLite runs in WAL mode with foreign keys on, and every transaction
begins IMMEDIATE so that writers queue instead of failing half-way; the WAL is checkpointed by
a thread of the engine's own rather than by whichever commit crosses SQLite's threshold.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from kiban.kernel import clock
from kiban.platform.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PortableJSON = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every backend (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: kiban stores aware UTC instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every kiban table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute.
        dict[str, Any]: PortableJSON,
        list[Any]: PortableJSON,
        datetime: UtcDateTime(),
    }


class IdMixin:
    """A UUID primary key generated in Python."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    """Aware ``created_at`` and ``updated_at``."""

    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with kiban's connection settings applied."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


# SQLite checkpoints the WAL (copies its pages into the database file and syncs it) inside the
# commit that takes the WAL past 1,000 pages: every few hundred transactions one waits several
# milliseconds for it. As SQLite's documentation suggests for busy writers, a file database's
# engine runs the checkpoints in a thread of its own instead, every CHECKPOINT_SECONDS;
# connections still checkpoint themselves should the WAL reach BACKSTOP_PAGES (the thread
# stopped or far behind).
CHECKPOINT_SECONDS = 1.0
BACKSTOP_PAGES = 10_000

_log = logging.getLogger(__name__)


class _Checkpointer:
    """A daemon thread running passive WAL checkpoints of one database file. Passive
    checkpoints never wait for readers or writers: they copy what they can."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="kiban-wal-checkpoint", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # pragma: no cover - a disk error; commits see it too.
                    _log.warning("WAL checkpoint of %s failed: %s", self._path, exc)
        finally:
            connection.close()


def _checkpointed(engine: Engine) -> bool:
    """Give a file database's engine its checkpoint thread (from its first connection until it
    is disposed or dropped). False for in-memory and URI databases, which keep SQLite's own."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("uri"):
        return False
    lock = threading.Lock()
    running: list[_Checkpointer] = []

    def start(*_: Any) -> None:
        with lock:
            if not running:
                running.append(_Checkpointer(database))
                weakref.finalize(engine, running[0].stop)

    def stop(*_: Any) -> None:
        with lock:
            if running:
                running.pop().stop()

    event.listen(engine, "connect", start)
    event.listen(engine, "engine_disposed", stop)
    return True


def _configure_sqlite(engine: Engine) -> None:
    checkpoint_pages = BACKSTOP_PAGES if _checkpointed(engine) else 1000

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see the begin hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: every transaction runs this, and SQLAlchemy's execution of
        # a statement costs many times SQLite's BEGIN.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """One shared engine per URL in this process."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every shared engine's pool (at shutdown, and between tests)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def get_engine() -> Engine:
    """The engine of the configured database."""
    return engine_for(get_settings().effective_database_url)


_FACTORY_ATTRIBUTE = "_kiban_session_factory"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session maker of ``engine``, one per engine: each ``sessionmaker`` is a new Session
    subclass, and SQLAlchemy sets up event dispatch for every new class, which costs more than
    a short transaction. It is kept on the engine itself, so that it goes when the engine goes
    (a cache beside the engine would keep it alive through the maker's ``bind``)."""
    factory: sessionmaker[Session] | None = getattr(engine, _FACTORY_ATTRIBUTE, None)
    if factory is None:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        setattr(engine, _FACTORY_ATTRIBUTE, factory)
    return factory


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commits when the block ends, rolls back on any exception.

    Services never commit (CONVENTIONS.md §2); request and job boundaries use this.
    """
    session = session_factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
