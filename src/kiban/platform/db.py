"""Database plumbing: the declarative base, portable column types, engines and sessions.

Conventions (CONVENTIONS.md §8): UUID keys generated in Python, timezone-aware UTC instants,
JSON that becomes JSONB on PostgreSQL, an explicit constraint naming convention, tables named
``<block>_<plural>``. SQLite runs in WAL mode with foreign keys on, and every transaction
begins IMMEDIATE so that writers queue instead of failing half-way.
"""

from __future__ import annotations

import threading
import uuid
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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see the begin hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
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
