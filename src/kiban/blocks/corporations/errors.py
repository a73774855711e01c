"""Stable error codes of the corporate registry (CONVENTIONS.md §5).

The corporate number's own checks raise the kernel's ``kiban.identifier.*`` codes (422) with
the field ``corporate_number``.
"""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, ValidationFailed


class CorporationNotFound(NotFound):
    code = "corporations.not_found"

    def __init__(self, field: str = "corporate_number") -> None:
        super().__init__("該当する法人が見つかりません。", "No such corporation.", field=field)


class CorporationExists(Conflict):
    code = "corporations.exists"

    def __init__(self, field: str = "corporate_number") -> None:
        super().__init__(
            "この法人番号の法人は既に登録されています。",
            "A corporation with this corporate number is already registered.",
            field=field,
        )


class InvalidCorporation(ValidationFailed):
    """Input the registry cannot accept (an unknown town, a chome the town does not have)."""

    code = "corporations.invalid"
