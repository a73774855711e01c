"""The reference agencies by name (six systems and the maternity hospital)."""

from __future__ import annotations

from typing import Final

from kiban.agencies import bank, electricity, hospital, insurer, licence, pension, tax
from kiban.agencies.agency import Agency

AGENCIES: Final[dict[str, Agency]] = {
    agency.name: agency
    for agency in (
        pension.AGENCY,
        tax.AGENCY,
        insurer.AGENCY,
        licence.AGENCY,
        bank.AGENCY,
        electricity.AGENCY,
        hospital.AGENCY,
    )
}


def get_agency(name: str) -> Agency:
    """The reference agency called ``name`` (a key of :data:`AGENCIES`)."""
    return AGENCIES[name]
