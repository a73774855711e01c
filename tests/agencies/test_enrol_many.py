"""Bulk enrolment (``enrol_many``) makes the rows one-by-one enrolment makes: the same values,
unique numbers drawn again where they are taken, written by COPY on PostgreSQL."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import models
from kiban.agencies.agency import NewRow, enrol_many, fresh_digits, new_row
from kiban.blocks import residents
from kiban.platform.db import Base


def _code(n: int) -> str:
    return hashlib.sha256(f"many:{n}".encode()).hexdigest()[:32]


PEOPLE = [
    agencies.Enrolment(
        _code(n), date(1950 + n % 50, 1 + n % 12, 1 + n % 28), f"大阪府大阪市北区{n}番"
    )
    for n in range(60)
]
SKIPPED = {"id", "created_at", "updated_at"}


def _rows(session: Session, model: type[Base]) -> dict[Any, Any]:
    table = model.__table__
    found = session.execute(select(table)).mappings()
    return {
        (row["agency_code"], row.get("year")): {k: v for k, v in row.items() if k not in SKIPPED}
        for row in found
    }


def _both_ways(
    session: Session, agency: agencies.Agency, people: Sequence[agencies.Enrolment]
) -> tuple[int, list[dict[Any, Any]], int, list[dict[Any, Any]]]:
    tables = [agency.model] + ([models.TaxIncome] if agency.name == "tax" else [])
    with session.begin_nested() as savepoint:
        one_by_one = sum(agencies.enrol(session, agency, [p], seed=7) for p in people)
        single = [_rows(session, table) for table in tables]
        savepoint.rollback()
    many = enrol_many(session, agency, people, seed=7)
    return one_by_one, single, many, [_rows(session, table) for table in tables]


def test_enrol_many_makes_the_rows_of_one_by_one_enrolment(session: Session) -> None:
    for name in ("pension", "tax", "insurer", "licence"):
        agency = agencies.get_agency(name)
        one_by_one, single, many, bulk = _both_ways(session, agency, PEOPLE)
        assert many == one_by_one > 0
        assert bulk == single
    # Enrolling again makes nothing: the codes are known.
    assert enrol_many(session, agencies.get_agency("pension"), PEOPLE, seed=7) == 0


def test_a_number_already_taken_is_drawn_again(session: Session) -> None:
    pension = agencies.get_agency("pension")
    first = PEOPLE[-1]  # An adult.
    with session.begin_nested() as savepoint:
        agencies.enrol(session, pension, [first], seed=7)
        number = session.scalar(
            select(models.PensionRecord.pension_number).where(
                models.PensionRecord.agency_code == first.agency_code
            )
        )
        savepoint.rollback()
    # Someone else holds that number already.
    agencies.enrol(session, pension, [replace(first, agency_code=_code(1000))], seed=7)
    session.execute(
        models.PensionRecord.__table__.update()
        .where(models.PensionRecord.agency_code == _code(1000))
        .values(pension_number=number)
    )
    assert enrol_many(session, pension, [first], seed=7) == 1
    drawn = session.scalar(
        select(models.PensionRecord.pension_number).where(
            models.PensionRecord.agency_code == first.agency_code
        )
    )
    assert drawn is not None
    assert drawn != number


def _few_numbers(
    session: Session, rng: random.Random, enrolment: agencies.Enrolment
) -> list[NewRow]:
    # Numbers from a space of five, so that people of one batch draw the same one.
    number = fresh_digits(
        session, rng, models.PensionRecord.pension_number, lambda r: f"{r.randint(1, 5):010d}"
    )
    return [
        new_row(
            models.PensionRecord,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            pension_number=number,
            category="1",
            enrolled_on=date(2000, 1, 1),
            contribution_months=1,
            exempt_months=0,
            expected_annual_benefit_yen=1,
        )
    ]


def test_numbers_drawn_twice_in_one_batch_are_drawn_again_as_one_by_one(session: Session) -> None:
    crowded = replace(agencies.get_agency("pension"), name="crowded", make=_few_numbers)
    people = PEOPLE[:5]
    one_by_one, single, many, bulk = _both_ways(session, crowded, people)
    assert many == one_by_one == 5
    assert bulk == single
    numbers = [row["pension_number"] for row in bulk[0].values()]
    assert sorted(numbers) == [f"{n:010d}" for n in range(1, 6)]


def test_the_register_lists_everyones_id_for_bulk_jobs(session: Session) -> None:
    residents.seed_population(session, size="tiny", seed=3)
    people = residents.list_people(session, limit=1000)
    assert sorted(residents.list_person_ids(session)) == sorted(p.id for p in people)
    facts = residents.get_basic_four(session, [p.id for p in people[:5]])
    for person in people[:5]:
        assert facts[person.id].address == person.address.text
        assert facts[person.id].name == person.full_name
        assert facts[person.id].birth_date == person.birth_date
