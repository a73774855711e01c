"""健康保険 (a health insurer): who is insured and eligible (資格), by agency code.

Provides ``eligibility`` (on a day, today by default); keeps the address on file up to date.
When the mesh tells it of a birth (its subscription to the register's births), it asks the
register's basic-four service for the child's birth date and address, insures the child from
the day of birth and sends the child's card details to the guardians' inbox through kiban's
inbox service on the mesh (:data:`GUARDIAN_NOTICE_SERVICE`).
"""

from __future__ import annotations

import logging
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
    get_record,
    new_row,
    require,
)
from kiban.agencies.errors import InvalidParameter
from kiban.agencies.models import InsurerMember
from kiban.blocks import mesh
from kiban.kernel import clock

log = logging.getLogger(__name__)

GUARDIAN_NOTICE_SERVICE: Final = "JP/GOV/kiban/inbox/guardian-notice"
"""kiban's inbox service on the mesh: a notice to a child's guardians (the birth life event
serves it and grants it to the insurer)."""
INSURER_NUMBER: Final = "01130012"  # A 協会けんぽ-style 8-digit insurer number.
CHILD_AGE: Final = 6
ELDER_AGE: Final = 70

ITEMS: Final = (
    "eligible",
    "insurer_number",
    "symbol",
    "number",
    "eligible_from",
    "eligible_until",
    "copay_percent",
)


def _copay(birth_date: date, today: date) -> int:
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    if age < CHILD_AGE:
        return 20
    return 20 if age >= ELDER_AGE else 30


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    del session
    today = clock.now().date()
    start = max(enrolment.birth_date, today - timedelta(days=rng.randint(30, 3650)))
    # About one in twenty has left the insurer (moved to another scheme) some months ago.
    until = today - timedelta(days=rng.randint(1, 300)) if rng.random() < 0.05 else None
    return [
        new_row(
            InsurerMember,
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            insurer_number=INSURER_NUMBER,
            symbol=f"{rng.randint(1, 9999_9999):08d}",
            number=str(rng.randint(1, 999)),
            eligible_from=start,
            eligible_until=until if until is None or until > start else start,
            copay_percent=_copay(enrolment.birth_date, today),
        )
    ]


def _on(params: Mapping[str, Any]) -> date:
    value = params.get("on")
    if value is None:
        return clock.now().date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidParameter("on") from None


def _eligibility(session: Session, agency_code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    row: InsurerMember = require(session, AGENCY, agency_code)
    on = _on(params)
    eligible = row.eligible_from <= on and (row.eligible_until is None or on <= row.eligible_until)
    return {
        "eligible": eligible,
        "insurer_number": row.insurer_number,
        "symbol": row.symbol,
        "number": row.number,
        "eligible_from": row.eligible_from.isoformat(),
        "eligible_until": row.eligible_until.isoformat() if row.eligible_until else None,
        "copay_percent": row.copay_percent,
    }


def _on_birth(session: Session, agency_code: str) -> None:
    """Insure the newborn from the day of birth and send the card to the guardians' inbox."""
    reply = mesh.call(
        session,
        client=AGENCY.subsystem,
        service=mesh.BASIC_FOUR_SERVICE,
        agency_code=agency_code,
        items=["birth_date", "address"],
    )
    reply.raise_for_error()
    if not isinstance(reply.body, dict):
        return
    born = date.fromisoformat(str(reply.body["birth_date"]))
    row = get_record(session, AGENCY, agency_code)
    if row is None:
        rng = random.Random(f"insurer:newborn:{agency_code}")  # noqa: S311 - synthetic data.
        row = InsurerMember(
            agency_code=agency_code,
            address=str(reply.body["address"]),
            insurer_number=INSURER_NUMBER,
            symbol=f"{rng.randint(1, 9999_9999):08d}",
            number=str(rng.randint(1, 999)),
            eligible_from=born,
            eligible_until=None,
            copay_percent=_copay(born, clock.now().date()),
        )
        session.add(row)
        session.flush()
    assert isinstance(row, InsurerMember)  # noqa: S101 - the agency's own model.
    card = {
        "kind": "health_insurance_card",
        "insurer": AGENCY.title,
        "insurer_number": row.insurer_number,
        "symbol": row.symbol,
        "number": row.number,
        "eligible_from": row.eligible_from.isoformat(),
        "copay_percent": row.copay_percent,
    }
    sent = mesh.call(
        session,
        client=AGENCY.subsystem,
        service=GUARDIAN_NOTICE_SERVICE,
        agency_code=agency_code,
        body=card,
        items=list(CARD_ITEMS),
    )
    if not sent.ok:
        # The card stands; the guardians learn of it when they ask (eligibility).
        log.warning("guardian notice refused: %s", sent.error or sent.status)


CARD_ITEMS: Final = ("insurer", "insurer_number", "symbol", "number", "eligible_from")


def _on_death(session: Session, agency_code: str) -> None:
    # Coverage ends on the day of death (資格喪失日 is the next day; 健康保険法第36条).
    row = get_record(session, AGENCY, agency_code)
    today = clock.now().date()
    if isinstance(row, InsurerMember) and (
        row.eligible_until is None or row.eligible_until > today
    ):
        row.eligible_until = max(today, row.eligible_from)
        session.flush()


AGENCY: Final = Agency(
    name="insurer",
    title="全国健康保険協会",
    member_class="GOV",
    member_code="KYOKAIKENPO",
    subsystem_code="insurer",
    model=InsurerMember,
    make=_make,
    services=(
        DataService(
            code="eligibility",
            items=ITEMS,
            answer=_eligibility,
            summary="Health insurance eligibility on a day (資格確認); parameter: on",
        ),
    ),
    on_birth=_on_birth,
    on_death=_on_death,
)
