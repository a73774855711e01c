"""The scale-out event bus: the outbox relayed to NATS JetStream, and durable pull consumers.

- :func:`relay` publishes pending outbox rows to the stream (``settings.events_stream``, created
  or updated idempotently) on subject ``<prefix>.<topic>`` with header ``Nats-Msg-Id`` = the
  event id, so JetStream drops a re-publish after a crash; then it marks the rows
  ``published``.
- :func:`work` runs one durable pull consumer per registered subscription (durable name = the
  consumer name with dots as underscores). Each message is handled with
  :func:`kiban.platform.events.run_handler` — the same ``platform_consumed_events`` guard as
  in-process mode — and acknowledged only after the handler's transaction committed. A failing
  handler is retried with backoff (``nak``); after :data:`~kiban.platform.events.MAX_ATTEMPTS`
  deliveries the message is terminated and recorded as dead in
  ``platform_delivery_failures`` (the outbox row stays, so nothing is lost).

kiban's code is synchronous; these functions run their own event loop (``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import traceback
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import APIError, NotFoundError
from sqlalchemy import Engine, select, update

from kiban.kernel import clock
from kiban.platform import events
from kiban.platform.db import session_factory
from kiban.platform.models import DeliveryFailure, OutboxEvent
from kiban.platform.settings import get_settings

_T = TypeVar("_T")

__all__ = [
    "DEFAULT_PREFIX",
    "RelayOptions",
    "StreamConflict",
    "delete_stream",
    "durable_name",
    "relay",
    "work",
]

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "kiban"


@dataclass(frozen=True)
class RelayOptions:
    """Where events go. Defaults come from settings; tests use a unique stream and prefix."""

    url: str
    stream: str
    prefix: str = DEFAULT_PREFIX
    replicas: int = 1

    @classmethod
    def resolve(
        cls, url: str | None = None, stream: str | None = None, prefix: str | None = None
    ) -> RelayOptions:
        settings = get_settings()
        resolved = url or settings.events_url
        if not resolved.startswith("nats://"):
            raise ValueError("KIBAN_EVENTS_URL must be nats://host:port for the JetStream relay")
        name = stream or settings.events_stream
        return cls(
            resolved,
            name,
            prefix or settings.events_prefix or subject_prefix(name),
            settings.events_replicas,
        )

    @property
    def servers(self) -> list[str]:
        """The servers to connect to: one URL, or the members of a cluster separated by
        commas (the client fails over between them)."""
        return [part.strip() for part in self.url.split(",") if part.strip()]

    def subject(self, topic: str) -> str:
        return f"{self.prefix}.{topic}"

    def filter_subject(self, pattern: str) -> str:
        if pattern == "*":
            return f"{self.prefix}.>"
        if pattern.endswith(".*"):
            return f"{self.prefix}.{pattern[:-2]}.>"
        return self.subject(pattern)


def subject_prefix(stream: str) -> str:
    """The subject prefix of an installation whose stream is ``stream`` (``KIBAN`` → ``kiban``):
    two installations sharing one NATS server each get subjects of their own."""
    return re.sub(r"[^a-z0-9_-]", "_", stream.lower())


class StreamConflict(RuntimeError):
    """This installation's stream cannot be created or updated as configured (another
    stream on the server already takes its subjects, or the server refused the change)."""


def _subjects_overlap(a: str, b: str) -> bool:
    """Whether two NATS subject filters can match one subject (``*`` is one token, ``>`` the
    rest)."""
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        if ">" in (x, y):
            return True
        if "*" not in (x, y) and x != y:
            return False
    return len(left) == len(right)


def durable_name(consumer: str) -> str:
    """A JetStream durable name for a consumer (no dots, stars or spaces allowed there)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", consumer)


def _encode(row: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": str(row.id),
            "topic": row.topic,
            "key": row.key,
            "payload": row.payload,
            "created_at": row.created_at.isoformat(),
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _decode(data: bytes) -> events.Event:
    body: dict[str, Any] = json.loads(data)
    return events.Event(
        id=uuid.UUID(body["id"]),
        topic=body["topic"],
        payload=body["payload"],
        key=body["key"],
        created_at=datetime.fromisoformat(body["created_at"]),
    )


async def _ensure_stream(js: Any, options: RelayOptions) -> None:
    """Create or update this installation's stream, saying exactly what is wrong when the
    server refuses (JetStream itself answers a bare ``BadRequestError``)."""
    subjects = f"{options.prefix}.>"
    for info in await js.streams_info():
        other = info.config
        if other.name == options.stream:
            continue
        clash = [s for s in other.subjects or () if _subjects_overlap(s, subjects)]
        if clash:
            raise StreamConflict(
                f"stream {options.stream!r} would take subjects {subjects!r}, but stream "
                f"{other.name!r} on {options.url} already takes {', '.join(clash)}: give this "
                "installation a stream and subject prefix of its own (KIBAN_EVENTS_STREAM, "
                "KIBAN_EVENTS_PREFIX)"
            )
    config = StreamConfig(name=options.stream, subjects=[subjects], num_replicas=options.replicas)
    try:
        try:
            await js.stream_info(options.stream)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
    except APIError as exc:
        raise StreamConflict(
            f"NATS refused stream {options.stream!r} with subjects {subjects!r}: {exc.description}"
        ) from exc


# --- Relay -----------------------------------------------------------------------------------


def _mark_published(engine: Engine, ids: list[uuid.UUID]) -> None:
    with session_factory(engine).begin() as session:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), OutboxEvent.status == events.PENDING)
            .values(status=events.PUBLISHED, done_at=clock.now())
        )


async def _relay_pass(engine: Engine, js: Any, options: RelayOptions, batch: int) -> int:
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.status == events.PENDING)
            .order_by(OutboxEvent.created_at, OutboxEvent.id)
            .limit(batch)
        ).all()
    if not rows:
        return 0
    for row in rows:
        await js.publish(
            options.subject(row.topic), _encode(row), headers={"Nats-Msg-Id": str(row.id)}
        )
    _mark_published(engine, [row.id for row in rows])
    return len(rows)


async def _relay(
    engine: Engine, options: RelayOptions, *, once: bool, batch: int, poll: float
) -> int:
    nc = await nats.connect(options.servers)
    try:
        js = nc.jetstream()
        await _ensure_stream(js, options)
        total = 0
        while True:
            n = await _relay_pass(engine, js, options, batch)
            total += n
            if n == 0:
                if once:
                    return total
                await asyncio.sleep(poll)
    finally:
        await nc.close()


def relay(
    engine: Engine,
    *,
    url: str | None = None,
    stream: str | None = None,
    prefix: str | None = None,
    once: bool = False,
    batch: int = 500,
    poll: float = 1.0,
) -> int:
    """Publish pending outbox rows to JetStream; with ``once``, stop when none are left and
    return how many were published, else poll forever."""
    options = RelayOptions.resolve(url, stream, prefix)
    return run_sync(_relay(engine, options, once=once, batch=batch, poll=poll))


# --- Consumers -------------------------------------------------------------------------------


async def _ack(msg: Any) -> None:
    await msg.ack_sync()


def _record_failure(
    engine: Engine, consumer: str, event: events.Event, attempts: int, error: str
) -> bool:
    """Record a failed delivery; returns ``True`` when the consumer now gives up on it."""
    dead = attempts >= events.MAX_ATTEMPTS
    with session_factory(engine).begin() as session:
        row = session.scalar(
            select(DeliveryFailure).where(
                DeliveryFailure.consumer == consumer, DeliveryFailure.event_id == event.id
            )
        )
        if row is None:
            row = DeliveryFailure(consumer=consumer, event_id=event.id, topic=event.topic)
            session.add(row)
        row.attempts = attempts
        row.last_error = error[-4000:]
        row.dead = dead
    return dead


async def _handle(engine: Engine, subscription: events.Subscription, msg: Any) -> None:
    event = _decode(msg.data)
    if not subscription.wants(event.topic):
        await _ack(msg)
        return
    try:
        events.run_handler(engine, subscription, event)
    except Exception:
        attempts = int(msg.metadata.num_delivered)
        log.exception("consumer %s failed on event %s", subscription.consumer, event.id)
        if _record_failure(engine, subscription.consumer, event, attempts, traceback.format_exc()):
            await msg.term()
        else:
            await msg.nak(delay=events.backoff(attempts).total_seconds())
        return
    await _ack(msg)


async def _work(
    engine: Engine,
    options: RelayOptions,
    *,
    once: bool,
    batch: int,
    ack_wait: float,
    fetch_timeout: float,
) -> int:
    nc = await nats.connect(options.servers)
    try:
        js = nc.jetstream()
        await _ensure_stream(js, options)
        pulls = []
        for subscription in events.subscriptions():
            durable = durable_name(subscription.consumer)
            subject = options.filter_subject(subscription.pattern)
            config = ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=ack_wait,
                filter_subject=subject,
            )
            psub = await js.pull_subscribe(
                subject,
                durable=durable,
                stream=options.stream,
                config=config,
            )
            pulls.append((subscription, psub))
        handled = 0
        while True:
            fetched = 0
            for subscription, psub in pulls:
                try:
                    msgs = await psub.fetch(batch, timeout=fetch_timeout)
                except (NatsTimeoutError, TimeoutError):
                    continue
                for msg in msgs:
                    await _handle(engine, subscription, msg)
                fetched += len(msgs)
            handled += fetched
            if once and fetched == 0:
                return handled
            if not pulls:
                if once:
                    return handled
                await asyncio.sleep(fetch_timeout)
    finally:
        await nc.close()


def work(
    engine: Engine,
    *,
    url: str | None = None,
    stream: str | None = None,
    prefix: str | None = None,
    once: bool = False,
    batch: int = 100,
    ack_wait: float = 30.0,
    fetch_timeout: float = 1.0,
) -> int:
    """Run every registered subscription as a durable JetStream consumer.

    With ``once``, stop after a pass that fetched nothing and return how many messages were
    handled (including skipped duplicates); otherwise run until interrupted.
    """
    options = RelayOptions.resolve(url, stream, prefix)
    return run_sync(
        _work(
            engine,
            options,
            once=once,
            batch=batch,
            ack_wait=ack_wait,
            fetch_timeout=fetch_timeout,
        )
    )


def run_sync(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` to completion from synchronous code.

    ``asyncio.run`` refuses to start inside a thread whose event loop is running (an async web
    handler, or a library such as Playwright's sync API that drives a loop in the caller's
    thread); there the coroutine gets a loop of its own in a short-lived worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiban-nats") as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _delete_stream(options: RelayOptions) -> None:
    nc = await nats.connect(options.servers)
    try:
        js = nc.jetstream()
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(options.stream)
    finally:
        await nc.close()


def delete_stream(*, url: str | None = None, stream: str | None = None) -> None:
    """Delete a stream and its consumers (tests clean up the streams they created)."""
    run_sync(_delete_stream(RelayOptions.resolve(url, stream)))
