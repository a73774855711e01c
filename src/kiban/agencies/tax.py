"""税務署 (the tax office): income and deductions (所得・控除) by agency code and year.

Provides ``income`` and ``resident-tax`` (whether the person is exempt from resident tax and
their income band, for income-tested benefits); keeps the address on file up to date from
address changes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, DataService, Enrolment, NewRow, new_row, require
from kiban.agencies.errors import InvalidParameter, UnknownPerson
from kiban.agencies.models import TaxIncome, TaxTaxpayer
from kiban.kernel import clock

BASIC_DEDUCTION_YEN: Final = 480_000
YEARS_ON_FILE: Final = 2
WORKING_AGE: Final = (18, 70)

ITEMS: Final = (
    "year",
    "salary_income_yen",
    "business_income_yen",
    "total_income_yen",
    "basic_deduction_yen",
    "social_insurance_deduction_yen",
    "dependants_deduction_yen",
    "taxable_income_yen",
)


RESIDENT_TAX_ITEMS: Final = ("year", "resident_tax_exempt", "income_band")
EXEMPT_LINE_YEN: Final = 450_000
"""Total income at or below which a single person owes no resident tax (均等割の非課税限度額,
simplified to the first-tier municipalities' line)."""
EXEMPT_PER_DEPENDANT_YEN: Final = 350_000
EXEMPT_WITH_DEPENDANTS_YEN: Final = 310_000
DEPENDANT_DEDUCTION_YEN: Final = 380_000
LOW_BAND_YEN: Final = 1_950_000
MIDDLE_BAND_YEN: Final = 6_950_000


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    del session
    this_year = clock.now().year
    rows: list[NewRow] = [
        new_row(
            TaxTaxpayer,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            tax_office=rng.choice(["麹町税務署", "神田税務署", "札幌中税務署", "左京税務署"]),
        )
    ]
    for year in range(this_year - YEARS_ON_FILE, this_year):
        age = year - enrolment.birth_date.year
        working = WORKING_AGE[0] <= age < WORKING_AGE[1]
        salary = rng.randrange(2_000_000, 9_000_000, 10_000) if working else 0
        business = rng.choice([0, 0, 0, rng.randrange(100_000, 3_000_000, 10_000)])
        rows.append(
            new_row(
                TaxIncome,
                agency_code=enrolment.agency_code,
                year=year,
                salary_income_yen=salary,
                business_income_yen=business,
                basic_deduction_yen=BASIC_DEDUCTION_YEN if salary + business else 0,
                social_insurance_deduction_yen=salary * 15 // 100,
                dependants_deduction_yen=rng.choice([0, 0, 380_000, 760_000]) if salary else 0,
            )
        )
    return rows


def _year(params: Mapping[str, Any]) -> int | None:
    value = params.get("year")
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameter("year") from None


def _income(session: Session, agency_code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    require(session, AGENCY, agency_code)
    year = _year(params)
    query = select(TaxIncome).where(TaxIncome.agency_code == agency_code)
    query = query.where(TaxIncome.year == year) if year is not None else query
    row = session.scalar(query.order_by(TaxIncome.year.desc()).limit(1))
    if row is None:
        raise UnknownPerson("year")
    total = row.salary_income_yen + row.business_income_yen
    deductions = (
        row.basic_deduction_yen + row.social_insurance_deduction_yen + row.dependants_deduction_yen
    )
    return {
        "year": row.year,
        "salary_income_yen": row.salary_income_yen,
        "business_income_yen": row.business_income_yen,
        "total_income_yen": total,
        "basic_deduction_yen": row.basic_deduction_yen,
        "social_insurance_deduction_yen": row.social_insurance_deduction_yen,
        "dependants_deduction_yen": row.dependants_deduction_yen,
        "taxable_income_yen": max(0, total - deductions),
    }


def exempt_line(dependants: int) -> int:
    """The total income at or below which a person with ``dependants`` owes no resident tax."""
    if dependants <= 0:
        return EXEMPT_LINE_YEN
    return EXEMPT_PER_DEPENDANT_YEN * (1 + dependants) + EXEMPT_WITH_DEPENDANTS_YEN


def income_band(total_income_yen: int, taxable_income_yen: int, dependants: int) -> str:
    """``exempt`` (no resident tax), then ``low``, ``middle`` or ``high`` by taxable income."""
    if total_income_yen <= exempt_line(dependants):
        return "exempt"
    if taxable_income_yen <= LOW_BAND_YEN:
        return "low"
    if taxable_income_yen <= MIDDLE_BAND_YEN:
        return "middle"
    return "high"


def _resident_tax(session: Session, agency_code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Whether the person is exempt from resident tax on a year's income, and the band.

    A person on file with no income for the year had none to declare: exempt.
    """
    require(session, AGENCY, agency_code)
    year = _year(params)
    try:
        income = _income(session, agency_code, params)
    except UnknownPerson:
        return {"year": year, "resident_tax_exempt": True, "income_band": "exempt"}
    dependants = income["dependants_deduction_yen"] // DEPENDANT_DEDUCTION_YEN
    band = income_band(income["total_income_yen"], income["taxable_income_yen"], dependants)
    return {"year": income["year"], "resident_tax_exempt": band == "exempt", "income_band": band}


AGENCY: Final = Agency(
    name="tax",
    title="税務署",
    member_class="GOV",
    member_code="NTA",
    subsystem_code="tax",
    model=TaxTaxpayer,
    make=_make,
    services=(
        DataService(
            code="income",
            items=ITEMS,
            answer=_income,
            summary="Income and deductions for a year (所得・控除); parameter: year",
        ),
        DataService(
            code="resident-tax",
            items=RESIDENT_TAX_ITEMS,
            answer=_resident_tax,
            summary="Resident-tax exemption and income band for a year (住民税の課税状況); "
            "parameter: year",
        ),
    ),
)
