"""Stable error codes of the qualifications block (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, ValidationFailed


class QualificationNotFound(NotFound):
    """No qualification type with the code."""

    code = "qualifications.type_not_found"

    def __init__(self, qualification: str) -> None:
        super().__init__(
            f"資格 {qualification} は定義されていません。",
            f"No qualification {qualification} is defined.",
            field="qualification",
        )


class HolderNotFound(NotFound):
    """No registration with the id (or none of the person for the qualification)."""

    code = "qualifications.holder_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する資格の登録がありません。", "No such registration.", field="holder_id"
        )


class AlreadyRegistered(Conflict):
    """The person holds a live registration of the qualification already."""

    code = "qualifications.already_registered"

    def __init__(self) -> None:
        super().__init__(
            "この方はこの資格をすでに登録されています。",
            "The person already holds this qualification.",
            field="person_id",
        )


class NumberTaken(Conflict):
    """The registration number is another registration's."""

    code = "qualifications.number_taken"

    def __init__(self) -> None:
        super().__init__(
            "この登録番号はすでに使われています。",
            "The registration number is already in use.",
            field="registration_number",
        )


class InvalidTransition(Conflict):
    """The registration's status does not allow the action (e.g. reinstating a revoked one)."""

    code = "qualifications.invalid_transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(
            f"現在の状態（{status}）ではこの操作（{action}）はできません。",
            f"A registration that is {status} cannot be {action}.",
            field="status",
        )


class InvalidRegistration(ValidationFailed):
    """Bad input: the field at fault is named."""

    code = "qualifications.invalid"

    def __init__(self, field: str, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"入力が正しくありません（{field}: {problem_ja}）。",
            f"The input is not valid ({field}: {problem_en}).",
            field=field,
        )


class NotAPrefecture(ValidationFailed):
    """A prefecture-registered qualification registered by an organisation that is not one."""

    code = "qualifications.not_a_prefecture"

    def __init__(self) -> None:
        super().__init__(
            "この資格は都道府県が登録します。",
            "This qualification is registered by a prefecture.",
            field="organisation",
        )
