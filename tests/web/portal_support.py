"""Signing a resident in to the portal in tests without the card: the same server-side session
the card sign-in starts (kiban.web.portal.session.open_resident_session)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from kiban.platform.db import transaction
from kiban.web.portal.session import RESIDENT_COOKIE, open_resident_session

__all__ = ["RESIDENT_COOKIE", "resident_cookie"]


def resident_cookie(
    engine: Engine | None, person_id: uuid.UUID, *, user_agent: str = "testclient"
) -> str:
    """The cookie value of a new portal session of ``person_id`` (committed)."""
    with transaction(engine) as db:
        cookie, _ = open_resident_session(db, person_id, user_agent=user_agent)
    return cookie
