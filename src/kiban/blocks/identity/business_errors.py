"""Stable error codes of business accounts (CONVENTIONS.md §5). Each names the field at fault.

The API's credential is a My page token (``identity.my_page_token_*``, 401).
403 ``identity.business_not_certificate_holder``,
``identity.business_representative_mismatch`` (field ``representative.name`` or
``representative.address``), ``identity.business_prime_required``;
404 ``identity.business_account_not_found``, ``identity.business_invitation_invalid``,
``identity.business_delegation_not_found``;
409 ``identity.business_prime_exists``, ``identity.business_nonce_reused``,
``identity.business_corporation_closed``, ``identity.business_invitation_expired``,
``identity.business_account_exists``, ``identity.business_account_not_active``,
``identity.business_already_delegated``;
422 ``identity.business_application_invalid``.
"""

from __future__ import annotations

from kiban.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed


class NotCertificateHolder(Forbidden):
    code = "identity.business_not_certificate_holder"

    def __init__(self) -> None:
        super().__init__(
            "署名用電子証明書がサインインした本人のものではありません。",
            "The signing certificate does not belong to the signed-in person.",
            field="certificate",
        )


class RepresentativeMismatch(Forbidden):
    """The signing certificate's basic four do not match the registered representative."""

    code = "identity.business_representative_mismatch"


class PrimeRequired(Forbidden):
    code = "identity.business_prime_required"

    def __init__(self, field: str = "corporate_number") -> None:
        super().__init__(
            "この操作はこの法人のプライムアカウントだけが行えます。",
            "Only the corporation's prime account may do this.",
            field=field,
        )


class AccountNotFound(NotFound):
    code = "identity.business_account_not_found"

    def __init__(self, field: str = "account_id") -> None:
        super().__init__(
            "該当するビジネスアカウントが見つかりません。", "No such business account.", field=field
        )


class InvitationInvalid(NotFound):
    code = "identity.business_invitation_invalid"

    def __init__(self) -> None:
        super().__init__(
            "招待コードが正しくないか、既に使われています。",
            "The invitation code is not valid or has already been used.",
            field="invitation_code",
        )


class InvitationExpired(Conflict):
    code = "identity.business_invitation_expired"

    def __init__(self) -> None:
        super().__init__(
            "招待コードの有効期限が切れています。",
            "The invitation code has expired; ask for a new invitation.",
            field="invitation_code",
        )


class DelegationNotFound(NotFound):
    code = "identity.business_delegation_not_found"

    def __init__(self) -> None:
        super().__init__(
            "この手続は委任されていません。",
            "This procedure is not delegated to the account.",
            field="procedure_code",
        )


class PrimeExists(Conflict):
    code = "identity.business_prime_exists"

    def __init__(self) -> None:
        super().__init__(
            "この法人には既にプライムアカウントがあります。",
            "The corporation already has a prime account.",
            field="application.corporate_number",
        )


class NonceReused(Conflict):
    code = "identity.business_nonce_reused"

    def __init__(self) -> None:
        super().__init__(
            "この申請は既に受け付けられています(ノンスの再利用)。",
            "This application has already been submitted (the nonce was used before).",
            field="application.nonce",
        )


class CorporationClosed(Conflict):
    code = "identity.business_corporation_closed"

    def __init__(self) -> None:
        super().__init__(
            "この法人は閉鎖されています。",
            "The corporation is closed.",
            field="application.corporate_number",
        )


class AccountExists(Conflict):
    code = "identity.business_account_exists"

    def __init__(self, field: str = "invitation_code") -> None:
        super().__init__(
            "既にこの法人のビジネスアカウントをお持ちです。",
            "You already hold a business account of this corporation.",
            field=field,
        )


class AccountNotActive(Conflict):
    code = "identity.business_account_not_active"

    def __init__(self, status: str, field: str = "account_id") -> None:
        super().__init__(
            f"このアカウントは有効ではありません(状態: {status})。",
            f"This account is not active (status: {status}).",
            field=field,
        )


class AlreadyDelegated(Conflict):
    code = "identity.business_already_delegated"

    def __init__(self) -> None:
        super().__init__(
            "この手続は既に委任されています。",
            "This procedure is already delegated to the account.",
            field="procedure_code",
        )


class ApplicationInvalid(ValidationFailed):
    """A prime application the server cannot accept (stale time, undecodable fields)."""

    code = "identity.business_application_invalid"
