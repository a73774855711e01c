"""Moving house (引越し): filed once, known everywhere.

The moving-out (転出届), moving-in (転入届) and moving-within (転居届) procedures as data
(:mod:`.definitions`), their notices (:mod:`.notices`), the moving packet between municipal
offices through the mesh (:mod:`.offices`) and the notice that a move revoked the signing
certificate (:mod:`.subscribers`). Importing this package registers the procedures, the
templates and the packet receiver.

Error codes (besides the procedures engine's, the register's and the address registry's):
``moving.same_municipality`` and ``moving.other_municipality`` (422, field ``destination``: the
wrong one of 転出届 and 転居届), ``moving.date_invalid`` (422, ``moved_on``: more than 14 days
from today), ``moving.slot_invalid`` (422, ``slot``), ``moving.not_resident`` (409: a mover has
already moved out; the move-in comes first), ``moving.packet_unknown`` (404, the new
office's answer to a packet citing no moving-out notice of that person) and
``moving.packet_refused`` (409: the new office did not take the packet, so nothing is
accepted).
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
    NotResident,
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
    "NotResident",
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
