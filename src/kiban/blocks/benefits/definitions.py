"""The three programmes kiban ships, as data (the seed defines them; an official may define
more from a JSON document with ``kiban benefits define``).

- ``flat-payment``: ¥100,000 for every resident on the base date, paid to the household head
  (like the 2020 特別定額給付金).
- ``child-allowance``: a monthly amount per child by age band, more from the third child on,
  paid every other month for the two months before (like 児童手当 since October 2024).
- ``exempt-household``: ¥100,000 per household whose members are all exempt from resident tax,
  plus ¥50,000 per child under 18 (like the 住民税非課税世帯 payments), which needs the tax
  office's answer through the mesh.
"""

from __future__ import annotations

from typing import Any, Final

from kiban.blocks.benefits.rules import ProgrammeDefinition

PAYER: Final = "digital-agency"

_SHIPPED: Final[tuple[dict[str, Any], ...]] = (
    {
        "code": "flat-payment",
        "title_ja": "特別定額給付金",
        "title_en": "Special flat-rate cash payment",
        "legal_basis": "特別定額給付金給付事業 (令和2年度補正予算) 実施要領",
        "payer": PAYER,
        "eligible": {"kind": "resident"},
        "amount": {"per_person": 100_000},
        "recipient": "household_head",
        "opt_out_days": 14,
    },
    {
        "code": "child-allowance",
        "title_ja": "児童手当",
        "title_en": "Child allowance",
        "legal_basis": "児童手当法第4条",
        "payer": PAYER,
        "eligible": {
            "kind": "all",
            "rules": [{"kind": "resident"}, {"kind": "age", "min": 0, "below": 18}],
        },
        "amount": {
            "child_additions": [
                {"min": 0, "below": 3, "by_rank": [15_000, 15_000, 30_000], "rank_below": 22},
                {"min": 3, "below": 18, "by_rank": [10_000, 10_000, 30_000], "rank_below": 22},
            ]
        },
        "recipient": "household_head",
        "opt_out_days": 7,
        "payment_months": [2, 4, 6, 8, 10, 12],
        "months_per_payment": 2,
    },
    {
        "code": "exempt-household",
        "title_ja": "住民税非課税世帯等に対する給付金",
        "title_en": "Payment to households exempt from resident tax",
        "legal_basis": "物価高騰対応重点支援地方創生臨時交付金 制度要綱",
        "payer": PAYER,
        "eligible": {
            "kind": "all",
            "rules": [{"kind": "resident"}, {"kind": "tax_exempt_household"}],
        },
        "amount": {
            "per_household": 100_000,
            "child_additions": [{"min": 0, "below": 18, "by_rank": [50_000]}],
        },
        "recipient": "household_head",
        "opt_out_days": 14,
    },
)

SHIPPED: Final[tuple[ProgrammeDefinition, ...]] = tuple(
    ProgrammeDefinition.model_validate(data) for data in _SHIPPED
)
"""The shipped programmes, validated at import (a mistake in them fails every test)."""
