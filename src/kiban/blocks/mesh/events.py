"""Event topics and audit tags of the mesh core.

Events name members, subsystems and services by their X-Road ids; they never carry a person.
"""

from __future__ import annotations

MEMBER_REGISTERED = "mesh.member_registered"
SUBSYSTEM_REGISTERED = "mesh.subsystem_registered"
SERVICE_REGISTERED = "mesh.service_registered"
SERVICE_ENABLED = "mesh.service_enabled"
GRANT_CREATED = "mesh.grant_created"
SUBSCRIPTION_CREATED = "mesh.subscription_created"

AUDIT_SOURCE = "mesh"
