"""税務署 (the tax office): income and deductions (所得・控除) by agency code and year.

Provides ``income``; keeps the address on file up to date from address changes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, DataService, Enrolment, require
from kiban.agencies.errors import InvalidParameter, UnknownPerson
from kiban.agencies.models import TaxIncome, TaxTaxpayer
from kiban.kernel import clock
from kiban.platform.db import Base

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


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[Base]:
    del session
    this_year = clock.now().year
    rows: list[Base] = [
        TaxTaxpayer(
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
            TaxIncome(
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
    ),
)
