"""The birth life event in every kiban process: its procedure and receivers registered, and
kiban's guardian-notice service served (the insurer calls it while a worker delivers the
register's births). ``events.load_subscribers()`` imports this module."""

from __future__ import annotations

from kiban.life_events import birth

birth.offices.serve_guardian_notice()
