"""Event topics and audit tags of the corporate registry."""

from __future__ import annotations

REGISTERED = "corporation.registered"

AUDIT_SOURCE = "corporations"
