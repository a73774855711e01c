"""Stable error codes of the staff block (CONVENTIONS.md §5)."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed


class NotPermitted(Forbidden):
    """The principal's role (or key) does not hold the permission for the action."""

    code = "staff.not_permitted"

    def __init__(self, action: str) -> None:
        super().__init__(
            f"この操作（{action}）の権限がありません。",
            f"You are not permitted to do this ({action}).",
        )
        self.action = action


class OtherOrganisation(Forbidden):
    """The resource belongs to an organisation outside the principal's."""

    code = "staff.other_organisation"

    def __init__(self, organisation: str) -> None:
        super().__init__(
            f"別の団体（{organisation}）の情報には権限がありません。",
            f"This belongs to another organisation ({organisation}).",
        )


class OtherDepartment(Forbidden):
    """The principal's role is held in one department; the resource is another's."""

    code = "staff.other_department"

    def __init__(self, department: str) -> None:
        super().__init__(
            f"この事務は別の課（{department}）の担当です。あなたの役割はその課では使えません。",
            f"This is handled by another department ({department}); your role does not reach it.",
        )
        self.department = department


class SeparationOfDuties(Forbidden):
    """The principal took an earlier step the procedure keeps apart from this one, or the
    resource concerns the official themselves."""

    code = "staff.separation_of_duties"

    def __init__(self) -> None:
        super().__init__(
            "ご自身が関わった手続（本人の申請、または分離が必要な前の段階）はこの操作ができません。",
            "You took part in this (it is your own, or you took a step that must be someone "
            "else's), so you may not do this.",
        )


class StepUpRequired(Forbidden):
    """A sensitive action asks for the card again (the session's card is too old)."""

    code = "staff.step_up_required"

    def __init__(self) -> None:
        super().__init__(
            "この操作の前に、もう一度カードで本人確認をしてください。",
            "Confirm with your card again before this action.",
        )


class KeyInvalid(Unauthorized):
    code = "staff.key_invalid"

    def __init__(self) -> None:
        super().__init__(
            "API キーが正しくないか、期限切れか、失効しています。",
            "The API key is not valid, has expired or was revoked.",
        )


class OperatorTokenRetired(Unauthorized):
    """The shared operator token only bootstraps the first administrator."""

    code = "staff.operator_token_retired"

    def __init__(self) -> None:
        super().__init__(
            "共有のオペレータートークンでは操作できません。"
            "職員のサインインか API キーを使ってください。",
            "The shared operator token no longer acts; sign in as an official or use an API key.",
        )


class BootstrapDone(Conflict):
    code = "staff.bootstrap_done"

    def __init__(self) -> None:
        super().__init__(
            "最初の管理者はすでにいます。共有トークンでの初期設定はできません。",
            "The first administrator exists already; the shared token cannot bootstrap again.",
        )


class OrganisationNotFound(NotFound):
    code = "staff.organisation_not_found"

    def __init__(self, code: str, field: str = "organisation") -> None:
        super().__init__(
            f"団体「{code}」は登録されていません。",
            f"No organisation {code!r} is registered.",
            field=field,
        )


class RoleNotFound(NotFound):
    code = "staff.role_not_found"

    def __init__(self, code: str, field: str = "role") -> None:
        super().__init__(
            f"この団体に役割「{code}」はありません。",
            f"This organisation has no role {code!r}.",
            field=field,
        )


class DepartmentNotFound(NotFound):
    code = "staff.department_not_found"

    def __init__(self, code: str, field: str = "department") -> None:
        super().__init__(
            f"この団体に部署「{code}」はありません。",
            f"This organisation has no department {code!r}.",
            field=field,
        )


class AccountNotFound(NotFound):
    code = "staff.account_not_found"

    def __init__(self, field: str = "account") -> None:
        super().__init__(
            "該当する職員アカウントがありません。", "No such staff account.", field=field
        )


class AccountNotActive(Conflict):
    code = "staff.account_not_active"

    def __init__(self, status: str, field: str = "account") -> None:
        super().__init__(
            f"このアカウントは利用できません（{status}）。",
            f"This account is not active ({status}).",
            field=field,
        )


class AccountExists(Conflict):
    code = "staff.account_exists"

    def __init__(self) -> None:
        super().__init__(
            "この人の職員アカウントはすでにあります。",
            "This person already has a staff account.",
            field="person_id",
        )


class MembershipNotFound(NotFound):
    code = "staff.membership_not_found"

    def __init__(self) -> None:
        super().__init__(
            "この団体・役割の所属はありません。",
            "The account holds no such role in this organisation.",
            field="role",
        )


class InvalidInput(ValidationFailed):
    code = "staff.invalid"


class FactorInvalid(Unauthorized):
    """A second factor did not prove possession: an unknown, foreign or cloned WebAuthn
    credential, a challenge that is wrong, used or expired, a wrong origin, or a wrong or
    already used TOTP code. ``reason`` (for the audit log) says which; the message does not."""

    code = "staff.factor_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(
            "本人確認ができませんでした。もう一度お試しください。",
            "We could not confirm it is you. Please try again.",
        )
        self.reason = reason


class FactorConflict(Conflict):
    """The second factor is not in a state that allows this (a TOTP app already active, a
    confirmation without an enrolment started)."""

    code = "staff.factor_conflict"

    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_ja, message_en)
