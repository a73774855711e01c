"""日本年金機構 (the pension service): pension records (年金記録) by agency code.

Provides ``pension-record``; keeps the address on file up to date from address changes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies.agency import (
    Agency,
    DataService,
    Enrolment,
    NewRow,
    fresh_digits,
    get_record,
    new_row,
    require,
)
from kiban.agencies.models import PensionRecord
from kiban.kernel import clock

# The full old-age basic pension for 480 months of contributions (令和8年度, per year).
FULL_BASIC_PENSION_YEN: Final = 847_300
FULL_MONTHS: Final = 480
ENROLMENT_AGE: Final = 20

ITEMS: Final = (
    "pension_number",
    "category",
    "enrolled_on",
    "contribution_months",
    "exempt_months",
    "expected_annual_benefit_yen",
    "stopped_on",
)


def _months_between(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    today = clock.now().date()
    born = enrolment.birth_date
    enrolled_on = date(born.year + ENROLMENT_AGE, born.month, 1)
    if enrolled_on > today:  # Nobody is insured before twenty.
        return []
    months = min(FULL_MONTHS, _months_between(enrolled_on, today))
    exempt = rng.randint(0, months // 10) if months else 0
    paid = months - exempt
    number = fresh_digits(
        session,
        rng,
        PensionRecord.pension_number,
        lambda r: f"{r.randint(1000, 9999)}{r.randint(0, 999_999):06d}",
    )
    return [
        new_row(
            PensionRecord,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            pension_number=number,
            category=rng.choices(["1", "2", "3"], weights=[25, 60, 15])[0],
            enrolled_on=enrolled_on,
            contribution_months=paid,
            exempt_months=exempt,
            # Exempt months count for half (the state's share of the basic pension).
            expected_annual_benefit_yen=FULL_BASIC_PENSION_YEN
            * (paid + exempt // 2)
            // FULL_MONTHS,
        )
    ]


def _record(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: PensionRecord = require(session, AGENCY, agency_code)
    return {
        "pension_number": row.pension_number,
        "category": row.category,
        "enrolled_on": row.enrolled_on.isoformat(),
        "contribution_months": row.contribution_months,
        "exempt_months": row.exempt_months,
        "expected_annual_benefit_yen": row.expected_annual_benefit_yen,
        "stopped_on": row.stopped_on.isoformat() if row.stopped_on else None,
    }


def _on_death(session: Session, agency_code: str) -> None:
    # The right to a pension ends with its holder's death (国民年金法第29条); payments stop
    # from the month after. The survivor's claim is the bereaved's to make (see the death
    # life event's notice to the spouse).
    row = get_record(session, AGENCY, agency_code)
    if isinstance(row, PensionRecord) and row.stopped_on is None:
        row.stopped_on = clock.now().date()
        session.flush()


AGENCY: Final = Agency(
    name="pension",
    title="日本年金機構",
    member_class="GOV",
    member_code="NENKIN",
    subsystem_code="pension",
    model=PensionRecord,
    make=_make,
    services=(
        DataService(
            code="pension-record",
            items=ITEMS,
            answer=_record,
            summary="A person's pension record (年金記録)",
        ),
    ),
    on_death=_on_death,
)
