"""Stable error codes of moving house (CONVENTIONS.md §5). Each names the field at fault."""

from __future__ import annotations

from datetime import date

from kiban.kernel.errors import Conflict, KibanError, NotFound, ValidationFailed
from kiban.platform import i18n


class SameMunicipality(ValidationFailed):
    """A moving-out notice to an address in the same municipality (a 転居届 is meant)."""

    code = "moving.same_municipality"

    def __init__(self) -> None:
        super().__init__(
            "新しい住所は同じ市区町村内です。転出届ではなく転居届を出してください。",
            "The new address is in the same municipality: file a notice of a move within the"
            " municipality (転居届) instead.",
            field="destination",
        )


class OtherMunicipality(ValidationFailed):
    """A notice of a move within the municipality to an address in another one."""

    code = "moving.other_municipality"

    def __init__(self) -> None:
        super().__init__(
            "新しい住所は別の市区町村です。転居届ではなく転出届を出してください。",
            "The new address is in another municipality: file a moving-out notice (転出届)"
            " instead.",
            field="destination",
        )


class MovingDateInvalid(ValidationFailed):
    """The moving date is too far ahead or too long ago."""

    code = "moving.date_invalid"

    def __init__(self, days: int) -> None:
        super().__init__(
            f"異動日は今日の{days}日前から{days}日後までの日付にしてください。",
            f"The moving date must be within {days} days before or after today.",
            field="moved_on",
        )


class SlotInvalid(ValidationFailed):
    """A visit slot that is not one the office offers."""

    code = "moving.slot_invalid"

    def __init__(self) -> None:
        super().__init__(
            "来庁日時は、窓口が提供する枠から選んでください。",
            "Choose a visit time the office offers.",
            field="slot",
        )


class NotResident(Conflict):
    """Someone who already moved out (or died) files a move; the move-in comes first."""

    code = "moving.not_resident"

    def __init__(self) -> None:
        super().__init__(
            "住民登録がないため届け出られません。転出済みの場合は、先に転入の手続を済ませてください。",
            "You are not registered as a resident here; if you have moved out, complete the"
            " move-in first.",
            field="applicant",
        )


class PacketUnknown(NotFound):
    """A moving packet that cites no moving-out notice of the person it is about."""

    code = "moving.packet_unknown"

    def __init__(self) -> None:
        super().__init__(
            "転出証明書情報が示す転出届が見つかりません。",
            "The moving-out notice the packet cites is unknown.",
            field="reference",
        )


class PacketRefused(Conflict):
    """The new office did not accept the moving packet; nothing is approved."""

    code = "moving.packet_refused"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"転入先の市区町村が転出証明書情報を受け取れませんでした（{detail}）。",
            f"The new municipality could not receive the moving-out data ({detail}).",
            field="destination",
        )


__all__ = [
    "KibanError",
    "MoveInDateInvalid",
    "MoveInTooEarly",
    "MovingDateInvalid",
    "NotResident",
    "OtherMunicipality",
    "PacketRefused",
    "PacketUnknown",
    "SameMunicipality",
    "SlotInvalid",
]


class MoveInTooEarly(Conflict):
    """The new office tries to complete (or take up) a move-in before the moving date."""

    code = "moving.move_in_too_early"

    def __init__(self, moved_out_on: date) -> None:
        super().__init__(
            f"転入届は転出の日（{i18n.day_ja(moved_out_on)}）以降に完了できます。"
            "その日以降の来庁時に、本人が実際に転入した日を申し出てから完了してください。",
            f"The moving-in notice can be completed on or after the moving date,"
            f" {i18n.day_en(moved_out_on)}, once the resident states at the visit the day they"
            " actually moved in.",
            field="moved_in_on",
        )


class MoveInDateInvalid(ValidationFailed):
    """The stated move-in day is before the moving-out day or after today."""

    code = "moving.move_in_date_invalid"

    def __init__(self, moved_out_on: date, today: date) -> None:
        super().__init__(
            f"転入した日は、転出の日（{i18n.day_ja(moved_out_on)}）から今日"
            f"（{i18n.day_ja(today)}）までの日付にしてください。",
            f"The day the resident moved in must be between the moving date"
            f" ({i18n.day_en(moved_out_on)}) and today ({i18n.day_en(today)}).",
            field="moved_in_on",
        )
