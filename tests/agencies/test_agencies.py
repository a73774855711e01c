"""The reference agencies on their own: enrolment, data services, address changes, keys."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import models
from kiban.kernel import identifiers


def _code(n: int) -> str:
    # Agency codes look like the mesh's (lower-case base32); these are made up for the test.
    return hashlib.sha256(str(n).encode()).hexdigest()[:32]


ADULTS = [
    agencies.Enrolment(
        _code(n), date(1960 + n % 40, 1 + n % 12, 1 + n % 28), f"東京都千代田区{n}番"
    )
    for n in range(40)
]
CHILD = agencies.Enrolment(_code(999), date(2023, 6, 1), "東京都千代田区隼町1番")


def _enrol_everyone(session: Session, seed: int = 1) -> None:
    for agency in agencies.AGENCIES.values():
        agencies.enrol(session, agency, [*ADULTS, CHILD], seed=seed)
    session.commit()


def test_every_agency_table_is_keyed_by_the_agency_code_only(session: Session) -> None:
    meta = MetaData()
    meta.reflect(session.get_bind())
    tables = [t for t in meta.sorted_tables if t.name.startswith("agencies_")]
    assert {t.name for t in tables} == {
        "agencies_pension_records",
        "agencies_tax_taxpayers",
        "agencies_tax_incomes",
        "agencies_insurer_members",
        "agencies_licence_holders",
        "agencies_bank_accounts",
        "agencies_electricity_contracts",
        "agencies_hospital_patients",
        "agencies_hospital_births",
        "agencies_physician_certificates",
    }
    for table in tables:
        columns = set(table.columns.keys())
        assert "agency_code" in columns
        assert not columns & {"person_id", "individual_number", "my_number"}, table.name
        assert not table.foreign_keys, table.name
    uniques = inspect(session.get_bind()).get_unique_constraints("agencies_pension_records")
    assert ["agency_code"] in [u["column_names"] for u in uniques]


def test_enrolment_is_deterministic_idempotent_and_by_code(session: Session) -> None:
    _enrol_everyone(session)
    pension = agencies.get_agency("pension")
    first = agencies.provide(
        session, pension, "pension-record", ADULTS[3].agency_code, ["pension_number"]
    )
    # Enrolling again changes nothing.
    for agency in agencies.AGENCIES.values():
        assert agencies.enrol(session, agency, ADULTS, seed=1) == 0
    assert session.scalar(select(func.count()).select_from(models.PensionRecord)) == len(ADULTS)
    # Each record depends on the seed and the code, not on the order of enrolment.
    session.query(models.PensionRecord).delete()
    agencies.enrol(session, pension, list(reversed(ADULTS)), seed=1)
    again = agencies.provide(
        session, pension, "pension-record", ADULTS[3].agency_code, ["pension_number"]
    )
    assert again == first
    # Another seed, another country.
    session.query(models.PensionRecord).delete()
    agencies.enrol(session, pension, ADULTS, seed=2)
    other = agencies.provide(
        session, pension, "pension-record", ADULTS[3].agency_code, ["pension_number"]
    )
    assert other != first
    session.rollback()


def test_children_are_unknown_to_the_adults_only_agencies(session: Session) -> None:
    _enrol_everyone(session)
    for name in ("pension", "licence", "bank"):
        assert agencies.get_record(session, agencies.get_agency(name), CHILD.agency_code) is None
    insurer = agencies.get_agency("insurer")
    answer = agencies.provide(
        session, insurer, "eligibility", CHILD.agency_code, ["eligible", "copay_percent"]
    )
    assert answer == {"eligible": True, "copay_percent": 20}


def test_each_service_answers_exactly_the_requested_items(session: Session) -> None:
    _enrol_everyone(session)
    for agency in agencies.AGENCIES.values():
        for service in agency.services:
            known = [
                e.agency_code
                for e in ADULTS
                if agencies.get_record(session, agency, e.agency_code) is not None
            ]
            assert known, agency.name
            answer = agencies.provide(session, agency, service.code, known[0], list(service.items))
            assert list(answer) == list(service.items)
            one = agencies.provide(session, agency, service.code, known[0], [service.items[0]])
            assert one == {service.items[0]: answer[service.items[0]]}


def test_tax_income_by_year_and_the_taxable_income(session: Session) -> None:
    _enrol_everyone(session)
    tax = agencies.get_agency("tax")
    code = ADULTS[5].agency_code
    latest = agencies.provide(session, tax, "income", code, list(tax.services[0].items))
    earlier = agencies.provide(
        session, tax, "income", code, ["year"], params={"year": latest["year"] - 1}
    )
    assert earlier == {"year": latest["year"] - 1}
    deductions = (
        latest["basic_deduction_yen"]
        + latest["social_insurance_deduction_yen"]
        + latest["dependants_deduction_yen"]
    )
    assert latest["taxable_income_yen"] == max(0, latest["total_income_yen"] - deductions)
    with pytest.raises(agencies.InvalidParameter) as bad:
        agencies.provide(session, tax, "income", code, ["year"], params={"year": "last"})
    assert bad.value.field == "year"
    with pytest.raises(agencies.UnknownPerson):
        agencies.provide(session, tax, "income", code, ["year"], params={"year": 1900})


def test_errors_name_what_is_wrong(session: Session) -> None:
    _enrol_everyone(session)
    pension = agencies.get_agency("pension")
    with pytest.raises(agencies.UnknownPerson) as unknown:
        agencies.provide(session, pension, "pension-record", _code(12345), ["category"])
    assert (unknown.value.code, unknown.value.status) == ("agencies.unknown_person", 404)
    with pytest.raises(agencies.UnknownItems) as items:
        agencies.provide(
            session, pension, "pension-record", ADULTS[0].agency_code, ["category", "salary"]
        )
    assert items.value.status == 422
    assert "salary" in items.value.message_en
    with pytest.raises(agencies.UnknownService):
        agencies.provide(session, pension, "income", ADULTS[0].agency_code, ["category"])


def test_an_address_change_updates_the_address_on_file_once(session: Session) -> None:
    _enrol_everyone(session)
    licence = agencies.get_agency("licence")
    holder = next(
        e for e in ADULTS if agencies.get_record(session, licence, e.agency_code) is not None
    )
    new = "東京都千代田区神田須田町二丁目3番4号"
    assert agencies.change_address(session, licence, holder.agency_code, new, on=date(2026, 5, 1))
    assert agencies.change_address(session, licence, holder.agency_code, new, on=date(2026, 6, 1))
    row = agencies.get_record(session, licence, holder.agency_code)
    assert row is not None
    assert (row.address, row.address_changed_on) == (new, date(2026, 5, 1))
    status = agencies.provide(session, licence, "licence-status", holder.agency_code, ["address"])
    assert status == {"address": new}
    assert not agencies.change_address(session, licence, _code(777), new)


def test_agency_numbers_are_never_taken_for_individual_numbers(session: Session) -> None:
    _enrol_everyone(session)
    numbers = session.scalars(select(models.LicenceHolder.licence_number)).all()
    assert numbers
    assert all(len(n) == 12 and not identifiers.is_valid_my_number(n) for n in numbers)
