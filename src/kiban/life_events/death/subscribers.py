"""The death's reaction to the register: the spouse is offered the survivor's pension claim.

Runs on ``resident.died`` (the register's event, through the outbox). The agencies' own part of
the fan-out is theirs — the pension service stops the pension, the insurer ends coverage, the
licence office revokes the licence (``kiban.agencies``, delivered by the mesh to each agency's
subscription), and identity revokes both card certificates. Here kiban tells the surviving
spouse in their inbox what they may claim. Idempotent: the notice's dedupe key is the deceased.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import notifications, residents
from kiban.life_events.death import notices
from kiban.life_events.death.heirs import HEAD as _HEAD
from kiban.life_events.death.heirs import SPOUSES as _SPOUSES
from kiban.platform import events

ACTOR: Final = "system:death"


@events.subscriber(residents.DIED, consumer="death.offer_survivor_pension")
def on_died(session: Session, event: events.Event) -> None:
    """Offer the survivor's pension claim to the deceased's spouse in the same household."""
    person_id = uuid.UUID(str(event.payload["person_id"]))
    person = residents.get_person(session, person_id)
    if person.died_on is None:
        return
    if person.relationship not in (_HEAD, *_SPOUSES):
        return
    for member in residents.get_household(session, person.household_id):
        if member.id == person_id:
            continue
        if person.relationship == _HEAD:
            # The spouse may have become the head when the deceased head left the household.
            was = {v.record.get("relationship") for v in residents.get_history(session, member.id)}
            is_spouse = bool((was | {member.relationship}) & set(_SPOUSES))
        else:
            is_spouse = member.relationship == _HEAD
        if not is_spouse:
            continue
        notifications.do_send_notice(
            session,
            member.id,
            notices.SURVIVOR_PENSION,
            {"name": person.full_name, "died_on": person.died_on},
            actor=ACTOR,
            link="/portal/",
            dedupe_key=f"death.survivor_pension.{person_id}",
        )
        return
