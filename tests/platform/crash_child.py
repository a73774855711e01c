"""A kiban process that the crash tests start and kill at a chosen point.

Usage: ``python crash_child.py STEP [PREFIX]``. The database and events settings come from the
environment (``KIBAN_DATABASE_URL``, ``KIBAN_EVENTS_URL``, ``KIBAN_EVENTS_STREAM``). Every step
registers the same subscriber, whose effect is one audit entry per handled event, so the parent
can count effects. ``os._exit`` ends the process at once: no ``finally`` blocks, no flushing, no
clean-up — as close to a power cut as a test can get.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sqlalchemy.orm import Session

from kiban.platform import audit, db, events, nats_relay

TOPIC = "crash.test.changed"
CONSUMER = "crash.test.effect"
EFFECT_TAG = "test:crash:effect"
CRASHED = 17


@events.subscriber("crash.test.*", consumer=CONSUMER)
def _effect(session: Session, event: events.Event) -> None:
    audit.record(session, tag=EFFECT_TAG, actor="crash-test", subject=str(event.id))


def _crash(*_args: Any, **_kwargs: Any) -> None:
    os._exit(CRASHED)


def main(step: str, prefix: str | None) -> None:
    engine = db.get_engine()
    if step == "commit-then-crash":
        # Commit a change and its event, then die before anything delivers or relays it.
        events.deliver = _crash  # type: ignore[assignment] - the after-commit hook calls it.
        with db.transaction(engine) as session:
            audit.record(session, tag="test:crash:change", actor="crash-test", subject="x")
            event_id = events.emit(session, TOPIC, {"n": 1}, key="x")
            print(event_id, flush=True)  # noqa: T201 - the parent reads it.
        _crash()
    elif step == "deliver":
        print(events.deliver_pending(engine), flush=True)  # noqa: T201
    elif step == "deliver-crash-before-marked":
        # The handler's effect commits; the process dies before the outbox row says so.
        events._mark_delivered = _crash  # type: ignore[assignment]
        events.deliver_pending(engine)
    elif step == "relay":
        print(nats_relay.relay(engine, prefix=prefix, once=True), flush=True)  # noqa: T201
    elif step == "relay-crash-before-marked":
        # Published to JetStream, but the process dies before the outbox row says so.
        nats_relay._mark_published = _crash  # type: ignore[assignment]
        nats_relay.relay(engine, prefix=prefix, once=True)
    elif step == "work":
        handled = nats_relay.work(engine, prefix=prefix, once=True, ack_wait=1.0, fetch_timeout=0.5)
        print(handled, flush=True)  # noqa: T201
    elif step == "work-crash-before-ack":
        # The handler's effect commits; the process dies before acknowledging the message.
        nats_relay._ack = _crash  # type: ignore[assignment]
        nats_relay.work(engine, prefix=prefix, once=True, ack_wait=1.0, fetch_timeout=0.5)
    else:
        raise SystemExit(f"unknown step {step!r}")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
