"""Subscriptions: register events delivered with the subscriber's own code, retried with
back-off, visible, and recorded."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import address, mesh, residents
from kiban.blocks.mesh import gateway, subscribers
from kiban.blocks.mesh.models import MeshDelivery
from kiban.cli import app as cli
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import events
from kiban.web import create_app
from tests.blocks.mesh.core_support import CLIENT, OPERATOR, PROVIDER, Seen, build
from tests.live import serving

CHIYODA = "131016"


@pytest.fixture
def towns(session: Session) -> dict[str, address.TownRead]:
    address.load_registry(session, lg_codes=[CHIYODA])
    session.commit()
    return {
        "marunouchi": address.find_town(session, CHIYODA, "丸の内"),
        "kudan": address.find_town(session, CHIYODA, "九段北"),
    }


def register(session: Session, town: address.TownRead) -> residents.PersonRead:
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            birth_date=date(1982, 2, 3),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
            ),
            household=residents.HouseholdChoice(household_id=None, relationship="世帯主"),
            effective_on=date(2020, 4, 1),
        ),
        actor=OPERATOR,
    )
    session.commit()
    return person


def move(session: Session, person: residents.PersonRead, town: address.TownRead) -> None:
    residents.move_within(
        session,
        person.id,
        residents.MoveWithinCreate(
            moved_on=clock.today_jst(),
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="5番"
            ),
        ),
        actor=OPERATOR,
    )
    session.commit()
    # With NATS configured (CI's PostgreSQL run) no relay runs in the test: deliver here.
    events.deliver_pending(session.get_bind())


class Inbox:
    def __init__(self, failures: int = 0) -> None:
        self.messages: list[subscribers.DeliveryMessage] = []
        self.failures = failures

    def __call__(self, _session: Session, message: subscribers.DeliveryMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("subscriber is down")
        self.messages.append(message)


@pytest.fixture
def inbox() -> Inbox:
    box = Inbox()
    mesh.register_delivery_handler("test.inbox", box)
    return box


def test_a_move_is_delivered_with_the_subscribers_own_code(
    session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    build(session, Seen())
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    (message,) = inbox.messages
    assert message.event_type == "resident.address_changed"
    assert message.agency_code == mesh.agency_code(session, CLIENT, person.id)
    assert str(person.id) not in repr(message)
    (delivery,) = mesh.list_deliveries(session)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    records = pytest.importorskip("kiban.blocks.mesh.records")
    page = records.records_for_person(session, person.id, today=clock.today_jst())
    assert sorted((r.side, r.member, r.outcome) for r in page.records) == [
        ("provider", subscribers.PUBLISHER, "ok"),
        ("requester", CLIENT, "ok"),
    ]


def test_a_failed_delivery_is_retried_with_back_off(
    session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    build(session, Seen())
    inbox.failures = 2
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    (first,) = mesh.list_deliveries(session)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error == "RuntimeError: subscriber is down"
    # Not due yet: nothing is tried.
    assert mesh.deliver_due(session) == 0
    later = clock.now() + timedelta(seconds=subscribers.BACKOFF_SECONDS + 1)
    assert mesh.deliver_due(session, now=later) == 0
    (second,) = mesh.list_deliveries(session)
    assert (second.status, second.attempts) == ("pending", 2)
    assert second.next_attempt_at - first.next_attempt_at >= timedelta(
        seconds=subscribers.BACKOFF_SECONDS
    )
    assert mesh.deliver_due(session, now=later + timedelta(hours=1)) == 1
    (third,) = mesh.list_deliveries(session)
    assert (third.status, third.attempts) == ("delivered", 3)
    assert inbox.messages[0].agency_code == mesh.agency_code(session, CLIENT, person.id)


def test_a_delivery_gives_up_after_the_last_attempt(
    session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    build(session, Seen())
    inbox.failures = subscribers.MAX_ATTEMPTS
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    for hours in range(1, subscribers.MAX_ATTEMPTS + 1):
        mesh.deliver_due(session, now=clock.now() + timedelta(hours=hours))
    (delivery,) = mesh.list_deliveries(session)
    assert (delivery.status, delivery.attempts) == ("failed", subscribers.MAX_ATTEMPTS)
    assert inbox.messages == []


def test_a_delivery_over_http_is_signed_and_answered(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    build(session, Seen())
    received: list[mesh.ProviderRequest] = []

    def on_event(request: mesh.ProviderRequest) -> Any:
        received.append(request)
        return {"received": True}

    provider = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    app = mesh.provider_app(
        {f"{PROVIDER}/events": on_event},
        key=mesh.subsystem_key(PROVIDER),
        certificate_pem=provider.certificate_pem,
        ca_pem=mesh.ca_pem(),
    )
    with serving(app, "pension-events") as url:
        mesh.subscribe(session, PROVIDER, "resident.address_changed", endpoint=url, actor=OPERATOR)
        session.commit()
        person = register(session, towns["marunouchi"])
        move(session, person, towns["kudan"])
        gateway.close_http()
    (request,) = received
    assert request.client == subscribers.PUBLISHER
    assert request.agency_code == mesh.agency_code(session, PROVIDER, person.id)
    assert request.body["event_type"] == "resident.address_changed"
    (delivery,) = mesh.list_deliveries(session, subsystem=PROVIDER)
    assert delivery.status == "delivered"


def test_subscriptions_are_checked(session: Session) -> None:
    build(session, Seen())
    with pytest.raises(KibanError) as kind:
        mesh.subscribe(session, CLIENT, "resident.born", handler="x", actor=OPERATOR)
    assert (kind.value.code, kind.value.field) == ("mesh.invalid_subscription", "event_type")
    with pytest.raises(KibanError) as both:
        mesh.subscribe(
            session,
            CLIENT,
            "resident.died",
            handler="x",
            endpoint="http://127.0.0.1:1",
            actor=OPERATOR,
        )
    assert both.value.field == "endpoint_url"


def _wait_until_delivered(session: Session, seconds: float) -> mesh.DeliveryRead:
    deadline = time.monotonic() + seconds
    while True:
        (delivery,) = mesh.list_deliveries(session)
        # End the read at once: the next one sees the retrier's commits, and SQLite's write
        # lock (kiban begins every transaction IMMEDIATE) is free while this one sleeps.
        session.commit()
        if delivery.status != "pending" or time.monotonic() > deadline:
            return delivery
        time.sleep(0.05)


def test_the_retrier_thread_delivers_once_the_subscriber_recovers(
    engine: Engine, session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    build(session, Seen())
    inbox.failures = 1
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    (failed,) = mesh.list_deliveries(session)
    assert (failed.status, failed.attempts) == ("pending", 1)
    # Nobody calls deliver_due: the background thread does, once the back-off has passed.
    retrier = mesh.DeliveryRetrier(engine, poll=0.1).start()
    try:
        delivered = _wait_until_delivered(session, subscribers.BACKOFF_SECONDS + 5)
    finally:
        retrier.stop()
    assert (delivered.status, delivered.attempts) == ("delivered", 2)
    assert delivered.delivered_at is not None
    assert delivered.delivered_at >= failed.next_attempt_at
    assert retrier.delivered == 1
    assert [m.agency_code for m in inbox.messages] == [mesh.agency_code(session, CLIENT, person.id)]


def test_the_web_server_retries_deliveries_while_it_runs(
    database_url: str, session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    del database_url  # The app's settings point at the test database.
    build(session, Seen())
    inbox.failures = 1
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    with serving(create_app(), "kiban-web"):
        delivered = _wait_until_delivered(
            session, subscribers.BACKOFF_SECONDS + 2 * subscribers.RETRY_POLL_SECONDS + 5
        )
    assert (delivered.status, delivered.attempts) == ("delivered", 2)


def test_kiban_events_work_retries_due_deliveries(
    session: Session, towns: dict[str, address.TownRead], inbox: Inbox
) -> None:
    build(session, Seen())
    inbox.failures = 1
    mesh.subscribe(
        session, CLIENT, "resident.address_changed", handler="test.inbox", actor=OPERATOR
    )
    session.commit()
    person = register(session, towns["marunouchi"])
    move(session, person, towns["kudan"])
    # The back-off has passed (moved back rather than waited for).
    session.execute(update(MeshDelivery).values(next_attempt_at=clock.now() - timedelta(seconds=1)))
    session.commit()
    result = CliRunner().invoke(cli, ["events", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "retried 1 mesh delivery" in result.output
    session.commit()
    (delivery,) = mesh.list_deliveries(session, status="delivered")
    assert delivery.attempts == 2
