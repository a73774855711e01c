"""Stable error codes of the reference agencies' data services (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import NotFound, ValidationFailed


class UnknownPerson(NotFound):
    """The agency has no record for the agency code it was asked about."""

    code = "agencies.unknown_person"

    def __init__(self, field: str = "agency_code") -> None:
        super().__init__(
            "この機関別符号の記録はありません。",
            "The agency has no record for this code.",
            field=field,
        )


class UnknownService(NotFound):
    """The agency provides no data service by that name."""

    code = "agencies.unknown_service"

    def __init__(self, service: str, field: str = "service") -> None:
        super().__init__(
            f"このデータ提供サービスはありません: {service}",
            f"No such data service: {service}",
            field=field,
        )


class UnknownItems(ValidationFailed):
    """The request names data items the service does not provide."""

    code = "agencies.unknown_items"

    def __init__(self, items: list[str], field: str = "items") -> None:
        names = ", ".join(items)
        super().__init__(
            f"提供していないデータ項目です: {names}",
            f"The service does not provide these items: {names}",
            field=field,
        )


class InvalidParameter(ValidationFailed):
    """A request parameter (a year, a date) the service cannot read."""

    code = "agencies.invalid_parameter"

    def __init__(self, field: str) -> None:
        super().__init__(
            f"パラメータの値が正しくありません: {field}", f"Invalid parameter: {field}", field=field
        )
