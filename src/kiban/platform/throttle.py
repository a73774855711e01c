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

**Where the counts live: in memory, per process.** A failed guess ends its request with an error,
and the request's transaction is rolled back, so counting in the database would need a second
transaction beside the request's; on SQLite (one writer at a time) that second transaction
would wait for the first, which waits for it. Counting in memory also costs a flood of guesses
no database write. The price: with N worker processes behind a load balancer a guesser gets
up to N times the budget before every worker has locked them out, and a restart forgets the
counts. That is still thousands of times slower than unthrottled guessing against secrets of
≥ 128 bits; a deployment that wants one count across workers implements the same four methods
on a shared store. The lockout audit entries are queued and written after the response, in a
transaction of their own (:class:`LockoutAuditMiddleware`, or :func:`record_lockouts`).

Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips`` so
that the client address is the caller's, not the proxy's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit
from kiban.platform.db import transaction

__all__ = [
    "BEARER_TOKENS",
    "CLIENT_AUTHENTICATION",
    "LOCKOUT_TAG",
    "LockoutAuditMiddleware",
    "Throttle",
    "TooManyAttempts",
    "flush_lockouts",
    "record_lockouts",
    "reset_all",
    "source_key",
]

logger = logging.getLogger(__name__)

LOCKOUT_TAG: Final = "platform:throttle:lockout"
SYSTEM_ACTOR: Final = "system:throttle"


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


@dataclass
class _Key:
    failures: list[float] = field(default_factory=list)  # Monotonic instants within the window.
    lockouts: int = 0  # Consecutive lockouts: the next one lasts base * 2**lockouts.
    locked_until: float = 0.0
    last_failure: float = 0.0


_pending: list[audit.Entry] = []
_pending_lock = threading.Lock()
_throttles: list[Throttle] = []


class Throttle:
    """Failed attempts per key: ``limit`` failures within ``window`` seconds lock the key for
    ``lockout`` seconds, doubling with each further lockout up to ``max_lockout``. A key that
    has not failed for ``max_lockout`` seconds starts again from nothing."""

    def __init__(
        self,
        name: str,
        *,
        limit: int = 10,
        window: float = 15 * 60,
        lockout: float = 60,
        max_lockout: float = 60 * 60,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window <= 0 or lockout <= 0 or max_lockout < lockout:
            raise ValueError("invalid throttle limits")
        self.name = name
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Key] = OrderedDict()
        self._lock = threading.Lock()
        _throttles.append(self)

    def _state(self, key: str, now: float) -> _Key:
        state = self._keys.get(key)
        if state is not None and now - state.last_failure > self.max_lockout:
            state = None  # Quiet for long enough: forgiven.
        if state is None:
            state = self._keys[key] = _Key()
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)  # The least recently failed key.
        return state

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0 when it is not locked)."""
        now = time.monotonic()
        with self._lock:
            state = self._keys.get(key)
            if state is None or state.locked_until <= now:
                return 0
            return max(1, math.ceil(state.locked_until - now))

    def check(self, key: str) -> None:
        """Refuse (:class:`TooManyAttempts`) while ``key`` is locked out. Call it before
        comparing the secret."""
        wait = self.retry_after(key)
        if wait:
            raise TooManyAttempts(wait)

    def failure(self, key: str) -> None:
        """Count a failed attempt of ``key``; the ``limit``-th within the window locks it out
        (and queues the lockout's audit entry)."""
        now = time.monotonic()
        with self._lock:
            state = self._state(key, now)
            self._keys.move_to_end(key)
            state.last_failure = now
            state.failures = [at for at in state.failures if now - at < self.window]
            state.failures.append(now)
            if len(state.failures) < self.limit:
                return
            seconds = min(self.max_lockout, self.lockout * 2**state.lockouts)
            state.lockouts += 1
            state.locked_until = now + seconds
            failures = len(state.failures)
            state.failures = []
        with _pending_lock:
            _pending.append(
                audit.Entry(
                    tag=LOCKOUT_TAG,
                    actor=SYSTEM_ACTOR,
                    subject=f"{self.name}:{key}"[:200],
                    data={
                        "throttle": self.name,
                        "key": key,
                        "failures": failures,
                        "lockout_seconds": int(seconds),
                        "lockouts_in_a_row": state.lockouts,
                    },
                    recorded_at=clock.now(),
                )
            )

    def success(self, key: str) -> None:
        """The right secret from ``key``: forget its failures."""
        with self._lock:
            self._keys.pop(key, None)

    def reset(self) -> None:
        """Forget every key (tests)."""
        with self._lock:
            self._keys.clear()


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
    """Forget every count of every throttle and drop queued audit entries (tests)."""
    for throttle in _throttles:
        throttle.reset()
    with _pending_lock:
        _pending.clear()


def _take() -> list[audit.Entry]:
    with _pending_lock:
        entries = list(_pending)
        _pending.clear()
    return entries


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
    """Write the queued lockout entries in a transaction of their own; returns how many."""
    entries = _take()
    if not entries:
        return 0
    try:
        with transaction() as session:
            _write(session, entries)
    except BaseException:
        _requeue(entries)
        raise
    return len(entries)


class LockoutAuditMiddleware:
    """Writes the lockouts a request caused to the audit log once its response is sent (the
    request's own transaction has ended by then, whether it committed or not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and _pending:
                try:
                    await run_in_threadpool(flush_lockouts)
                except Exception:  # The entries stay queued for the next response.
                    logger.exception("could not record throttle lockouts")
