"""The gateway's own transactions beside the caller's: when it may use them, and a read-only
engine for its reads on SQLite."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from kiban.blocks.mesh.service import engine_of


def _idle(session: Session) -> bool:
    """Whether the session holds no connection: it has no uncommitted writes and, on SQLite,
    no lock, so the gateway may use transactions of its own beside it without waiting on it."""
    transaction = session.get_transaction()
    if transaction is None:
        return True
    # SessionTransaction keeps its connections in ``_connections``; should that ever change, the
    # gateway falls back to the caller's transaction, which is always correct.
    return not getattr(transaction, "_connections", True)


def _standalone(session: Session) -> bool:
    """Whether the exchange may run in transactions of its own: the caller's session is idle
    and the database is one another connection can reach (not an in-memory SQLite)."""
    if not _idle(session):
        return False
    engine = engine_of(session)
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def _end(own: Session) -> None:
    """Commit a session of the gateway's own if it did anything (an empty commit would begin and
    end a transaction, with its events, for nothing)."""
    if own.get_transaction() is not None:
        own.commit()


_read_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _read_engine(engine: Engine) -> Engine:
    """An engine for the gateway's reads beside ``engine``'s writers. On SQLite, kiban's
    engines begin every transaction IMMEDIATE (taking the write lock, so that writers queue);
    a read would then wait for the record writer's commit. This one's connections are
    read-only (``query_only``) and read in autocommit, which in WAL mode never waits for a
    writer. Elsewhere reads do not lock, and the engine itself serves."""
    if engine.dialect.name != "sqlite":
        return engine
    found = _read_engines.get(engine)
    if found is None:
        found = create_engine(engine.url, connect_args={"timeout": 30})

        @event.listens_for(found, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        found = _read_engines.setdefault(engine, found)
    return found
