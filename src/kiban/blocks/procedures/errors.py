"""Stable error codes of the procedures block (CONVENTIONS.md §5).

Every error names the input at fault in ``field``; nothing is written when one is raised.
"""

from __future__ import annotations

from kiban.kernel.errors import (
    Conflict,
    Forbidden,
    KibanError,
    NotFound,
    ValidationFailed,
)


class ProcedureNotFound(NotFound):
    code = "procedures.procedure_not_found"

    def __init__(self, code: str, field: str = "code") -> None:
        super().__init__(
            f"手続「{code}」は登録されていません。",
            f"No procedure {code!r} is registered.",
            field=field,
        )


class ApplicationNotFound(NotFound):
    code = "procedures.application_not_found"

    def __init__(self, field: str = "application_id") -> None:
        super().__init__("該当する申請が見つかりません。", "No such application.", field=field)


class UnknownField(ValidationFailed):
    code = "procedures.unknown_field"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"この手続に「{name}」という項目はありません。",
            f"The form has no field {name!r}.",
            field=name,
        )


class PrefilledField(ValidationFailed):
    """A fact a registry already holds is not typed again (once-only)."""

    code = "procedures.prefilled_field"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"「{name}」は登録情報から入力済みのため、入力し直せません。",
            f"{name!r} is prefilled from a registry and cannot be typed again.",
            field=name,
        )


class ReadonlyField(ValidationFailed):
    code = "procedures.readonly_field"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"「{name}」は変更できない項目です。", f"{name!r} cannot be changed.", field=name
        )


class InvalidValue(ValidationFailed):
    code = "procedures.invalid_value"

    def __init__(self, name: str, problem_ja: str, problem_en: str) -> None:
        super().__init__(f"「{name}」: {problem_ja}", f"{name}: {problem_en}", field=name)


class FieldRequired(ValidationFailed):
    code = "procedures.field_required"

    def __init__(self, name: str) -> None:
        super().__init__(f"「{name}」を入力してください。", f"{name} is required.", field=name)


class UnknownAction(ValidationFailed):
    code = "procedures.unknown_action"

    def __init__(self, action: str) -> None:
        super().__init__(
            f"この手続に「{action}」という操作はありません。",
            f"The procedure has no action {action!r}.",
            field="action",
        )


class ActionNotAllowed(Conflict):
    code = "procedures.action_not_allowed"

    def __init__(self, action: str, state: str) -> None:
        super().__init__(
            f"現在の状態「{state}」では「{action}」はできません。",
            f"{action!r} cannot be taken in state {state!r}.",
            field="action",
        )


class RoleNotAllowed(Forbidden):
    code = "procedures.role_not_allowed"

    def __init__(self, action: str, role: str) -> None:
        super().__init__(
            f"「{action}」は{role}が行う操作ではありません。",
            f"{action!r} is not taken by the {role} role.",
            field="role",
        )


class NotApplicant(Forbidden):
    code = "procedures.not_applicant"

    def __init__(self) -> None:
        super().__init__(
            "この申請の申請者ではありません。",
            "Only the applicant may do this.",
            field="actor",
        )


class NotClaimed(Conflict):
    code = "procedures.not_claimed"

    def __init__(self) -> None:
        super().__init__(
            "この申請の担当を引き受けてから操作してください。",
            "Claim the task before acting on it.",
            field="actor",
        )


class AlreadyClaimed(Conflict):
    code = "procedures.already_claimed"

    def __init__(self, official: str) -> None:
        super().__init__(
            f"この申請は{official}が担当しています。",
            f"The task is claimed by {official}.",
            field="official",
        )


class NotATask(Conflict):
    code = "procedures.not_a_task"

    def __init__(self, state: str) -> None:
        super().__init__(
            f"状態「{state}」の申請は職員の処理待ちではありません。",
            f"An application in state {state!r} is not waiting for an official.",
            field="application_id",
        )


class VersionConflict(Conflict):
    """Someone else acted on the application after the caller read it."""

    code = "procedures.version_conflict"

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"申請は他の操作で更新されています(読込時 {expected}、現在 {current})。"
            "読み込み直してください。",
            f"The application changed since it was read (version {expected}, now {current}); "
            "reload it.",
            field="expected_version",
        )


class ReasonRequired(ValidationFailed):
    code = "procedures.reason_required"

    def __init__(self) -> None:
        super().__init__("理由を入力してください。", "A reason is required.", field="reason")


class SignatureRequired(ValidationFailed):
    code = "procedures.signature_required"

    def __init__(self) -> None:
        super().__init__(
            "この操作には署名用電子証明書による署名が必要です。",
            "This action must be signed with the card's signing certificate.",
            field="signature",
        )


class SignerNotApplicant(Forbidden):
    code = "procedures.signer_not_applicant"

    def __init__(self) -> None:
        super().__init__(
            "署名した電子証明書は申請者のものではありません。",
            "The signing certificate does not belong to the applicant.",
            field="signing_certificate",
        )


class PrefillUnavailable(KibanError):
    """The registry could not be asked through the mesh."""

    code = "procedures.prefill_unavailable"
    status = 502

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"「{name}」を登録情報から取得できませんでした({reason})。",
            f"{name!r} could not be prefilled from its registry ({reason}).",
            field=name,
        )


class InvalidEncoding(ValidationFailed):
    code = "procedures.invalid_encoding"

    def __init__(self, field: str) -> None:
        super().__init__(
            "base64url で送ってください。", "Send it as base64url (no padding).", field=field
        )


class FeeUnpaid(KibanError):
    """The procedure charges a fee and the application's fee is not paid (402)."""

    code = "procedures.fee_unpaid"
    status = 402

    def __init__(self, amount: int) -> None:
        super().__init__(
            f"手数料（{amount:,}円）のお支払いが済んでいないため、提出できません。",
            f"The fee (¥{amount:,}) is not paid yet, so the application cannot be submitted.",
            field="fee",
        )
