"""The death life event's errors."""

from __future__ import annotations

from kiban.kernel.errors import KibanError


class NotCertified(KibanError):
    """No physician's death certificate (死亡診断書) of this person reached the office."""

    code = "death.not_certified"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "この方の死亡診断書の情報が医療機関から届いていません。",
            "No physician's death certificate of this person has reached the office.",
            field="deceased",
        )


class NotFamily(KibanError):
    """The filer is not of the deceased's household (a relative or the household head)."""

    code = "death.not_family"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            "死亡届は、亡くなった方と同じ世帯の方が届け出ることができます。",
            "The death notice is filed by a member of the deceased's household.",
            field="deceased",
        )


class NotDeceased(KibanError):
    """The office has not accepted a death notice for this application."""

    code = "death.not_accepted"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "死亡届はまだ受理されていません。",
            "The death notice has not been accepted yet.",
        )
