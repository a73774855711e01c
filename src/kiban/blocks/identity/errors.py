"""Stable error codes of the identity block (CONVENTIONS.md §5).

Card PKI codes: ``identity.card_not_found`` (404), ``identity.card_exists`` (409),
``identity.card_not_active`` (409), ``identity.not_resident`` (409),
``identity.invalid_public_key`` (422), ``identity.certificate_invalid`` (401),
``identity.certificate_revoked`` (401), ``identity.certificate_expired`` (401),
``identity.signature_invalid`` (401).
"""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, Unauthorized, ValidationFailed


class CardNotFound(NotFound):
    code = "identity.card_not_found"

    def __init__(self, field: str = "card_id") -> None:
        super().__init__("該当するカードが見つかりません。", "No such card.", field=field)


class CardExists(Conflict):
    """The person already holds an active card."""

    code = "identity.card_exists"

    def __init__(self, field: str = "person_id") -> None:
        super().__init__(
            "この住民には有効なカードが既に発行されています。",
            "This resident already holds an active card.",
            field=field,
        )


class CardNotActive(Conflict):
    """The card is lost, revoked or expired, so nothing more can be done with it."""

    code = "identity.card_not_active"

    def __init__(self, status: str, field: str = "card_id") -> None:
        super().__init__(
            f"このカードは有効ではありません(状態: {status})。",
            f"This card is not active (status: {status}).",
            field=field,
        )


class NotResident(Conflict):
    """Cards and certificates are only issued to people on the resident register."""

    code = "identity.not_resident"

    def __init__(self, field: str = "person_id") -> None:
        super().__init__(
            "住民基本台帳に記録されている住民ではないため発行できません。",
            "Only a current resident can be issued a card or certificate.",
            field=field,
        )


class InvalidPublicKey(ValidationFailed):
    """The card's public key is not a DER SubjectPublicKeyInfo of an RSA-2048 key."""

    code = "identity.invalid_public_key"

    def __init__(self, field: str) -> None:
        super().__init__(
            "公開鍵はRSA 2048ビットのDER形式(SubjectPublicKeyInfo)である必要があります。",
            "The public key must be an RSA-2048 key as DER SubjectPublicKeyInfo.",
            field=field,
        )


class CertificateInvalid(Unauthorized):
    code = "identity.certificate_invalid"

    def __init__(self, field: str = "certificate") -> None:
        super().__init__(
            "電子証明書を検証できません。",
            "The certificate cannot be verified.",
            field=field,
        )


class CertificateRevoked(Unauthorized):
    code = "identity.certificate_revoked"

    def __init__(self, field: str = "certificate") -> None:
        super().__init__(
            "この電子証明書は失効しています。",
            "This certificate has been revoked.",
            field=field,
        )


class CertificateExpired(Unauthorized):
    code = "identity.certificate_expired"

    def __init__(self, field: str = "certificate") -> None:
        super().__init__(
            "この電子証明書は有効期間外です。",
            "This certificate is outside its validity period.",
            field=field,
        )


class SignatureInvalid(Unauthorized):
    code = "identity.signature_invalid"

    def __init__(self, field: str = "signature") -> None:
        super().__init__(
            "署名を検証できません。",
            "The signature does not verify.",
            field=field,
        )
