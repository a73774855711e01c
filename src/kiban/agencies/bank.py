"""A bank (a company member of the mesh): customers' accounts, by agency code.

Provides ``account`` (for example to confirm a public-fund receipt account) and, with the
customer's consent, receives address changes for its customer records.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, DataService, Enrolment, require
from kiban.agencies.models import BankAccount
from kiban.kernel import clock
from kiban.platform.db import Base

ACCOUNT_AGE: Final = 15

ITEMS: Final = ("bank_code", "branch_code", "account_type", "account_number")
BANK_CODE: Final = "0999"  # A code outside the range real banks use.


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[Base]:
    del session
    too_young = clock.now().year - enrolment.birth_date.year < ACCOUNT_AGE
    if too_young or rng.random() < 0.3:
        return []
    return [
        BankAccount(
            agency_code=enrolment.agency_code,
            address=enrolment.address,
            branch_code=f"{rng.randint(1, 999):03d}",
            account_type="ordinary",
            account_number=f"{rng.randint(0, 9_999_999):07d}",
            balance_yen=rng.randrange(0, 5_000_000, 1),
        )
    ]


def _account(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: BankAccount = require(session, AGENCY, agency_code)
    return {
        "bank_code": BANK_CODE,
        "branch_code": row.branch_code,
        "account_type": row.account_type,
        "account_number": row.account_number,
    }


AGENCY: Final = Agency(
    name="bank",
    title="きばん銀行",
    member_class="COM",
    member_code="KIBAN-BANK",
    subsystem_code="accounts",
    model=BankAccount,
    make=_make,
    services=(
        DataService(
            code="account",
            items=ITEMS,
            answer=_account,
            summary="The customer's ordinary account (口座)",
        ),
    ),
)
