"""Stable error codes of the benefits block (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, KibanError, NotFound, ValidationFailed


class ProgrammeNotFound(NotFound):
    """No programme with the code is defined."""

    code = "benefits.programme_not_found"

    def __init__(self, programme: str) -> None:
        super().__init__(
            f"給付プログラム {programme} は定義されていません。",
            f"No programme {programme} is defined.",
            field="programme",
        )


class InvalidProgramme(ValidationFailed):
    """A programme definition that breaks the rule format."""

    code = "benefits.invalid_programme"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(
            f"給付プログラムの定義が正しくありません（{field}: {problem}）。",
            f"The programme definition is not valid ({field}: {problem}).",
            field=field,
        )


class NotAPaymentMonth(ValidationFailed):
    """A scheduled programme's run whose base date is not in a payment month."""

    code = "benefits.not_a_payment_month"

    def __init__(self) -> None:
        super().__init__(
            "基準日が支給月にありません。",
            "The base date is not in one of the programme's payment months.",
            field="base_date",
        )


class RunConflict(Conflict):
    """The period was already run with another base date."""

    code = "benefits.run_conflict"

    def __init__(self, period: str) -> None:
        super().__init__(
            f"期間 {period} は別の基準日で実行済みです。",
            f"The period {period} was already run with another base date.",
            field="base_date",
        )


class DeterminationNotFound(NotFound):
    """No determination with the id for this person."""

    code = "benefits.determination_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する給付の決定がありません。",
            "No such benefit determination.",
            field="determination_id",
        )


class OptOutClosed(Conflict):
    """Declining or correcting after the opt-out window, or of a settled determination."""

    code = "benefits.opt_out_closed"

    def __init__(self) -> None:
        super().__init__(
            "辞退・訂正の受付期間は終わっています。",
            "The window to decline or correct has closed.",
            field="determination_id",
        )


class TaxOfficeUnavailable(KibanError):
    """The tax office did not answer through the mesh, so eligibility cannot be decided."""

    code = "benefits.tax_unavailable"
    status = 502

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"税務署から課税状況の回答を得られません（{detail}）。",
            f"The tax office did not answer about resident tax ({detail}).",
        )
