"""The credentials block's reactions to the resident register and the qualifications registry.

A ``resident`` credential states the name and address: a change of either, a move and a death
make it wrong, so every such credential of the person is revoked (its status list bit set).
A licence (``qualification-<code>``) states the name and the registration: a name change or a
death revokes it, and the registry's suspension sets its status to suspended (2),
reinstatement back to valid (0) and revocation to invalid (1). Idempotent: each reaction
changes only credentials in the status it starts from, so a repeated event changes nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import qualifications, residents
from kiban.blocks.credentials import service
from kiban.blocks.credentials.models import CredentialsCredential
from kiban.blocks.credentials.types import QUALIFICATION_PREFIX, RESIDENT, qualification_type_name
from kiban.platform import events

ACTOR = "system:credentials"
REASONS = {
    residents.ADDRESS_CHANGED: "address_changed",
    residents.MOVED_IN: "address_changed",
    residents.MOVED_OUT: "moved_out",
    residents.NAME_CHANGED: "name_changed",
    residents.DIED: "died",
}
LICENCE_REVOKING = {residents.NAME_CHANGED: "name_changed", residents.DIED: "died"}


def _person(event: events.Event) -> uuid.UUID:
    return uuid.UUID(str(event.payload["person_id"]))


def _revoke_resident(session: Session, event: events.Event) -> None:
    service.do_revoke_credentials_for_person(
        session,
        _person(event),
        credential_type=RESIDENT.name,
        reason=REASONS[event.topic],
        actor=ACTOR,
    )


def _revoke_licences(session: Session, event: events.Event) -> None:
    person = _person(event)
    kinds = set(
        session.scalars(
            select(CredentialsCredential.credential_type).where(
                CredentialsCredential.person_id == person,
                CredentialsCredential.credential_type.startswith(QUALIFICATION_PREFIX),
                CredentialsCredential.status != service.REVOKED,
            )
        )
    )
    for kind in sorted(kinds):
        service.do_revoke_credentials_for_person(
            session, person, credential_type=kind, reason=LICENCE_REVOKING[event.topic], actor=ACTOR
        )


def _licence(event: events.Event) -> str:
    return qualification_type_name(str(event.payload["qualification"]))


def _on_suspended(session: Session, event: events.Event) -> None:
    service.do_suspend_credentials_for_person(
        session,
        _person(event),
        credential_type=_licence(event),
        reason="qualification_suspended",
        actor=ACTOR,
    )


def _on_reinstated(session: Session, event: events.Event) -> None:
    service.do_reinstate_credentials_for_person(
        session,
        _person(event),
        credential_type=_licence(event),
        reason="qualification_reinstated",
        actor=ACTOR,
    )


def _on_revoked(session: Session, event: events.Event) -> None:
    service.do_revoke_credentials_for_person(
        session,
        _person(event),
        credential_type=_licence(event),
        reason="qualification_revoked",
        actor=ACTOR,
    )


for _topic in REASONS:
    events.subscriber(_topic, consumer=f"credentials.revoke_resident.{_topic}")(_revoke_resident)
for _topic in LICENCE_REVOKING:
    events.subscriber(_topic, consumer=f"credentials.revoke_licences.{_topic}")(_revoke_licences)
events.subscriber(qualifications.SUSPENDED, consumer="credentials.suspend_licence")(_on_suspended)
events.subscriber(qualifications.REINSTATED, consumer="credentials.reinstate_licence")(
    _on_reinstated
)
events.subscriber(qualifications.REVOKED, consumer="credentials.revoke_licence")(_on_revoked)
