"""Moving house (引越し): filed once, known everywhere.

The moving-out (転出届), moving-in (転入届) and moving-within (転居届) procedures as data
(:mod:`.definitions`), their notices (:mod:`.notices`), the moving packet between municipal
offices through the mesh (:mod:`.offices`) and the notice that a move revoked the signing
certificate (:mod:`.subscribers`). Importing this package registers the procedures, the
templates and the packet receiver.

Error codes (besides the procedures engine's, the register's and the address registry's):
``moving.same_municipality`` and ``moving.other_municipality`` (422, field ``destination``: the
wrong one of 転出届 and 転居届), ``moving.date_invalid`` (422, ``moved_on``: more than 14 days
from today), ``moving.slot_invalid`` (422, ``slot``: slots start on the moving date, on the
new office's opening days), ``moving.move_in_too_early`` (409, ``moved_in_on``: the move-in is
neither taken up nor completed before the moving date), ``moving.move_in_date_invalid`` (422,
``moved_in_on``: the day the resident states they moved in lies between the moving date and
today), ``moving.not_resident`` (409: a mover has
already moved out; the move-in comes first), ``moving.packet_unknown`` (404, the new
office's answer to a packet citing no moving-out notice of that person) and
``moving.packet_refused`` (409: the new office did not take the packet, so nothing is
accepted).
"""

from __future__ import annotations

from kiban.life_events.filing import office_name
from kiban.life_events.moving import notices, offices
from kiban.life_events.moving.definitions import (
    CODES,
    MOVE_IN,
    MOVE_OUT,
    MOVE_WITHIN,
    NOTICE_DAYS,
    check_move_in_ready,
    move_in_deadline,
    moved_out_on,
    mover_ids,
    offered_slots,
    office_visit,
    place_destination,
    receive_packet,
    register,
    slot_value,
)
from kiban.life_events.moving.errors import (
    MoveInDateInvalid,
    MoveInTooEarly,
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
    "NOTICE_DAYS",
    "MoveInDateInvalid",
    "MoveInTooEarly",
    "MovingDateInvalid",
    "NotResident",
    "OtherMunicipality",
    "PacketRefused",
    "PacketUnknown",
    "SameMunicipality",
    "SlotInvalid",
    "check_move_in_ready",
    "move_in_deadline",
    "moved_out_on",
    "mover_ids",
    "notices",
    "offered_slots",
    "office_name",
    "office_visit",
    "offices",
    "place_destination",
    "receive_packet",
    "register",
    "slot_value",
]

register()
