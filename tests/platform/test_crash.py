"""Nothing is lost, nothing is duplicated: real processes killed between commit and delivery.

Each test starts kiban in child processes (``crash_child.py``) that end with ``os._exit`` at
the worst moment, then restarts and shows the handler's effect happened exactly once — and
still once after delivering again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, func, select

from kiban.platform import db
from kiban.platform.models import AuditEntry, ConsumedEvent, OutboxEvent
from tests.platform import crash_child

CHILD = Path(crash_child.__file__)


def _run(step: str, *args: str, expect: int = 0, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(CHILD), step, *args],
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == expect, result.stderr
    return result.stdout.strip()


def _effects(engine: Engine, event_id: uuid.UUID) -> int:
    with db.session_factory(engine)() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.tag == crash_child.EFFECT_TAG, AuditEntry.subject == str(event_id)
                )
            )
            or 0
        )


def _status(engine: Engine, event_id: uuid.UUID) -> str:
    with db.session_factory(engine)() as session:
        row = session.get(OutboxEvent, event_id)
        assert row is not None, "the committed event was lost"
        return row.status


def _consumed(engine: Engine, event_id: uuid.UUID) -> int:
    with db.session_factory(engine)() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ConsumedEvent)
                .where(ConsumedEvent.event_id == event_id)
            )
            or 0
        )


def _commit_and_crash() -> uuid.UUID:
    return uuid.UUID(_run("commit-then-crash", expect=crash_child.CRASHED))


def test_in_process_crash_between_commit_and_delivery(in_process: str, engine: Engine) -> None:
    # Given a process that committed a change and its event and died before delivering it,
    event_id = _commit_and_crash()
    # then the event survived, undelivered, and nothing was handled.
    assert _status(engine, event_id) == "pending"
    assert _effects(engine, event_id) == 0
    # When a new process starts and delivers what is pending,
    assert _run("deliver") == "1"
    # then the handler's effect happened once,
    assert _status(engine, event_id) == "delivered"
    assert _effects(engine, event_id) == 1
    # and delivering again (another restart) changes nothing.
    assert _run("deliver") == "0"
    assert _effects(engine, event_id) == 1


def test_in_process_crash_after_effect_before_marked(in_process: str, engine: Engine) -> None:
    # Given an event whose handler committed its effect in a process that then died before
    # marking the event delivered,
    event_id = _commit_and_crash()
    _run("deliver-crash-before-marked", expect=crash_child.CRASHED)
    assert _status(engine, event_id) == "pending"
    assert _effects(engine, event_id) == 1
    # when the next process delivers it again,
    assert _run("deliver") == "1"
    # then the consumed-events guard skipped the handler: still one effect.
    assert _status(engine, event_id) == "delivered"
    assert _effects(engine, event_id) == 1
    assert _consumed(engine, event_id) == 1


def _nats_env(stream: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KIBAN_EVENTS_STREAM"] = stream
    return env


def test_nats_crash_between_commit_and_relay(
    database_url: str, engine: Engine, nats_stream: tuple[str, str]
) -> None:
    stream, prefix = nats_stream
    env = _nats_env(stream)
    # Given a process that committed a change and its event and died before relaying it,
    event_id = uuid.UUID(_run("commit-then-crash", expect=crash_child.CRASHED, env=env))
    assert _status(engine, event_id) == "pending"
    # when the relay and a consumer run,
    assert _run("relay", prefix, env=env) == "1"
    assert _status(engine, event_id) == "published"
    assert _run("work", prefix, env=env) == "1"
    # then the effect happened once, and running both again changes nothing.
    assert _effects(engine, event_id) == 1
    assert _run("relay", prefix, env=env) == "0"
    assert _run("work", prefix, env=env) == "0"
    assert _effects(engine, event_id) == 1


def test_nats_crash_after_publish_before_marked(
    database_url: str, engine: Engine, nats_stream: tuple[str, str]
) -> None:
    stream, prefix = nats_stream
    env = _nats_env(stream)
    # Given a relay that published an event and died before marking the outbox row,
    event_id = uuid.UUID(_run("commit-then-crash", expect=crash_child.CRASHED, env=env))
    _run("relay-crash-before-marked", prefix, expect=crash_child.CRASHED, env=env)
    assert _status(engine, event_id) == "pending"
    # when the relay runs again it publishes it again (JetStream drops the duplicate by its
    # Nats-Msg-Id), and the consumer handles it once.
    assert _run("relay", prefix, env=env) == "1"
    assert _run("work", prefix, env=env) == "1"
    assert _run("work", prefix, env=env) == "0"
    assert _effects(engine, event_id) == 1


def test_nats_crash_after_effect_before_ack(
    database_url: str, engine: Engine, nats_stream: tuple[str, str]
) -> None:
    stream, prefix = nats_stream
    env = _nats_env(stream)
    event_id = uuid.UUID(_run("commit-then-crash", expect=crash_child.CRASHED, env=env))
    assert _run("relay", prefix, env=env) == "1"
    # Given a consumer whose handler committed its effect and died before acknowledging,
    _run("work-crash-before-ack", prefix, expect=crash_child.CRASHED, env=env)
    assert _effects(engine, event_id) == 1
    # when JetStream redelivers the message after the ack wait (1 s here),
    time.sleep(1.5)
    assert _run("work", prefix, env=env) == "1"
    # then the consumed-events guard skipped the handler: still one effect, and it is acked.
    assert _effects(engine, event_id) == 1
    assert _consumed(engine, event_id) == 1
    assert _run("work", prefix, env=env) == "0"
