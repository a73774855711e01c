"""The replay guard shared by every gateway process: a unique insert before the provider is asked.

A signed request is taken once. Each process keeps the ids it took in memory
(:class:`~kiban.blocks.mesh.guards.ReplayGuard`), which refuses most replays without a
query, but processes share only the database. So before the provider is asked the gateway
inserts ``(client, message id)`` into ``mesh_message_ids``, whose primary key lets exactly one
insert of a pair succeed: of two processes racing the same message, the second one's insert
fails (on PostgreSQL it waits for the first's commit, then fails; on SQLite the write lock
orders them) and its request is refused as a replay.

The insert commits in a transaction of its own whenever it can, so that the claim holds even
if the caller's transaction later rolls back and is visible to every other process at once:
always on PostgreSQL, and on SQLite when the caller's session holds no connection (an HTTP
request). An in-process caller on SQLite in the middle of a transaction holds the database's
write lock, which a second connection would wait on for ever; there the insert runs in a
savepoint of the caller's transaction. No other process can write before that transaction
ends, so the claim still orders every process; it is undone only with the caller's own work,
the records of the exchange included.

Rows live until their request goes stale (``iat`` plus the maximum age); a stale request is
refused on its ``iat`` before its id is looked at, so older rows guard nothing. Every
:data:`PURGE_EVERY` claims a process deletes the expired rows in the claim's transaction.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks.mesh.models import MeshMessageId

PURGE_EVERY = 1024

_INSERT = insert(MeshMessageId)
_PURGE = delete(MeshMessageId)
_claims = itertools.count(1)
_claims_lock = threading.Lock()


def _purge_due() -> bool:
    with _claims_lock:
        return next(_claims) % PURGE_EVERY == 0


def claim_message(
    session: Session, engine: Engine, client: str, message_id: str, *, expires_at: float
) -> bool:
    """Insert the claim of ``client`` on ``message_id``; False when another request (in any
    process) holds it already. ``engine`` is the caller's; ``session`` is the caller's session,
    used only when the claim cannot have a transaction of its own (see the module)."""
    row = {
        "client": client,
        "message_id": message_id,
        "expires_at": datetime.fromtimestamp(expires_at, UTC),
    }
    purge = _purge_due()
    now = datetime.now(UTC)
    if engine.dialect.name == "sqlite" and not _may_begin_beside(session):
        try:
            with session.begin_nested():
                session.execute(_INSERT, row)
        except IntegrityError:
            return False
        if purge:
            session.execute(_PURGE.where(MeshMessageId.expires_at < now))
        return True
    try:
        with engine.begin() as connection:
            connection.execute(_INSERT, row)
            if purge:
                connection.execute(_PURGE.where(MeshMessageId.expires_at < now))
    except IntegrityError:
        return False
    return True


def _may_begin_beside(session: Session) -> bool:
    """Whether a second connection may write beside ``session`` on SQLite: the session holds no
    connection (so no lock) and its database is not an in-memory one that no second connection
    could reach."""
    engine = session.get_bind()
    url = engine.url if isinstance(engine, Engine) else engine.engine.url
    if url.database in (None, "", ":memory:"):
        return False
    transaction = session.get_transaction()
    if transaction is None:
        return True
    return not getattr(transaction, "_connections", True)


__all__ = ["PURGE_EVERY", "claim_message"]
