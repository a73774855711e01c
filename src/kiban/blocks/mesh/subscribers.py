"""Subscriptions: resident register events become deliveries to the members that subscribed.

Each event of a subscribed type (a move in, an address change, a death, a name change) becomes
one ``mesh_deliveries`` row per subscription, carrying the subscriber's own agency code and
nothing else about the person (no internal id, no name: the subscriber asks for what it may
know through a service, under a grant). A delivery goes to an in-process handler (called in
the event's transaction, inside a savepoint) or to an HTTP endpoint as a signed mesh message
from the register's subsystem, answered by the subscriber's :func:`~kiban.blocks.mesh.gateway.
provider_app`. A company (a COM member) is told only when the person has a consent in force
that covers the event's item (:data:`CONSENT_ITEMS`): without one no delivery is made, and a
delivery whose consent ends before it arrives is ``cancelled``; the records of a delivery under
consent name the consent. A failed attempt is retried with exponential back-off by
:func:`deliver_due` until :data:`MAX_ATTEMPTS`, then marked ``failed`` (the dead letter: it
stays visible in :func:`list_deliveries` and ``kiban mesh deliveries list --status failed``, and
is tried no more); each delivery that arrives (and each that finally fails) is recorded in both
sides' access records. :class:`DeliveryRetrier` runs :func:`deliver_due` every
:data:`RETRY_POLL_SECONDS` in a background thread of the web server and of ``kiban events
work``; ``kiban mesh deliveries retry`` runs it once by hand.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.mesh import codes, consent, gateway, records, service
from kiban.blocks.mesh.errors import MeshRefusal
from kiban.blocks.mesh.models import MeshDelivery, MeshMember, MeshSubscription, MeshSubsystem
from kiban.blocks.mesh.schemas import DeliveryRead
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import events
from kiban.platform.db import session_factory

logger = logging.getLogger(__name__)

PUBLISHER: Final = "JP/GOV/kiban/residents"
"""The resident register's subsystem: the sender of every delivery."""
EVENTS_SERVICE: Final = "events"
ACTOR: Final = "system:mesh"
MAX_ATTEMPTS: Final = 6
BACKOFF_SECONDS: Final = 2.0
RETRY_POLL_SECONDS: Final = 2.0
LEGAL_BASIS: Final = "住民基本台帳法に基づく異動の通知"
CONSENT_BASIS: Final = "本人の同意に基づく異動の通知"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
CANCELLED: Final = "cancelled"
"""A company's delivery whose consent ended before it arrived: never tried again."""
CONSENT_ITEMS: Final = {
    residents.MOVED_IN: ("address",),
    residents.ADDRESS_CHANGED: ("address",),
    residents.NAME_CHANGED: ("name",),
    residents.DIED: ("status",),
}
"""What a company must have the person's consent for to be told of each event: the item the
event is about (and which the company will then fetch)."""


@dataclass(frozen=True)
class DeliveryMessage:
    """What a subscriber receives: the event type and its own code for the person."""

    subscriber: str
    event_type: str
    event_id: str
    agency_code: str
    occurred_at: str


DeliveryHandler = Callable[[Session, DeliveryMessage], None]
_handlers: dict[str, DeliveryHandler] = {}


def register_delivery_handler(name: str, handler: DeliveryHandler) -> None:
    """Make ``handler`` available to in-process subscriptions under ``name``."""
    _handlers[name] = handler


def _ensure_publisher(session: Session) -> MeshSubsystem:
    row = service.find_subsystem(session, PUBLISHER)
    if row is not None:
        return row
    member_id = service.member_of(PUBLISHER)
    if session.scalar(select(MeshMember.id).where(MeshMember.xroad_id == member_id)) is None:
        service.do_register_member(
            session, member_class="GOV", member_code="kiban", name="住民基本台帳", actor=ACTOR
        )
    return service.do_register_subsystem(session, member_id, "residents", actor=ACTOR)


def _message(row: MeshDelivery, subscriber: str) -> DeliveryMessage:
    return DeliveryMessage(
        subscriber=subscriber,
        event_type=row.event_type,
        event_id=str(row.event_id),
        agency_code=row.agency_code,
        occurred_at=str(row.payload.get("occurred_at", "")),
    )


def _send_http(session: Session, row: MeshDelivery, subscription: MeshSubscription) -> None:
    publisher = _ensure_publisher(session)
    message = _message(row, subscription.subsystem)
    token, body = gateway.client_request(
        client=PUBLISHER,
        certificate_pem=publisher.certificate_pem,
        key=service.subsystem_key(PUBLISHER),
        service=f"{subscription.subsystem}/{EVENTS_SERVICE}",
        path=row.event_type,
        agency_code=row.agency_code,
        body=message.__dict__,
        items=[row.event_type],
        message_id=str(row.id),
    )
    url = str(subscription.endpoint_url).rstrip("/")
    reply = gateway.call_endpoint(url, token=token, body=body)
    subscriber = service.get_subsystem(session, subscription.subsystem)
    try:
        signed = gateway.verify(reply.signature, subscriber.certificate_pem)
    except ValueError:
        raise MeshRefusal("Server.ServerProxy.InvalidResponseSignature") from None
    if signed.get("requestHash") != gateway.digest(token) or not 200 <= reply.status < 300:
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", f"status {reply.status}")


def _consent_of(row: MeshDelivery) -> uuid.UUID | None:
    value = row.payload.get("consent_id")
    return uuid.UUID(str(value)) if value else None


def _record(session: Session, row: MeshDelivery, subsystem: str, outcome: str) -> None:
    now = clock.now()
    consent_id = _consent_of(row)
    common: dict[str, Any] = {
        "person_id": row.person_id,
        "service": f"{PUBLISHER}/{EVENTS_SERVICE}",
        "items": [row.event_type],
        "legal_basis": CONSENT_BASIS if consent_id else LEGAL_BASIS,
        "consent_id": consent_id,
        "message_id": str(row.id),
        "request_hash": gateway.digest(str(row.event_id)),
        "response_hash": None,
        "outcome": outcome,
        "requested_at": row.created_at,
        "provided_at": now if outcome == "ok" else None,
    }
    records.append_records(
        session,
        [
            records.AccessRecordCreate(
                side="provider",
                member=PUBLISHER,
                counterpart=subsystem,
                agency_code=codes.agency_code(session, PUBLISHER, row.person_id),
                **common,
            ),
            records.AccessRecordCreate(
                side="requester",
                member=subsystem,
                counterpart=PUBLISHER,
                agency_code=row.agency_code,
                **common,
            ),
        ],
    )


def _consent_for(
    session: Session, subsystem: str, event_type: str, person_id: uuid.UUID
) -> uuid.UUID | None:
    """The consent under which a company may be told of the event now, or None."""
    return consent.active_consent(
        session,
        person_id=person_id,
        company=subsystem,
        items=list(CONSENT_ITEMS.get(event_type, ("address",))),
    )


def attempt(session: Session, row: MeshDelivery, *, now: datetime | None = None) -> bool:
    """Try one delivery now; on failure schedule the next try (or give up). Returns success."""
    now = now or clock.now()
    subscription = session.get(MeshSubscription, row.subscription_id)
    if subscription is None:
        return False
    if consent.is_company(subscription.subsystem):
        # A company is told only while the person's consent is in force: a revocation (or a
        # pause) between the event and a retry stops the delivery, and nothing is recorded
        # because nothing was provided.
        consent_id = _consent_for(session, subscription.subsystem, row.event_type, row.person_id)
        if consent_id is None:
            row.status = CANCELLED
            row.last_error = "consent no longer in force"
            gateway.metrics.delivery(CANCELLED)
            session.flush()
            return False
        row.payload = {**row.payload, "consent_id": str(consent_id)}
    row.attempts += 1
    try:
        with session.begin_nested():
            if subscription.handler is not None:
                handler = _handlers.get(subscription.handler)
                if handler is None:
                    raise LookupError(f"no delivery handler {subscription.handler!r}")
                handler(session, _message(row, subscription.subsystem))
            else:
                _send_http(session, row, subscription)
    except Exception as exc:  # Any failure of the subscriber is retried later.
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = FAILED
            _record(session, row, subscription.subsystem, "error:delivery_failed")
        else:
            row.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))
        gateway.metrics.delivery("failed")
        session.flush()
        return False
    row.status = DELIVERED
    row.delivered_at = clock.now()
    row.last_error = None
    _record(session, row, subscription.subsystem, "ok")
    gateway.metrics.delivery("delivered")
    session.flush()
    return True


def deliver_due(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Retry the pending deliveries whose time has come; returns how many arrived."""
    now = now or clock.now()
    rows = session.scalars(
        select(MeshDelivery)
        .where(MeshDelivery.status == PENDING, MeshDelivery.next_attempt_at <= now)
        .order_by(MeshDelivery.next_attempt_at)
        .limit(limit)
        # Several processes retry (every web worker, `kiban events work`): on PostgreSQL each
        # takes the rows no other holds, so a delivery is tried once per turn. SQLite has one
        # writer at a time and ignores the clause.
        .with_for_update(skip_locked=True)
    )
    return sum(attempt(session, row, now=now) for row in list(rows))


class DeliveryRetrier:
    """A background thread that runs :func:`deliver_due` every ``poll`` seconds, one
    transaction per pass, until :meth:`stop`."""

    def __init__(self, engine: Engine, *, poll: float = RETRY_POLL_SECONDS) -> None:
        self.engine = engine
        self.poll = poll
        self.delivered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DeliveryRetrier:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="mesh-delivery-retrier", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the pass in progress (if any) has committed."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout)

    def tick(self) -> int:
        """One pass: try every due delivery and commit; how many arrived."""
        with session_factory(self.engine)() as session:
            delivered = deliver_due(session)
            session.commit()
        self.delivered += delivered
        return delivered

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.tick()
            except (SQLAlchemyError, KibanError):
                # The database is busy or down; the deliveries stay pending and the next pass
                # tries again. The operator sees it in the log.
                logger.exception("could not retry mesh deliveries")


def list_deliveries(
    session: Session, *, subsystem: str | None = None, status: str | None = None, limit: int = 100
) -> list[DeliveryRead]:
    query = (
        select(MeshDelivery, MeshSubscription.subsystem)
        .join(MeshSubscription, MeshSubscription.id == MeshDelivery.subscription_id)
        .order_by(MeshDelivery.created_at.desc())
        .limit(limit)
    )
    if subsystem is not None:
        query = query.where(MeshSubscription.subsystem == subsystem)
    if status is not None:
        query = query.where(MeshDelivery.status == status)
    return [
        DeliveryRead(
            id=row.id,
            subscription_id=row.subscription_id,
            subsystem=owner,
            event_type=row.event_type,
            event_id=row.event_id,
            agency_code=row.agency_code,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
        )
        for row, owner in session.execute(query)
    ]


def on_register_event(session: Session, event: events.Event) -> None:
    """Turn one register event into a delivery per subscription and try each at once."""
    person_id = uuid.UUID(str(event.payload["person_id"]))
    subscriptions = list(
        session.scalars(
            select(MeshSubscription).where(
                MeshSubscription.event_type == event.topic, MeshSubscription.active.is_(True)
            )
        )
    )
    for subscription in subscriptions:
        now = clock.now()
        payload: dict[str, Any] = {"occurred_at": event.created_at.isoformat()}
        if consent.is_company(subscription.subsystem):
            # No consent, no delivery: the company is not even told that the person exists in
            # an event, and the person's records show no provision to it.
            consent_id = _consent_for(session, subscription.subsystem, event.topic, person_id)
            if consent_id is None:
                continue
            payload["consent_id"] = str(consent_id)
        row = MeshDelivery(
            id=uuid.uuid4(),
            subscription_id=subscription.id,
            event_id=event.id,
            event_type=event.topic,
            person_id=person_id,
            agency_code=codes.agency_code(session, subscription.subsystem, person_id),
            payload=payload,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(row)
        session.flush()
        attempt(session, row, now=now)


@events.subscriber(residents.REGISTERED, consumer=f"mesh.deliveries.{residents.REGISTERED}")
def on_registered(session: Session, event: events.Event) -> None:
    """A registration is delivered to subscribers only when it is a birth (出生): a newborn is
    news to an insurer, a person registered from abroad is enrolled by the agencies directly."""
    if event.payload.get("reason") == "birth":
        on_register_event(session, event)


for _topic in (
    residents.MOVED_IN,
    residents.ADDRESS_CHANGED,
    residents.DIED,
    residents.NAME_CHANGED,
):
    events.subscriber(_topic, consumer=f"mesh.deliveries.{_topic}")(on_register_event)
