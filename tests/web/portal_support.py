"""Signing a resident in to the portal in tests without the card: the same server-side session
the card sign-in starts (kiban.web.portal.session.open_resident_session)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.platform.db import transaction
from kiban.web.portal.session import RESIDENT_COOKIE, open_resident_session

__all__ = ["RESIDENT_COOKIE", "register", "resident_cookie"]


def resident_cookie(
    engine: Engine | None, person_id: uuid.UUID, *, user_agent: str = "testclient"
) -> str:
    """The cookie value of a new portal session of ``person_id`` (committed)."""
    with transaction(engine) as db:
        cookie, _ = open_resident_session(db, person_id, user_agent=user_agent)
    return cookie


def register(session: Session) -> residents.PersonRead:
    """A resident of Chiyoda (鈴木一郎), committed."""
    address.load_registry(session, lg_codes=["131016"])
    town = address.find_town(session, "131016", "丸の内")
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="鈴木",
            given_name="一郎",
            family_name_kana="スズキ",
            given_name_kana="イチロウ",
            birth_date=date(1975, 5, 6),
            sex=residents.Sex.MALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="3番4号"
            ),
            household=residents.HouseholdChoice(household_id=None, relationship="世帯主"),
            effective_on=date(2019, 4, 1),
        ),
        actor="official:test",
    )
    session.commit()
    return person
