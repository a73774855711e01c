"""A small country for the benefits tests: four households in 千代田区 with known ages and
known incomes at the tax office (set on the tax office's own rows after enrolment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import wiring
from kiban.agencies.models import TaxIncome
from kiban.blocks import address, benefits, mesh, residents

CHIYODA = "131016"
OFFICIAL = "official:test"
BASE = date(2026, 12, 1)


@dataclass(frozen=True)
class Country:
    """The people of the small country, by role."""

    family_head: residents.PersonRead
    family: list[residents.PersonRead]
    elder: residents.PersonRead
    elder_couple: list[residents.PersonRead]
    late_arrival: residents.PersonRead

    @property
    def everyone(self) -> list[residents.PersonRead]:
        return [*self.family, self.elder, *self.elder_couple, self.late_arrival]


def _register(
    session: Session,
    town: address.TownRead,
    birth: date,
    *,
    given: str,
    head: residents.PersonRead | None = None,
    relationship: str = "世帯主",
    since: date = date(2020, 4, 1),
) -> residents.PersonRead:
    return residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name=given,
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
            birth_date=birth,
            sex=residents.Sex.MALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
            ),
            household=residents.HouseholdChoice(
                household_id=head.household_id if head else None, relationship=relationship
            ),
            effective_on=max(since, birth),
        ),
        actor=OFFICIAL,
    )


def _set_income(session: Session, person: residents.PersonRead, salary: int) -> None:
    tax = agencies.get_agency("tax")
    code = mesh.agency_code(session, tax.subsystem, person.id)
    session.execute(
        update(TaxIncome)
        .where(TaxIncome.agency_code == code)
        .values(
            salary_income_yen=salary,
            business_income_yen=0,
            social_insurance_deduction_yen=salary * 15 // 100,
            dependants_deduction_yen=0,
        )
    )


@pytest.fixture
def country(session: Session) -> Country:
    """The 山田 family (two adults, children of 11 and 1), an elder living alone, an elderly
    couple, and a newcomer who arrived after the base date; the family's head earns a salary,
    the elders have no income."""
    address.load_registry(session, lg_codes=[CHIYODA])
    town = address.find_town(session, CHIYODA, "丸の内")
    head = _register(session, town, date(1980, 1, 1), given="太郎")
    family = [
        head,
        _register(session, town, date(1982, 1, 1), given="花子", head=head, relationship="妻"),
        _register(session, town, date(2015, 5, 1), given="一郎", head=head, relationship="子"),
        _register(session, town, date(2025, 5, 1), given="次郎", head=head, relationship="子"),
    ]
    elder = _register(session, town, date(1940, 3, 3), given="松")
    husband = _register(session, town, date(1942, 6, 6), given="竹")
    couple = [
        husband,
        _register(session, town, date(1944, 9, 9), given="梅", head=husband, relationship="妻"),
    ]
    late = _register(session, town, date(1990, 1, 1), given="新", since=date(2026, 12, 5))
    wiring.register_reference_agencies(session)
    people = [*family, elder, *couple, late]
    wiring.enrol_through_mesh(session, [p.id for p in people], seed=1)
    for person in people:
        _set_income(session, person, 5_000_000 if person.id == head.id else 0)
    for programme in benefits.SHIPPED:
        benefits.do_define_programme(session, programme, actor=OFFICIAL)
    session.commit()
    return Country(head, family, elder, couple, late)
