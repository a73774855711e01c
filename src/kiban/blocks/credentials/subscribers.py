"""The credentials block's reactions to the resident register.

A ``resident`` credential states the name and address: a change of either, a move and a death
make it wrong, so every such credential of the person is revoked (its status list bit set).
Idempotent: a credential already revoked is left alone.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.credentials import service
from kiban.blocks.credentials.types import RESIDENT
from kiban.platform import events

ACTOR = "system:credentials"
REASONS = {
    residents.ADDRESS_CHANGED: "address_changed",
    residents.MOVED_IN: "address_changed",
    residents.MOVED_OUT: "moved_out",
    residents.NAME_CHANGED: "name_changed",
    residents.DIED: "died",
}


def _revoke_resident(session: Session, event: events.Event) -> None:
    service.do_revoke_credentials_for_person(
        session,
        uuid.UUID(str(event.payload["person_id"])),
        credential_type=RESIDENT.name,
        reason=REASONS[event.topic],
        actor=ACTOR,
    )


for _topic in REASONS:
    events.subscriber(_topic, consumer=f"credentials.revoke_resident.{_topic}")(_revoke_resident)
