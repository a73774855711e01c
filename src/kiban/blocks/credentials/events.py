"""Event topics and audit tags of the credentials block.

Events carry the credential's id, its type and the internal person id, never a claim value.
"""

from __future__ import annotations

ISSUED = "credentials.issued"
REVOKED = "credentials.revoked"
SUSPENDED = "credentials.suspended"
REINSTATED = "credentials.reinstated"

AUDIT_ISSUED = "credentials:credential:issued"
AUDIT_REVOKED = "credentials:credential:revoked"
AUDIT_RP_REGISTERED = "credentials:relying_party:registered"
AUDIT_REQUEST_CREATED = "credentials:presentation_request:created"
AUDIT_PRESENTATION_VERIFIED = "credentials:presentation:verified"
AUDIT_PRESENTATION_REFUSED = "credentials:presentation:refused"
AUDIT_SUSPENDED = "credentials:credential:suspended"
AUDIT_REINSTATED = "credentials:credential:reinstated"
