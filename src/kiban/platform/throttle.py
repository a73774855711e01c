"""Throttling of guesses: after too many failed attempts from one key (a client address, an
account), further attempts are refused for a while, and each lockout is twice as long as the
one before (back-off). Every lockout is recorded in the audit log (``platform:throttle:lockout``).

Usage, around any check of a secret a caller presents::

    key = throttle.source_key(request)          # or f"account:{login_name}", ...
    throttle.BEARER_TOKENS.check(key)           # raises TooManyAttempts (429) while locked
    if not token_is_right:
        throttle.BEARER_TOKENS.failure(key)
        raise Unauthorized(...)
    throttle.BEARER_TOKENS.success(key)         # only where success proves ownership of the key

Call :meth:`Throttle.success` only where a success proves the caller owns the key (an account's
own password for an account's key). Keys of client addresses are left to age out instead: a
guesser may hold one valid credential of their own and would otherwise reset their count with
it between guesses.

While a key is locked, :meth:`Throttle.check` refuses *before* the secret is compared, so even
the right secret is refused until the lockout ends: guessing at full speed gains nothing.

**Where the counts live: in the database, shared by the cluster** (``platform_throttle``, one
row per throttle and key), so that every ``kiban serve`` process behind a load balancer counts
against one budget and a restart forgets nothing. Each check is one ``SELECT`` of the key's
row; each failure is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on
SQLite and PostgreSQL alike) that counts it and restarts a window that has run out, plus one
``UPDATE`` when it locks the key out. Rows of keys quiet for longer than their throttle
forgives are pruned now and then.

A failed guess ends its request with an error and its transaction is rolled back, so a failure
cannot be written in the request's transaction; and on SQLite (one writer at a time) a second
transaction beside the request's would wait for the first, which waits for it. So inside a
request (:class:`LockoutAuditMiddleware` marks it) failures and successes are queued and
written, with the lockouts' audit entries, in a transaction of their own once the response is
sent; outside a request (the CLI, a job) they are written at once. Checks read outside any
transaction (SQLite in WAL mode lets a reader past a writer), so they never wait for the
request's own. A burst of parallel guesses may thus slip a few past the limit before the first
of them is written; sequential guessing is counted exactly.

Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips`` so
that the client address is the caller's, not the proxy's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, case, create_engine, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit
from kiban.platform.db import get_engine, transaction
from kiban.platform.models import ThrottleCount
from kiban.platform.settings import get_settings

__all__ = [
    "BEARER_TOKENS",
    "CLIENT_AUTHENTICATION",
    "LOCKOUT_TAG",
    "LockoutAuditMiddleware",
    "Throttle",
    "TooManyAttempts",
    "flush_lockouts",
    "prune",
    "record_lockouts",
    "reset_all",
    "source_key",
]

logger = logging.getLogger(__name__)

LOCKOUT_TAG: Final = "platform:throttle:lockout"
SYSTEM_ACTOR: Final = "system:throttle"
FORGIVE_AFTER: Final = 60 * 60.0  # The default max_lockout: quiet keys are pruned after it.
_NAME_LENGTH: Final = 40
_KEY_LENGTH: Final = 200


class TooManyAttempts(KibanError):
    """Too many failed attempts from this caller: 429 with ``Retry-After`` (seconds)."""

    code = "kiban.too_many_attempts"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"失敗が続いたため、しばらく受け付けません。{retry_after}秒後にもう一度お試しください。",
            f"Too many failed attempts. Please try again in {retry_after} seconds.",
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class _Op:
    throttle: Throttle
    key: str
    failed: bool  # A failure to count, or a success that forgets the key.


_pending: list[audit.Entry] = []
_pending_ops: list[_Op] = []
_pending_lock = threading.Lock()
_in_request: ContextVar[bool] = ContextVar("kiban_throttle_in_request", default=False)
_PRUNE_EVERY: Final = 60.0  # Seconds between prunings of quiet keys, per process.
_last_prune = [0.0]


class Throttle:
    """Failed attempts per key: ``limit`` failures within ``window`` seconds lock the key for
    ``lockout`` seconds, doubling with each further lockout up to ``max_lockout``. A key that
    has not failed for ``max_lockout`` seconds starts again from nothing. The counts live in
    the database (``platform_throttle``), keyed by ``name``: throttles of one name in several
    processes share them."""

    def __init__(
        self,
        name: str,
        *,
        limit: int = 10,
        window: float = 15 * 60,
        lockout: float = 60,
        max_lockout: float = 60 * 60,
    ) -> None:
        if limit < 1 or window <= 0 or lockout <= 0 or max_lockout < lockout:
            raise ValueError("invalid throttle limits")
        if len(name) > _NAME_LENGTH:
            raise ValueError("throttle name too long")
        self.name = name
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        _known[name] = self

    def _key(self, key: str) -> str:
        return key[:_KEY_LENGTH]

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0 when it is not locked): one ``SELECT``."""
        query = select(ThrottleCount.locked_until).where(
            ThrottleCount.throttle == self.name, ThrottleCount.key == self._key(key)
        )
        with _reader().connect() as connection:
            locked_until = connection.execute(query).scalar_one_or_none()
        if locked_until is None:
            return 0
        if locked_until.tzinfo is None:  # pragma: no cover - UtcDateTime returns aware values.
            locked_until = locked_until.replace(tzinfo=UTC)
        left = (locked_until - clock.now()).total_seconds()
        return max(1, math.ceil(left)) if left > 0 else 0

    def check(self, key: str) -> None:
        """Refuse (:class:`TooManyAttempts`) while ``key`` is locked out. Call it before
        comparing the secret."""
        wait = self.retry_after(key)
        if wait:
            raise TooManyAttempts(wait)

    def failure(self, key: str) -> None:
        """Count a failed attempt of ``key``; the ``limit``-th within the window locks it out
        (and records the lockout in the audit log). Queued inside a request (see the module)."""
        self._apply(_Op(self, key, failed=True))

    def success(self, key: str) -> None:
        """The right secret from ``key``: forget its failures."""
        self._apply(_Op(self, key, failed=False))

    def _apply(self, op: _Op) -> None:
        if _in_request.get():
            with _pending_lock:
                _pending_ops.append(op)
            return
        with transaction() as session:
            _write(session, _write_ops(session, [op]))

    def _count(self, session: Session, key: str, now: datetime) -> audit.Entry | None:
        """Count one failure (one upsert); lock the key out when it reaches the limit."""
        key = self._key(key)
        table = ThrottleCount.__table__
        stmt = _insert(session)(table).values(
            throttle=self.name,
            key=key,
            failures=1,
            window_started_at=now,
            lockouts=0,
            locked_until=None,
            last_failure_at=now,
        )
        forgiven = table.c.last_failure_at <= now - timedelta(seconds=self.max_lockout)
        restart = or_(forgiven, table.c.window_started_at <= now - timedelta(seconds=self.window))
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.throttle, table.c.key],
            set_={
                "failures": case((restart, 1), else_=table.c.failures + 1),
                "window_started_at": case((restart, now), else_=table.c.window_started_at),
                "lockouts": case((forgiven, 0), else_=table.c.lockouts),
                "last_failure_at": now,
            },
        ).returning(table.c.failures, table.c.lockouts)
        failures, lockouts = session.execute(stmt).one()
        if failures < self.limit:
            return None
        seconds = min(self.max_lockout, self.lockout * 2**lockouts)
        session.execute(
            update(ThrottleCount)
            .where(ThrottleCount.throttle == self.name, ThrottleCount.key == key)
            .values(
                failures=0,
                window_started_at=now,
                lockouts=lockouts + 1,
                locked_until=now + timedelta(seconds=seconds),
            )
            .execution_options(synchronize_session=False)
        )
        return audit.Entry(
            tag=LOCKOUT_TAG,
            actor=SYSTEM_ACTOR,
            subject=f"{self.name}:{key}"[:200],
            data={
                "throttle": self.name,
                "key": key,
                "failures": int(failures),
                "lockout_seconds": int(seconds),
                "lockouts_in_a_row": int(lockouts) + 1,
            },
            recorded_at=now,
        )

    def _forget(self, session: Session, key: str) -> None:
        session.execute(
            delete(ThrottleCount).where(
                ThrottleCount.throttle == self.name, ThrottleCount.key == self._key(key)
            )
        )

    def reset(self) -> None:
        """Forget every key of this throttle (tests)."""
        with transaction() as session:
            session.execute(delete(ThrottleCount).where(ThrottleCount.throttle == self.name))


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    # Settings refuse any other database when the process starts.
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _write_ops(session: Session, ops: list[_Op]) -> list[audit.Entry]:
    """Apply failures and successes in ``session``; returns the lockouts' audit entries."""
    now = clock.now()
    lockouts = []
    for op in ops:
        if not op.failed:
            op.throttle._forget(session, op.key)
            continue
        lockout = op.throttle._count(session, op.key, now)
        if lockout is not None:
            lockouts.append(lockout)
    if time.monotonic() - _last_prune[0] >= _PRUNE_EVERY:
        _last_prune[0] = time.monotonic()
        prune(session, now)
    return lockouts


def prune(session: Session, now: datetime | None = None) -> int:
    """Delete the rows of keys that are not locked and have been quiet for longer than any
    throttle forgives (an hour by default); returns how many."""
    now = now or clock.now()
    quiet = now - timedelta(seconds=max(FORGIVE_AFTER, _longest_forgiveness()))
    result = session.execute(
        delete(ThrottleCount)
        .where(
            ThrottleCount.last_failure_at < quiet,
            or_(ThrottleCount.locked_until.is_(None), ThrottleCount.locked_until < now),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


_known: dict[str, Throttle] = {}


def _longest_forgiveness() -> float:
    return max((t.max_lockout for t in _known.values()), default=FORGIVE_AFTER)


_readers: dict[str, Engine] = {}
_readers_lock = threading.Lock()


def _reader() -> Engine:
    """The engine checks read with, outside any transaction: on SQLite a plain engine whose
    ``SELECT`` takes no lock (kiban's own engines begin every transaction IMMEDIATE), else the
    configured engine."""
    url = get_settings().effective_database_url
    if not url.startswith("sqlite"):
        return get_engine()
    with _readers_lock:
        engine = _readers.get(url)
        if engine is None:
            engine = _readers[url] = create_engine(url, connect_args={"timeout": 30})
        return engine


BEARER_TOKENS: Final = Throttle("bearer-token")
"""Bearer tokens presented to the API (the operator token, My page and business access
tokens), keyed by the caller's address."""
CLIENT_AUTHENTICATION: Final = Throttle("oidc-client")
"""Client authentication at the OpenID provider's token endpoint, keyed by the caller's
address."""


def source_key(request: Request) -> str:
    """The throttling key of the caller's address."""
    return f"source:{request.client.host if request.client else 'unknown'}"


def reset_all() -> None:
    """Drop queued failures and audit entries, and close the readers' pools (tests: each test
    has a database of its own, which starts with no counts)."""
    with _pending_lock:
        _pending.clear()
        _pending_ops.clear()
    with _readers_lock:
        for engine in _readers.values():
            engine.dispose()
        _readers.clear()


def _take() -> list[audit.Entry]:
    with _pending_lock:
        entries = list(_pending)
        _pending.clear()
    return entries


def _take_ops() -> list[_Op]:
    with _pending_lock:
        ops = list(_pending_ops)
        _pending_ops.clear()
    return ops


def _requeue(entries: list[audit.Entry]) -> None:
    with _pending_lock:
        _pending[:0] = entries


def _write(session: Session, entries: list[audit.Entry]) -> None:
    for entry in entries:
        audit.record(
            session,
            tag=entry.tag,
            actor=entry.actor,
            subject=entry.subject,
            data=entry.data,
            recorded_at=entry.recorded_at,
        )


def record_lockouts(session: Session) -> int:
    """Append the queued lockout entries to the audit log in ``session`` (the caller commits;
    on failure the entries stay queued); returns how many."""
    entries = _take()
    try:
        _write(session, entries)
    except BaseException:
        _requeue(entries)
        raise
    return len(entries)


def flush_lockouts() -> int:
    """Write the queued failures and successes and the lockouts' audit entries in a
    transaction of their own; returns how many lockouts were recorded."""
    ops = _take_ops()
    entries: list[audit.Entry] = []
    if not ops and not _pending:
        return 0
    try:
        with transaction() as session:
            entries = _write_ops(session, ops) + _take()
            _write(session, entries)
    except BaseException:
        _requeue(entries)
        raise
    return len(entries)


class LockoutAuditMiddleware:
    """Marks a request, so that the failures it counts are queued, and writes them and the
    lockouts they cause once its response is sent (the request's own transaction has ended by
    then, whether it committed or not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        marker = _in_request.set(scope["type"] == "http")
        try:
            await self.app(scope, receive, send)
        finally:
            _in_request.reset(marker)
            if scope["type"] == "http" and (_pending or _pending_ops):
                try:
                    await run_in_threadpool(flush_lockouts)
                except Exception:  # The entries stay queued for the next response.
                    logger.exception("could not record throttle lockouts")
