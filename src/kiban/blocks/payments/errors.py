"""Stable error codes of the payments block (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, Forbidden, KibanError, NotFound, ValidationFailed


class InvalidKana(ValidationFailed):
    """A holder name has a character the Zengin file cannot carry; the message names it."""

    code = "payments.invalid_kana"

    def __init__(self, character: str, *, field: str = "holder_kana") -> None:
        super().__init__(
            f"口座名義（カナ）に使えない文字「{character}」が含まれています。",
            f"The account holder name contains {character!r}, which a Zengin transfer "
            "cannot carry.",
            field=field,
        )


class UnknownBank(ValidationFailed):
    code = "payments.unknown_bank"

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"全銀協の金融機関コード表にない番号です: {value}",
            f"{value!r} is not in the Zengin bank/branch code list.",
            field=field,
        )


class InvalidAccount(ValidationFailed):
    code = "payments.invalid_account"

    def __init__(self, field: str, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"口座の「{field}」が正しくありません（{problem_ja}）。",
            f"The account's {field} is not valid ({problem_en}).",
            field=field,
        )


class InvalidObligation(ValidationFailed):
    code = "payments.invalid_obligation"

    def __init__(self, field: str, problem_en: str) -> None:
        super().__init__(
            f"支払義務の「{field}」が正しくありません。",
            f"The obligation's {field} is not valid ({problem_en}).",
            field=field,
        )


class BatchNotFound(NotFound):
    code = "payments.batch_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する支払バッチがありません。", "No such payment batch.", field="batch"
        )


class AccountNotFound(NotFound):
    code = "payments.account_not_found"

    def __init__(self) -> None:
        super().__init__(
            "公金受取口座が登録されていません。", "No receiving account.", field="person_id"
        )


class BatchStateConflict(Conflict):
    code = "payments.batch_state"

    def __init__(self, state: str, wanted: str) -> None:
        super().__init__(
            f"この支払バッチは「{state}」のため、{wanted}できません。",
            f"The batch is {state}; it cannot be {wanted}.",
            field="batch",
        )


class SameOfficial(Forbidden):
    """Maker-checker: the official who built (or already approved) a batch cannot approve it."""

    code = "payments.same_official"

    def __init__(self) -> None:
        super().__init__(
            "作成者または承認済みの職員は、同じ支払バッチを承認できません。",
            "The maker or an official who already approved cannot approve the batch again.",
            field="batch",
        )


class InvalidTransferFile(ValidationFailed):
    """A Zengin file that does not parse; the message names the record and the problem."""

    code = "payments.invalid_file"

    def __init__(self, record: int, problem: str) -> None:
        super().__init__(
            f"全銀ファイルの{record}番目のレコードが正しくありません: {problem}",
            f"Record {record} of the Zengin file is not valid: {problem}",
            field="file",
        )


class NothingToPay(Conflict):
    """No payable obligation of the programme has a payee with an active account."""

    code = "payments.nothing_to_pay"

    def __init__(self, programme: str) -> None:
        super().__init__(
            f"「{programme}」に、口座が確認済みで支払可能なものはありません。",
            f"Nothing of {programme!r} is payable to a verified account.",
            field="programme",
        )


class BankUnavailable(KibanError):
    """The bank could not be asked through the mesh (refused or failed exchange)."""

    code = "payments.bank_unavailable"
    status = 503

    def __init__(self, reason: str) -> None:
        super().__init__(
            "金融機関に口座を確認できませんでした。しばらくしてからやり直してください。",
            f"The bank could not verify the account ({reason}); please try again later.",
        )


class FeeNotFound(NotFound):
    code = "payments.fee_not_found"

    def __init__(self) -> None:
        super().__init__("該当する手数料の支払がありません。", "No such fee payment.", field="fee")


class FeeAlreadyPaid(Conflict):
    """The application's fee is paid: a second payment is not started."""

    code = "payments.fee_already_paid"

    def __init__(self) -> None:
        super().__init__(
            "この申請の手数料は支払済みです。",
            "The fee for this application is already paid.",
            field="application_id",
        )


class InvalidFee(ValidationFailed):
    """A fee or refund request with a field out of range; the message names the field."""

    code = "payments.invalid_fee"

    def __init__(self, field: str, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"「{field}」が正しくありません（{problem_ja}）。",
            f"The {field} is not valid ({problem_en}).",
            field=field,
        )


class RefundTooLarge(ValidationFailed):
    """A refund of more than what is left of the payment (paid less refunded)."""

    code = "payments.refund_too_large"

    def __init__(self, refundable: int) -> None:
        super().__init__(
            f"返金額が返金できる額（{refundable:,}円）を超えています。",
            f"The refund amount is more than what can be refunded (¥{refundable:,}).",
            field="amount",
        )


class FeeStateConflict(Conflict):
    code = "payments.fee_state"

    def __init__(self, state: str, wanted: str) -> None:
        super().__init__(
            f"この支払は「{state}」のため、{wanted}できません。",
            f"The payment is {state}; it cannot be {wanted}.",
            field="fee",
        )


class ProviderUnavailable(KibanError):
    """The payment provider could not be asked, or refused the request."""

    code = "payments.provider_unavailable"
    status = 502

    def __init__(self, reason: str) -> None:
        super().__init__(
            "決済事業者に接続できませんでした。しばらくしてからやり直してください。",
            f"The payment provider could not be reached ({reason}); please try again later.",
        )
