"""The benefits block's reaction to the register: a death stops the deceased's benefits from
the next period and holds what was owed to them (:mod:`.deaths`). Idempotent."""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.benefits.deaths import do_stop_for_death
from kiban.platform import events

ACTOR: Final = "system:benefits"


@events.subscriber(residents.DIED, consumer="benefits.stop_on_death")
def on_died(session: Session, event: events.Event) -> None:
    """Stop and hold the deceased's benefits and payments."""
    person = residents.get_person(session, uuid.UUID(str(event.payload["person_id"])))
    if person.died_on is None:
        return
    do_stop_for_death(session, person.id, person.died_on, actor=ACTOR)
