"""Stable error codes of the credentials block (CONVENTIONS.md §5).

A presentation that does not verify is a :class:`PresentationRefused` whose code names the
check that failed (``credentials.presentation.<reason>``); :data:`REASONS` lists them all with
their messages, and the verify endpoint documents them.
"""

from __future__ import annotations

from typing import Final

from kiban.kernel.errors import Conflict, KibanError, NotFound, ValidationFailed

# reason: (Japanese, English, the request field at fault)
REASONS: Final[dict[str, tuple[str, str, str]]] = {
    "malformed": (
        "提示の形式が SD-JWT ではありません。",
        "The presentation is not an SD-JWT.",
        "presentation",
    ),
    "wrong_type": (
        "提示の種類（typ）が dc+sd-jwt ではありません。",
        "The presentation's typ is not dc+sd-jwt.",
        "presentation",
    ),
    "unknown_issuer": (
        "発行者が信頼できる発行者ではありません。",
        "The issuer is not a trusted issuer.",
        "presentation",
    ),
    "signature_invalid": (
        "発行者の署名を検証できません。",
        "The issuer's signature does not verify.",
        "presentation",
    ),
    "unknown_vct": (
        "証明書の種類（vct）が登録されていません。",
        "The credential type (vct) is not a registered type.",
        "presentation",
    ),
    "unsupported_sd_alg": (
        "開示のハッシュ方式に対応していません。",
        "The disclosures' hash algorithm is not supported.",
        "presentation",
    ),
    "disclosure_malformed": (
        "開示の形式が正しくありません。",
        "A disclosure is malformed.",
        "presentation",
    ),
    "disclosure_unknown": (
        "証明書が参照していない開示があります（改ざんされた開示）。",
        "A disclosure is not referred to by the credential (a tampered disclosure).",
        "presentation",
    ),
    "disclosure_duplicate": (
        "同じ開示が重複しています。",
        "The same disclosure appears twice.",
        "presentation",
    ),
    "digest_duplicate": (
        "同じダイジェストが重複しています。",
        "The same digest appears twice.",
        "presentation",
    ),
    "claim_conflict": (
        "同じ項目が重複して開示されています。",
        "The same claim is disclosed twice.",
        "presentation",
    ),
    "not_yet_valid": (
        "証明書の有効期間がまだ始まっていません。",
        "The credential is not valid yet.",
        "presentation",
    ),
    "expired": ("証明書の有効期限が切れています。", "The credential has expired.", "presentation"),
    "key_binding_missing": (
        "所持者の鍵による署名（KB-JWT）がありません。",
        "The key binding JWT is missing.",
        "presentation",
    ),
    "key_binding_invalid": (
        "所持者の鍵による署名（KB-JWT）を検証できません。",
        "The key binding JWT does not verify with the credential's holder key.",
        "presentation",
    ),
    "sd_hash_mismatch": (
        "KB-JWT が提示された開示と一致しません。",
        "The key binding JWT does not cover the presented disclosures (sd_hash).",
        "presentation",
    ),
    "nonce_mismatch": (
        "KB-JWT のノンスが一致しません。",
        "The key binding JWT's nonce is not the expected nonce.",
        "nonce",
    ),
    "audience_mismatch": (
        "KB-JWT の宛先が一致しません。",
        "The key binding JWT's audience is not the expected audience.",
        "audience",
    ),
    "key_binding_stale": (
        "KB-JWT の作成時刻が許容範囲外です。",
        "The key binding JWT was not made just now (iat).",
        "presentation",
    ),
    "revoked": ("証明書は失効しています。", "The credential has been revoked.", "presentation"),
    "suspended": (
        "証明書は一時停止されています。",
        "The credential is suspended.",
        "presentation",
    ),
    "request_invalid": (
        "提示要求（DCQL）の形式が正しくありません。",
        "The presentation request (DCQL) is not valid.",
        "request",
    ),
    "credential_missing": (
        "要求した証明書の提示がありません。",
        "The vp_token holds no presentation for a requested credential.",
        "vp_token",
    ),
    "wrong_vct": (
        "提示された証明書の種類が要求と異なります。",
        "The presented credential is not of a type the request allows.",
        "vp_token",
    ),
    "claim_missing": (
        "要求した項目が開示されていません。",
        "A requested claim is not disclosed.",
        "vp_token",
    ),
    "request_unknown": (
        "この提示要求はありません。",
        "There is no presentation request with this state.",
        "state",
    ),
    "request_used": (
        "この提示要求にはすでに回答がありました（1回限り）。",
        "This presentation request has been answered already (single use).",
        "state",
    ),
    "request_expired": (
        "この提示要求の有効期限が切れています。",
        "This presentation request has expired.",
        "state",
    ),
    "vp_token_malformed": (
        "vp_token が JSON オブジェクトではありません。",
        "The vp_token is not a JSON object.",
        "vp_token",
    ),
    "access_denied": (
        "ご本人が提示を断りました。",
        "The holder declined to present the credential.",
        "error",
    ),
    "status_unavailable": (
        "証明書の状態（ステータスリスト）を確認できません。",
        "The credential's status list cannot be read.",
        "presentation",
    ),
}


class PresentationRefused(ValidationFailed):
    """A presentation that does not verify; the code names the check that failed."""

    code = "credentials.presentation.refused"

    def __init__(self, reason: str) -> None:
        message_ja, message_en, field = REASONS[reason]
        super().__init__(
            message_ja, message_en, field=field, code=f"credentials.presentation.{reason}"
        )
        self.reason = reason


class UnknownCredentialType(ValidationFailed):
    code = "credentials.unknown_type"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"証明書の種類「{name}」は登録されていません。",
            f"There is no credential type {name!r}.",
            field="credential_type",
        )


class HolderKeyInvalid(ValidationFailed):
    code = "credentials.holder_key_invalid"

    def __init__(self, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"所持者の鍵が正しくありません（{problem_ja}）。",
            f"The holder key is not valid ({problem_en}).",
            field="holder_key",
        )


class PersonNotEligible(Conflict):
    code = "credentials.person_not_eligible"

    def __init__(self) -> None:
        super().__init__(
            "住民票の記録が現在有効でないため、証明書を発行できません。",
            "The person is not a current resident, so no credential can be issued.",
            field="person_id",
        )


class NotQualified(Conflict):
    """No active registration of the qualification (none, suspended or revoked)."""

    code = "credentials.not_qualified"

    def __init__(self) -> None:
        super().__init__(
            "有効な資格の登録がないため、資格の証明書を発行できません。",
            "The person holds no active registration of this qualification, so no credential "
            "can be issued.",
            field="person_id",
        )


class NotInsured(Conflict):
    """The insurer does not hold the person as eligible today."""

    code = "credentials.not_insured"

    def __init__(self) -> None:
        super().__init__(
            "保険者に本日有効な資格がないため、資格確認の証明書を発行できません。",
            "The insurer holds no eligibility of the person today, so no health-insurance "
            "credential can be issued.",
            field="person_id",
        )


class InsurerUnavailable(KibanError):
    """The insurer's eligibility service is not on the mesh or did not answer."""

    code = "credentials.insurer_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "保険者に資格を照会できませんでした。しばらくしてからもう一度お試しください。",
            "The insurer could not be asked for the eligibility; try again later.",
        )


class StatusListNotFound(NotFound):
    code = "credentials.status_list_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当するステータスリストがありません。", "No such status list.", field="number"
        )


class CredentialNotFound(NotFound):
    code = "credentials.not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する証明書がありません。", "No such credential.", field="credential_id"
        )


class UnknownClaim(ValidationFailed):
    code = "credentials.unknown_claim"

    def __init__(self, credential_type: str, name: str) -> None:
        super().__init__(
            f"証明書「{credential_type}」に項目「{name}」はありません。",
            f"A {credential_type!r} credential has no claim {name!r}.",
            field="claims",
        )


class RelyingPartyNotFound(NotFound):
    code = "credentials.relying_party_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する検証者（依拠当事者）は登録されていません。",
            "No such relying party is registered.",
            field="relying_party",
        )


class RelyingPartyInvalid(ValidationFailed):
    code = "credentials.relying_party_invalid"

    def __init__(self, field: str, problem_ja: str, problem_en: str) -> None:
        super().__init__(
            f"検証者の登録内容が正しくありません（{problem_ja}）。",
            f"The relying party's registration is not valid ({problem_en}).",
            field=field,
        )


class PresentationRequestNotFound(NotFound):
    code = "credentials.presentation_request_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する提示要求はありません。",
            "No such presentation request.",
            field="request",
        )


class PresentationRequestClosed(Conflict):
    code = "credentials.presentation_request_closed"

    def __init__(self) -> None:
        super().__init__(
            "この提示要求は回答済みか期限切れです。",
            "This presentation request has been answered or has expired.",
            field="request",
        )
