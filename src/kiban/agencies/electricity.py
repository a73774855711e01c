"""An electricity company (a company member of the mesh): supply contracts, by agency code.

Provides ``contract``; with the customer's consent it receives address changes, which move the
contract to the new address (転居に伴う電気の使用開始).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies.agency import (
    Agency,
    DataService,
    Enrolment,
    NewRow,
    fresh_digits,
    new_row,
    require,
)
from kiban.agencies.models import ElectricityContract

AREA: Final = "03"  # The supply area that opens the 22-digit supply point number (Tokyo).

ITEMS: Final = ("plan", "contract_amperes", "supply_point_number", "address")


def _supply_point(rng: random.Random) -> str:
    return f"{AREA}{rng.randint(0, 10**20 - 1):020d}"


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    if rng.random() < 0.4:
        return []
    return [
        new_row(
            ElectricityContract,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            supply_point_number=fresh_digits(
                session, rng, ElectricityContract.supply_point_number, _supply_point
            ),
            plan=rng.choice(["従量電灯B", "従量電灯C", "スマートライフ"]),
            contract_amperes=rng.choice([20, 30, 40, 50, 60]),
        )
    ]


def _contract(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: ElectricityContract = require(session, AGENCY, agency_code)
    return {
        "plan": row.plan,
        "contract_amperes": row.contract_amperes,
        "supply_point_number": row.supply_point_number,
        "address": row.address,
    }


AGENCY: Final = Agency(
    name="electricity",
    title="きばん電力",
    member_class="COM",
    member_code="KIBAN-DENRYOKU",
    subsystem_code="contracts",
    model=ElectricityContract,
    make=_make,
    services=(
        DataService(
            code="contract",
            items=ITEMS,
            answer=_contract,
            summary="The electricity supply contract (電気需給契約)",
        ),
    ),
)
