"""Event topics and audit tags of the procedures block.

Every journalled action emits ``procedures.application_<action>`` through the outbox and writes
an audit entry ``procedures:application:<action>``. Events carry ids, never personal data.
"""

from __future__ import annotations

AUDIT_SOURCE = "procedures"
TOPIC_PREFIX = "procedures.application_"


def topic(action: str) -> str:
    """The outbox topic of ``action`` (``procedures.application_submit`` …)."""
    return f"{TOPIC_PREFIX}{action}"


def audit_tag(action: str) -> str:
    """The audit tag of ``action`` (``procedures:application:submit`` …)."""
    return f"{AUDIT_SOURCE}:application:{action}"
