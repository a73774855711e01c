"""Event topics and audit tags of the qualifications block.

Events carry the registration's id, the qualification code and the internal person id, never
a name, a registration number or a My Number.
"""

from __future__ import annotations

REGISTERED = "qualifications.registered"
RENEWED = "qualifications.renewed"
SUSPENDED = "qualifications.suspended"
REINSTATED = "qualifications.reinstated"
REVOKED = "qualifications.revoked"

AUDIT_REGISTERED = "qualifications:holder:registered"
AUDIT_RENEWED = "qualifications:holder:renewed"
AUDIT_SUSPENDED = "qualifications:holder:suspended"
AUDIT_REINSTATED = "qualifications:holder:reinstated"
AUDIT_REVOKED = "qualifications:holder:revoked"
AUDIT_SEARCHED = "qualifications:register:searched"
