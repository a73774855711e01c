"""Event topics and audit tags of the resident register.

Events carry the internal person id, never the individual number.
"""

from __future__ import annotations

REGISTERED = "resident.registered"
MOVED_OUT = "resident.moved_out"
MOVED_IN = "resident.moved_in"
ADDRESS_CHANGED = "resident.address_changed"
NAME_CHANGED = "resident.name_changed"
DIED = "resident.died"

AUDIT_SOURCE = "residents"
