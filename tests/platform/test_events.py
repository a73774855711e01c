"""The outbox and the in-process dispatcher: delivered after commit, exactly once per consumer,
retried with backoff, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
import typer
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.cli.events import app as events_cli
from kiban.platform import db, events
from kiban.platform.models import ConsumedEvent, OutboxEvent


def _outbox(engine: Engine) -> list[OutboxEvent]:
    with db.session_factory(engine)() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)))


def test_events_are_delivered_after_commit_in_new_sessions(in_process: str, engine: Engine) -> None:
    seen: list[tuple[str, dict[str, object], str | None]] = []
    emitting: list[Session] = []

    @events.subscriber("resident.moved_in", consumer="test.recorder")
    def record(session: Session, event: events.Event) -> None:
        assert session not in emitting
        seen.append((event.topic, event.payload, event.key))

    # Given an action that emits an event in its transaction,
    with db.transaction(engine) as session:
        emitting.append(session)
        events.emit(session, "resident.moved_in", {"person_id": "p1"}, key="p1")
        # then nothing is delivered before the commit,
        assert seen == []
    # and once it commits, the subscriber has it, and the outbox row says so.
    assert seen == [("resident.moved_in", {"person_id": "p1"}, "p1")]
    assert [r.status for r in _outbox(engine)] == ["delivered"]


def test_a_released_savepoint_does_not_deliver_before_the_outer_commit(
    in_process: str, engine: Engine
) -> None:
    seen: list[str] = []
    events.subscriber("test.*", consumer="test.savepoint")(lambda _s, e: seen.append(e.topic))
    # Given an event emitted inside a savepoint of a larger transaction,
    with db.transaction(engine) as session:
        with session.begin_nested():
            events.emit(session, "test.happened", {})
        # then releasing the savepoint delivers nothing yet,
        assert seen == []
    # and the outer commit delivers it once.
    assert seen == ["test.happened"]


def test_rolled_back_events_are_neither_stored_nor_delivered(
    in_process: str, engine: Engine
) -> None:
    seen: list[str] = []
    events.subscriber("*", consumer="test.all")(lambda _s, e: seen.append(e.topic))
    session = db.session_factory(engine)()
    events.emit(session, "resident.moved_in", {})
    session.rollback()
    # A later commit in the same session delivers nothing stale.
    session.commit()
    session.close()
    assert seen == []
    assert _outbox(engine) == []


def test_topic_patterns() -> None:
    assert events.matches("*", "resident.moved_in")
    assert events.matches("resident.*", "resident.moved_in")
    assert events.matches("resident.*", "resident.address.changed")
    assert not events.matches("resident.*", "residents.moved_in")
    assert not events.matches("resident.moved_in", "resident.moved_out")
    with pytest.raises(ValueError, match="pattern"):
        events.subscriber("resident.*.changed", consumer="x")
    with pytest.raises(ValueError, match="topic"):
        events.emit_many(Session(), [("Resident Moved", {}, None)])


def test_every_matching_subscriber_gets_each_event_once(in_process: str, engine: Engine) -> None:
    got: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    events.subscriber("resident.*", consumer="test.a")(lambda _s, e: got["a"].append(e.topic))
    events.subscriber("resident.moved_in", consumer="test.b")(
        lambda _s, e: got["b"].append(e.topic)
    )
    events.subscriber("corporation.*", consumer="test.c")(lambda _s, e: got["c"].append(e.topic))
    with db.transaction(engine) as session:
        events.emit_many(
            session,
            [("resident.moved_in", {}, None), ("resident.moved_out", {}, None)],
        )
    assert got == {
        "a": ["resident.moved_in", "resident.moved_out"],
        "b": ["resident.moved_in"],
        "c": [],
    }
    # When every event is forced back to pending (as if delivery were repeated),
    with db.transaction(engine) as session:
        session.execute(update(OutboxEvent).values(status="pending"))
    assert events.deliver_pending(engine) == 2
    # then no handler ran twice.
    assert got == {
        "a": ["resident.moved_in", "resident.moved_out"],
        "b": ["resident.moved_in"],
        "c": [],
    }


def test_a_handlers_writes_commit_with_its_consumed_marker(in_process: str, engine: Engine) -> None:
    # A handler that emits an event of its own: the cascade is delivered too.
    got: list[str] = []

    @events.subscriber("resident.address_changed", consumer="test.identity")
    def revoke(session: Session, event: events.Event) -> None:
        events.emit(session, "identity.certificate_revoked", {"for": str(event.id)})

    events.subscriber("identity.*", consumer="test.notify")(lambda _s, e: got.append(e.topic))
    with db.transaction(engine) as session:
        events.emit(session, "resident.address_changed", {})
    assert got == ["identity.certificate_revoked"]
    with db.session_factory(engine)() as session:
        consumers = sorted(session.scalars(select(ConsumedEvent.consumer)))
    assert consumers == ["test.identity", "test.notify"]


def test_failures_are_retried_with_backoff_then_marked_dead(
    in_process: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok: list[str] = []
    calls: list[int] = []

    @events.subscriber("payment.sent", consumer="test.flaky")
    def flaky(_session: Session, _event: events.Event) -> None:
        calls.append(1)
        raise RuntimeError("bank is down")

    events.subscriber("payment.sent", consumer="test.steady")(lambda _s, e: ok.append(e.topic))

    # Given a subscriber that always fails next to one that works,
    with db.transaction(engine) as session:
        events.emit(session, "payment.sent", {})
    [row] = _outbox(engine)
    # then the event stays pending with the error, and waits before the next attempt,
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert "bank is down" in row.last_error
    assert row.next_attempt_at is not None
    assert events.deliver_pending(engine) == 0
    assert len(calls) == 1
    # and each later attempt (clock moved past the backoff) retries only the failing consumer;
    now = events.clock.now()
    for attempt in range(2, events.MAX_ATTEMPTS + 1):
        now += events.backoff(attempt) + timedelta(seconds=1)
        monkeypatch.setattr(events.clock, "now", lambda now=now: now)
        events.deliver_pending(engine)
        assert len(calls) == attempt
    # after MAX_ATTEMPTS the event is dead but kept, and the steady consumer ran exactly once.
    [row] = _outbox(engine)
    assert (row.status, row.attempts) == ("dead", events.MAX_ATTEMPTS)
    assert ok == ["payment.sent"]
    events.deliver_pending(engine)
    assert len(calls) == events.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped() -> None:
    assert [events.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert events.backoff(50) == timedelta(minutes=10)


def _kiban_events(*args: str) -> tuple[int, str]:
    # Mounted as in kiban.cli, so the command line is the real one: kiban events ...
    root = typer.Typer()
    root.add_typer(events_cli, name="events")
    result = CliRunner().invoke(root, ["events", *args])
    return result.exit_code, result.output


def test_cli_work_once_delivers_what_a_crash_left_and_status_counts(
    in_process: str, engine: Engine
) -> None:
    seen: list[str] = []
    events.subscriber("test.*", consumer="test.cli")(lambda _s, e: seen.append(e.topic))
    # Given events left pending (written by a session bound to a connection, so not delivered;
    # on a topic of its own, since real blocks consume resident.*),
    with engine.connect() as conn, Session(bind=conn) as session:
        events.emit_many(session, [("test.happened", {}, None)] * 3)
        session.commit()
        conn.commit()
    code, output = _kiban_events("status")
    assert code == 0
    assert "3 pending" in output
    # when `kiban events work --once` runs,
    code, output = _kiban_events("work", "--once")
    # then they are delivered and the status says so.
    assert code == 0, output
    assert seen == ["test.happened"] * 3
    code, output = _kiban_events("status")
    assert "0 pending" in output
    assert "test.happened" in output


def test_cli_relay_needs_nats(in_process: str) -> None:
    code, _output = _kiban_events("relay", "--once")
    assert code == 2
