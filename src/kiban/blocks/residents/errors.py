"""Stable error codes of the resident register (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, ValidationFailed


class PersonNotFound(NotFound):
    code = "residents.person_not_found"

    def __init__(self, field: str = "person_id") -> None:
        super().__init__("該当する住民が見つかりません。", "No such resident.", field=field)


class HouseholdNotFound(NotFound):
    code = "residents.household_not_found"

    def __init__(self, field: str = "household.household_id") -> None:
        super().__init__("該当する世帯が見つかりません。", "No such household.", field=field)


class InvalidRecord(ValidationFailed):
    """Input that a registration cannot accept (dates, addresses, relationships)."""

    code = "residents.invalid"


class WrongStatus(Conflict):
    """The person's status does not allow the change (for example, a move for a deceased person)."""

    code = "residents.wrong_status"
