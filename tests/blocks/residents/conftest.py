"""Fixtures for the resident register: a registry with two real municipalities and a family."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address, residents

CHIYODA = "131016"
SAPPORO_CHUO = "011011"
OFFICIAL = "official:test"


@pytest.fixture
def towns(session: Session) -> dict[str, address.TownRead]:
    """Two towns in Chiyoda and one in Sapporo's Chūō ward, from the real registry data."""
    address.load_registry(session, lg_codes=[CHIYODA, SAPPORO_CHUO])
    session.commit()
    return {
        "marunouchi": address.find_town(session, CHIYODA, "丸の内"),
        "kudan": address.find_town(session, CHIYODA, "九段北"),
        "odori": address.find_town(session, SAPPORO_CHUO, "大通西"),
    }


def person_create(
    town: address.TownRead,
    *,
    household: uuid.UUID | None = None,
    relationship: str = "世帯主",
    given: tuple[str, str] = ("太郎", "タロウ"),
    sex: residents.Sex = residents.Sex.MALE,
    birth_date: date = date(1980, 5, 17),
) -> residents.PersonCreate:
    return residents.PersonCreate(
        family_name="山田",
        given_name=given[0],
        family_name_kana="ヤマダ",
        given_name_kana=given[1],
        birth_date=birth_date,
        sex=sex,
        address=residents.AddressInput(
            town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
        ),
        household=residents.HouseholdChoice(household_id=household, relationship=relationship),
        effective_on=date(2020, 4, 1),
    )


@pytest.fixture
def family(session: Session, towns: dict[str, address.TownRead]) -> dict[str, residents.PersonRead]:
    """A head of household, the spouse and a child in 丸の内."""
    head = residents.register_person(session, person_create(towns["marunouchi"]), actor=OFFICIAL)
    spouse = residents.register_person(
        session,
        person_create(
            towns["marunouchi"],
            household=head.household_id,
            relationship="妻",
            given=("花子", "ハナコ"),
            sex=residents.Sex.FEMALE,
            birth_date=date(1982, 2, 3),
        ),
        actor=OFFICIAL,
    )
    child = residents.register_birth(
        session,
        residents.BirthCreate(
            family_name="山田",
            given_name="一郎",
            family_name_kana="ヤマダ",
            given_name_kana="イチロウ",
            birth_date=date(2015, 7, 1),
            sex=residents.Sex.MALE,
            parent_id=spouse.id,
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return {"head": head, "spouse": spouse, "child": child}
