"""運転免許 (the driving-licence office): licence status and the address on the licence.

Provides ``licence-status``; an address change updates the address on the licence (記載事項変更).
Adults only: people under 18 are enrolled without a licence row and are unknown to the office.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
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
from kiban.agencies.models import LicenceHolder
from kiban.kernel import clock

DRIVING_AGE: Final = 18
TOKYO_COMMISSION: Final = "30"  # The public safety commission code that opens the number.

ITEMS: Final = ("status", "licence_number", "colour", "categories", "expires_on", "address")


def _number(rng: random.Random) -> str:
    year = rng.randint(0, 99)
    return f"{TOKYO_COMMISSION}{year:02d}{rng.randint(0, 999_999):06d}{rng.randint(0, 9)}0"


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    today = clock.now().date()
    age = today.year - enrolment.birth_date.year
    if age < DRIVING_AGE or rng.random() < 0.25:
        return []
    issued = today - timedelta(days=rng.randint(0, 5 * 365))
    expires = date(issued.year + 5, enrolment.birth_date.month, 1) + timedelta(days=30)
    status = "valid" if expires >= today else "expired"
    if status == "valid" and rng.random() < 0.02:
        status = "suspended"
    return [
        new_row(
            LicenceHolder,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            licence_number=fresh_digits(session, rng, LicenceHolder.licence_number, _number),
            status=status,
            categories=rng.choice([["普通"], ["普通", "普自二"], ["中型", "普通"], ["準中型"]]),
            colour=rng.choice(["gold", "gold", "blue", "green"]),
            issued_on=issued,
            expires_on=expires,
        )
    ]


def _status(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: LicenceHolder = require(session, AGENCY, agency_code)
    return {
        "status": row.status,
        "licence_number": row.licence_number,
        "colour": row.colour,
        "categories": list(row.categories),
        "expires_on": row.expires_on.isoformat(),
        "address": row.address,
    }


def _on_death(session: Session, agency_code: str) -> None:
    # A licence ends with its holder's death (失効); the record stays for the office's files.
    row = get_record(session, AGENCY, agency_code)
    if isinstance(row, LicenceHolder) and row.status != "revoked":
        row.status = "revoked"
        session.flush()


AGENCY: Final = Agency(
    name="licence",
    title="警視庁運転免許本部",
    member_class="GOV",
    member_code="MPD-LICENCE",
    subsystem_code="licence",
    model=LicenceHolder,
    make=_make,
    services=(
        DataService(
            code="licence-status",
            items=ITEMS,
            answer=_status,
            summary="Driving licence status and the address on it (運転免許)",
        ),
    ),
    on_death=_on_death,
)
