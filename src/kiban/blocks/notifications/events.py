"""Event topics and audit tags of the notifications block."""

from __future__ import annotations

from typing import Final

# Outbox topics (payloads carry ids and the template code only, never the text).
NOTICE_SENT: Final = "notifications.notice_sent"
NOTICE_READ: Final = "notifications.notice_read"

# Audit tags, ``source:subject:action``.
AUDIT_SENT: Final = "notifications:notice:sent"
AUDIT_READ: Final = "notifications:notice:read"
