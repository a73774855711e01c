"""Moving house (引越し): filed once, known everywhere.

The moving-out (転出届), moving-in (転入届) and moving-within (転居届) procedures as data
(:mod:`.definitions`), their notices (:mod:`.notices`), the moving packet between municipal
offices through the mesh (:mod:`.offices`) and the notice that a move revoked the signing
certificate (:mod:`.subscribers`). Importing this package registers the procedures, the
templates and the packet receiver.
"""

from __future__ import annotations

from kiban.life_events.moving import notices, offices
from kiban.life_events.moving.definitions import (
    CODES,
    MOVE_IN,
    MOVE_OUT,
    MOVE_WITHIN,
    mover_ids,
    offered_slots,
    office_name,
    place_destination,
    receive_packet,
    register,
    slot_value,
)
from kiban.life_events.moving.errors import (
    MovingDateInvalid,
    OtherMunicipality,
    PacketRefused,
    PacketUnknown,
    SameMunicipality,
    SlotInvalid,
)

__all__ = [
    "CODES",
    "MOVE_IN",
    "MOVE_OUT",
    "MOVE_WITHIN",
    "MovingDateInvalid",
    "OtherMunicipality",
    "PacketRefused",
    "PacketUnknown",
    "SameMunicipality",
    "SlotInvalid",
    "mover_ids",
    "notices",
    "offered_slots",
    "office_name",
    "offices",
    "place_destination",
    "receive_packet",
    "register",
    "slot_value",
]

register()
