"""Moving's reaction to identity: when a move revokes the card's signing certificate
(affiliationChanged), the person is told in their inbox, with how to renew it.

The identity block revokes the certificate on the register's ``resident.moved_in`` and
``resident.address_changed`` events; this consumer runs on the resulting
``identity.certificate_revoked`` event, so the notice is sent only once the revocation is real.
It is idempotent: the notice's dedupe key is the certificate's serial.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import identity, notifications, residents
from kiban.life_events.moving import notices
from kiban.platform import events

ACTOR: Final = "system:moving"
_MOVES: Final = (residents.ChangeReason.MOVE_IN, residents.ChangeReason.MOVE_WITHIN)


@events.subscriber(identity.CERTIFICATE_REVOKED, consumer="moving.notify_signing_revoked")
def on_certificate_revoked(session: Session, event: events.Event) -> None:
    """Tell the holder that a move revoked their signing certificate and how to renew it."""
    payload = event.payload
    if payload.get("kind") != "signing" or payload.get("reason") != "affiliationChanged":
        return
    card = identity.get_card(session, uuid.UUID(str(payload["card_id"])))
    history = residents.get_history(session, card.person_id)
    # A name change revokes the certificate for the same reason; that notice is not ours.
    if not history or history[-1].reason not in _MOVES:
        return
    serial = str(payload["serial"])
    notifications.do_send_notice(
        session,
        card.person_id,
        notices.SIGNING_REVOKED,
        {"serial": serial},
        actor=ACTOR,
        link="/portal/",
        dedupe_key=f"moving.signing_revoked.{serial}",
    )
