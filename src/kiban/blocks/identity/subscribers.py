"""The identity block's reactions to the resident register (card rules of JPKI).

An address or name change makes the signing certificate's basic four wrong, so it is revoked
(affiliationChanged) and the authentication certificate stays good; a death ends the card and
revokes both (cessationOfOperation). Each handler is idempotent: a certificate already revoked
is left alone, and the event bus runs a consumer once per event anyway.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.identity import service
from kiban.platform import events

ACTOR = "system:identity"


def _person(event: events.Event) -> uuid.UUID:
    return uuid.UUID(str(event.payload["person_id"]))


def _revoke_signing(session: Session, event: events.Event) -> None:
    service.do_revoke_signing_for_person(
        session, _person(event), service.AFFILIATION_CHANGED, actor=ACTOR
    )


for _topic in (residents.ADDRESS_CHANGED, residents.MOVED_IN, residents.NAME_CHANGED):
    events.subscriber(_topic, consumer=f"identity.revoke_signing.{_topic}")(_revoke_signing)


@events.subscriber(residents.DIED, consumer="identity.revoke_cards.resident.died")
def on_death(session: Session, event: events.Event) -> None:
    """A death revokes the card and both certificates."""
    service.do_revoke_cards_for_person(
        session, _person(event), service.CESSATION_OF_OPERATION, actor=ACTOR
    )
