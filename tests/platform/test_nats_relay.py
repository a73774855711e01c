"""The JetStream relay and durable consumers (run when KIBAN_TEST_EVENTS_URL is set)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.platform import db, events, nats_relay
from kiban.platform.models import DeliveryFailure, OutboxEvent
from kiban.platform.settings import get_settings


def test_subjects_and_durable_names() -> None:
    options = nats_relay.RelayOptions("nats://127.0.0.1:4222", "KIBAN")
    assert options.subject("resident.moved_in") == "kiban.resident.moved_in"
    assert options.filter_subject("*") == "kiban.>"
    assert options.filter_subject("resident.*") == "kiban.resident.>"
    assert options.filter_subject("resident.moved_in") == "kiban.resident.moved_in"
    assert nats_relay.durable_name("identity.signing_cert_revocation") == (
        "identity_signing_cert_revocation"
    )


def test_each_installation_gets_subjects_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIBAN_EVENTS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("KIBAN_EVENTS_STREAM", "STAGING")
    get_settings.cache_clear()
    try:
        assert nats_relay.RelayOptions.resolve().subject("a.b") == "staging.a.b"
        monkeypatch.setenv("KIBAN_EVENTS_PREFIX", "pref13")
        get_settings.cache_clear()
        assert nats_relay.RelayOptions.resolve().prefix == "pref13"
        monkeypatch.delenv("KIBAN_EVENTS_PREFIX")
        get_settings.cache_clear()
        assert nats_relay.RelayOptions.resolve(stream="KIBAN").prefix == nats_relay.DEFAULT_PREFIX
    finally:
        get_settings.cache_clear()


def test_a_nats_cluster_is_named_by_its_members_and_keeps_the_stream_on_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIBAN_EVENTS_URL", "nats://127.0.0.1:4222, nats://127.0.0.1:4223,")
    monkeypatch.setenv("KIBAN_EVENTS_REPLICAS", "3")
    get_settings.cache_clear()
    try:
        options = nats_relay.RelayOptions.resolve()
        assert options.servers == ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
        assert options.replicas == 3
        monkeypatch.setenv("KIBAN_EVENTS_REPLICAS", "0")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="events_replicas"):
            get_settings()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("kiban.>", "kiban.>", True),
        ("kiban.>", "staging.>", False),
        (">", "staging.>", True),
        ("kiban.*", "kiban.a.b", False),
        ("kiban.*.b", "kiban.a.>", True),
        ("kiban", "kiban.>", False),
    ],
)
def test_subject_overlap(a: str, b: str, *, overlap: bool) -> None:
    assert nats_relay._subjects_overlap(a, b) is overlap
    assert nats_relay._subjects_overlap(b, a) is overlap


def test_a_second_installation_on_the_same_subjects_is_told_what_is_wrong(
    engine: Engine, nats_stream: tuple[str, str]
) -> None:
    stream, prefix = nats_stream
    assert nats_relay.relay(engine, prefix=prefix, once=True) == 0  # Creates the first stream.
    second = f"{stream}_TWO"
    try:
        with pytest.raises(nats_relay.StreamConflict, match=f"{stream}.*KIBAN_EVENTS_PREFIX"):
            nats_relay.relay(engine, stream=second, prefix=prefix, once=True)
        # With subjects of its own (the default: its stream's name), it runs beside the first.
        assert nats_relay.relay(engine, stream=second, once=True) == 0
    finally:
        nats_relay.delete_stream(stream=second)


def test_relay_refuses_an_empty_events_url(in_process: str, engine: Engine) -> None:
    with pytest.raises(ValueError, match="nats://"):
        nats_relay.relay(engine, once=True)


def test_events_flow_in_order_and_each_consumer_gets_its_topics(
    database_url: str, engine: Engine, nats_stream: tuple[str, str]
) -> None:
    _stream, prefix = nats_stream
    residents: list[int] = []
    everything: list[str] = []
    events.subscriber("resident.*", consumer="test.residents")(
        lambda _s, e: residents.append(e.payload["n"])
    )
    events.subscriber("*", consumer="test.everything")(lambda _s, e: everything.append(e.topic))
    # Given events committed in NATS mode (nothing is delivered in-process),
    with db.transaction(engine) as session:
        events.emit_many(session, [("resident.moved_in", {"n": n}, None) for n in range(5)])
        events.emit(session, "corporation.registered", {"n": 99})
    assert residents == []
    # when the relay and the consumers run,
    assert nats_relay.relay(engine, prefix=prefix, once=True) == 6
    with db.session_factory(engine)() as session:
        assert set(session.scalars(select(OutboxEvent.status))) == {"published"}
    nats_relay.work(engine, prefix=prefix, once=True, fetch_timeout=0.5)
    # then each consumer got its topics, in emission order, once.
    assert residents == [0, 1, 2, 3, 4]
    assert everything == ["resident.moved_in"] * 5 + ["corporation.registered"]


def test_a_failing_consumer_is_retried_then_recorded_dead(
    database_url: str,
    engine: Engine,
    nats_stream: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stream, prefix = nats_stream
    monkeypatch.setattr(events, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(events, "backoff", lambda _n: timedelta(seconds=0.2))
    calls: list[int] = []

    @events.subscriber("payment.sent", consumer="test.bank")
    def bank(_session: Session, _event: events.Event) -> None:
        calls.append(1)
        raise RuntimeError("bank is down")

    with db.transaction(engine) as session:
        event_id = events.emit(session, "payment.sent", {})
    nats_relay.relay(engine, prefix=prefix, once=True)
    # Given a handler that always fails, after the allowed deliveries (nak, redelivery),
    for _ in range(4):
        nats_relay.work(engine, prefix=prefix, once=True, fetch_timeout=0.5)
        if len(calls) >= 2:
            break
    # then the consumer gave up, said why, and the event itself is still in the outbox.
    assert len(calls) == 2
    with db.session_factory(engine)() as session:
        failure = session.scalars(select(DeliveryFailure)).one()
        assert (failure.event_id, failure.attempts, failure.dead) == (event_id, 2, True)
        assert "bank is down" in (failure.last_error or "")
        assert session.get(OutboxEvent, event_id) is not None
        [topic] = events.status_counts(session)
    assert (topic.topic, topic.dead_consumer_deliveries) == ("payment.sent", 1)
    # and no further delivery comes (the message was terminated).
    nats_relay.work(engine, prefix=prefix, once=True, fetch_timeout=0.5)
    assert len(calls) == 2
