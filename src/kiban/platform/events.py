"""The transactional outbox, the subscriber registry and the in-process dispatcher.

A service *emits* an event in its own transaction: the event is a row in
``platform_outbox_events`` that commits (or rolls back) with the change that caused it, so a
crash can never lose it or send it for a change that did not happen::

    events.emit(session, "resident.moved_in", {"person_id": str(person_id)}, key=str(person_id))

A higher block *subscribes* with a consumer name that is unique and stable (it is the
idempotency key, and the JetStream durable consumer's name)::

    @events.subscriber("resident.address_changed", consumer="identity.signing_cert_revocation")
    def on_change(session: Session, event: events.Event) -> None: ...

Handlers run in their own transaction. That transaction also inserts ``(consumer, event_id)``
into ``platform_consumed_events`` (unique), so if the event is delivered again the handler is
skipped: delivery is at-least-once, the effect exactly once. A handler that raises is rolled
back; the event is retried on later passes with exponential backoff and marked ``dead`` after
:data:`MAX_ATTEMPTS` (the row is kept for an operator; it is never deleted).

Two modes, chosen by ``KIBAN_EVENTS_URL``:

- empty (embedded): after a session that emitted events commits, the events are delivered in
  the same thread, in new sessions (SQLAlchemy ``after_commit``); :func:`deliver_pending` at
  start-up delivers whatever a crash left behind.
- ``nats://…``: :mod:`kiban.platform.nats_relay` publishes the outbox to JetStream and runs
  durable pull consumers with the same idempotency.

Payloads must never contain a My Number (ARCHITECTURE.md §1).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import kiban
from kiban.kernel import clock
from kiban.platform import bulk
from kiban.platform.db import session_factory
from kiban.platform.models import ConsumedEvent, DeliveryFailure, OutboxEvent
from kiban.platform.settings import get_settings

__all__ = [
    "MAX_ATTEMPTS",
    "Event",
    "Handler",
    "Subscription",
    "deliver",
    "deliver_pending",
    "emit",
    "emit_many",
    "load_subscribers",
    "matches",
    "run_handler",
    "status_counts",
    "subscriber",
    "subscriptions",
    "unsubscribe",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
"""Failed delivery passes after which an event (or a consumer's delivery) is marked dead."""

PENDING, DELIVERED, PUBLISHED, DEAD = "pending", "delivered", "published", "dead"

_TOPIC = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
_CONSUMER = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
_SESSION_KEY = "kiban.events.emitted"


@dataclass(frozen=True)
class Event:
    """An event as handlers see it."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    key: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: OutboxEvent) -> Event:
        return cls(row.id, row.topic, dict(row.payload), row.key, row.created_at)


Handler = Callable[[Session, Event], None]


@dataclass(frozen=True)
class Subscription:
    """A handler registered for a topic pattern under a unique consumer name."""

    pattern: str
    consumer: str
    handler: Handler

    def wants(self, topic: str) -> bool:
        return matches(self.pattern, topic)


_registry: dict[str, Subscription] = {}


def matches(pattern: str, topic: str) -> bool:
    """``*`` matches every topic, ``a.b.*`` every topic below ``a.b``, anything else itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return pattern == topic


def subscriber(pattern: str, *, consumer: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as ``consumer``'s handler for ``pattern``.

    Registering a consumer name again replaces its handler (so module reloads are harmless).
    """
    if not _PATTERN.match(pattern):
        raise ValueError(f"bad topic pattern {pattern!r}")
    if not _CONSUMER.match(consumer):
        raise ValueError(f"bad consumer name {consumer!r}")

    def register(handler: Handler) -> Handler:
        _registry[consumer] = Subscription(pattern, consumer, handler)
        return handler

    return register


def unsubscribe(consumer: str) -> None:
    """Remove ``consumer`` from the registry (tests, plugins being unloaded)."""
    _registry.pop(consumer, None)


def subscriptions() -> list[Subscription]:
    """Every registered subscription, in registration order."""
    return list(_registry.values())


def load_subscribers() -> None:
    """Import every ``subscribers`` module under kiban, so their handlers register.

    Blocks keep their ``@events.subscriber`` functions in ``<block>/subscribers.py``; the
    composition root (web app, CLI workers) calls this before delivering.
    """
    for info in pkgutil.walk_packages(kiban.__path__, prefix="kiban."):
        if info.name.rsplit(".", 1)[-1] == "subscribers":
            importlib.import_module(info.name)


# --- Emitting --------------------------------------------------------------------------------


def _check_topic(topic: str) -> None:
    if not _TOPIC.match(topic):
        raise ValueError(f"bad event topic {topic!r}: lower-case words separated by dots")


_instant_lock = threading.Lock()
_last_instant = datetime.min.replace(tzinfo=UTC)


def _next_instant() -> datetime:
    """Now, but strictly after the previous call in this process, so that events sort (and
    are delivered and relayed) in the order they were emitted."""
    global _last_instant  # noqa: PLW0603 - one process-wide monotonic clock.
    with _instant_lock:
        _last_instant = max(clock.now(), _last_instant + timedelta(microseconds=1))
        return _last_instant


def emit(
    session: Session, topic: str, payload: dict[str, Any], *, key: str | None = None
) -> uuid.UUID:
    """Write an event to the outbox in the caller's transaction; returns its id."""
    return emit_many(session, [(topic, payload, key)])[0]


def emit_many(
    session: Session, items: Iterable[tuple[str, dict[str, Any], str | None]]
) -> list[uuid.UUID]:
    """Write many events to the outbox in the caller's transaction (``COPY`` on PostgreSQL,
    one ``executemany`` elsewhere: :func:`kiban.platform.bulk.insert_rows`)."""
    ids: list[uuid.UUID] = []
    rows: list[dict[str, Any]] = []
    for topic, payload, key in items:
        _check_topic(topic)
        ids.append(uuid.uuid4())
        rows.append(
            {
                "id": ids[-1],
                "topic": topic,
                "key": key,
                "payload": payload,
                "created_at": _next_instant(),
                "status": PENDING,
                "attempts": 0,
            }
        )
    if rows:
        bulk.insert_rows(session, OutboxEvent, rows)
        session.info.setdefault(_SESSION_KEY, []).extend(ids)
    return ids


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint was released; the events belong to the outer transaction, which has
        # not committed yet (SQLAlchemy fires after_commit for savepoints too).
        return
    emitted: list[uuid.UUID] = session.info.pop(_SESSION_KEY, [])
    if not emitted or get_settings().events_url:
        return
    bind = session.get_bind()
    if isinstance(bind, Connection):
        # The session is joined to an outer transaction that has not committed yet; new
        # connections would not see the events. deliver_pending() picks them up later.
        return
    try:
        deliver(bind, emitted)
    except Exception:  # The caller's commit succeeded; a delivery failure must not undo it.
        log.exception("in-process delivery failed; deliver_pending() will retry")


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


# --- Delivering ------------------------------------------------------------------------------


def run_handler(engine: Engine, subscription: Subscription, event: Event) -> bool:
    """Run one handler on one event in its own transaction, exactly once.

    Returns ``False`` when the consumer had already handled the event (nothing was run).
    Raises whatever the handler raises, after rolling its transaction back.
    """
    with session_factory(engine)() as session:
        already = session.scalar(
            select(ConsumedEvent.id).where(
                ConsumedEvent.consumer == subscription.consumer,
                ConsumedEvent.event_id == event.id,
            )
        )
        if already is not None:
            session.rollback()
            return False
        try:
            session.add(ConsumedEvent(consumer=subscription.consumer, event_id=event.id))
            session.flush()
        except IntegrityError:
            # Someone else handled it between our check and our insert.
            session.rollback()
            return False
        try:
            subscription.handler(session, event)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return True


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failures: 1 s, 2 s, 4 s … capped at 10 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 600))


def _mark_delivered(engine: Engine, event_id: uuid.UUID) -> None:
    with session_factory(engine).begin() as session:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(status=DELIVERED, done_at=clock.now(), next_attempt_at=None)
        )


def _mark_failed(engine: Engine, event_id: uuid.UUID, error: str) -> None:
    with session_factory(engine).begin() as session:
        row = session.get(OutboxEvent, event_id, with_for_update=True)
        if row is None:  # pragma: no cover - rows are never deleted.
            return
        row.attempts += 1
        row.last_error = error[-4000:]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = DEAD
            row.done_at = clock.now()
            row.next_attempt_at = None
        else:
            row.next_attempt_at = clock.now() + backoff(row.attempts)


def _deliver_one(engine: Engine, event: Event) -> bool:
    """Offer ``event`` to every matching subscriber; ``True`` if all succeeded."""
    errors = []
    for subscription in subscriptions():
        if not subscription.wants(event.topic):
            continue
        try:
            run_handler(engine, subscription, event)
        except Exception:
            log.exception("consumer %s failed on event %s", subscription.consumer, event.id)
            errors.append(f"{subscription.consumer}: {traceback.format_exc(limit=5)}")
    if errors:
        _mark_failed(engine, event.id, "\n".join(errors))
        return False
    _mark_delivered(engine, event.id)
    return True


def deliver(engine: Engine, event_ids: Sequence[uuid.UUID]) -> int:
    """Deliver these events if they are still pending and due; returns how many succeeded."""
    if not event_ids:
        return 0
    now = clock.now()
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.id.in_(event_ids), OutboxEvent.status == PENDING)
            .order_by(OutboxEvent.created_at, OutboxEvent.id)
        ).all()
        due = [
            Event.from_row(r) for r in rows if r.next_attempt_at is None or r.next_attempt_at <= now
        ]
    return sum(_deliver_one(engine, e) for e in due)


def deliver_pending(engine: Engine, *, limit: int = 500) -> int:
    """Deliver every pending, due event to every subscriber, oldest first; returns how many
    were delivered. Run at start-up (events a crash left behind) and periodically (retries)."""
    delivered = 0
    seen: set[uuid.UUID] = set()
    while True:
        now = clock.now()
        with session_factory(engine)() as session:
            ids = [
                i
                for i in session.scalars(
                    select(OutboxEvent.id)
                    .where(
                        OutboxEvent.status == PENDING,
                        (OutboxEvent.next_attempt_at.is_(None))
                        | (OutboxEvent.next_attempt_at <= now),
                    )
                    .order_by(OutboxEvent.created_at, OutboxEvent.id)
                    .limit(limit + len(seen))
                )
                if i not in seen
            ][:limit]
        if not ids:
            return delivered
        seen.update(ids)
        delivered += deliver(engine, ids)


# --- Status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicStatus:
    """Counts per outbox status for one topic, plus dead consumer deliveries (JetStream)."""

    topic: str
    pending: int = 0
    delivered: int = 0
    published: int = 0
    dead: int = 0
    dead_consumer_deliveries: int = 0


def status_counts(session: Session) -> list[TopicStatus]:
    """Per topic: how many events are pending, delivered, published and dead."""
    counts: dict[str, dict[str, int]] = {}
    for topic, status, n in session.execute(
        select(OutboxEvent.topic, OutboxEvent.status, func.count()).group_by(
            OutboxEvent.topic, OutboxEvent.status
        )
    ):
        counts.setdefault(topic, {})[status] = int(n)
    for topic, n in session.execute(
        select(DeliveryFailure.topic, func.count())
        .where(DeliveryFailure.dead.is_(True))
        .group_by(DeliveryFailure.topic)
    ):
        counts.setdefault(topic, {})["dead_consumer_deliveries"] = int(n)
    return [
        TopicStatus(
            topic=topic,
            pending=c.get(PENDING, 0),
            delivered=c.get(DELIVERED, 0),
            published=c.get(PUBLISHED, 0),
            dead=c.get(DEAD, 0),
            dead_consumer_deliveries=c.get("dead_consumer_deliveries", 0),
        )
        for topic, c in sorted(counts.items())
    ]
