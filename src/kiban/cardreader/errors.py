"""Errors of the virtual card reader, each with a stable code and a Japanese and English message.

The reader shows these messages on its own pages and the ``kiban card-reader`` command prints
them; programmatic clients catch the classes (``WrongPin.tries_left`` says how many tries are
left before the PIN locks).
"""

from __future__ import annotations

from typing import ClassVar

from kiban.kernel.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed

PIN_NAMES_JA = {"auth": "利用者証明用暗証番号", "signing": "署名用暗証番号"}
PIN_NAMES_EN = {"auth": "authentication PIN", "signing": "signing PIN"}


class CardNotFound(NotFound):
    """No card with this number is in the reader."""

    code = "cardreader.card_not_found"

    def __init__(self, card_number: str) -> None:
        super().__init__(
            f"カード {card_number} はこのカードリーダーにありません。",
            f"Card {card_number} is not in this card reader.",
            field="card_number",
        )
        self.card_number = card_number


class CardExists(Conflict):
    """A card with this number is already in the reader (saving would destroy its keys)."""

    code = "cardreader.card_exists"

    def __init__(self, card_number: str) -> None:
        super().__init__(
            f"カード {card_number} はすでにこのカードリーダーにあります。",
            f"Card {card_number} is already in this card reader.",
            field="card_number",
        )


class InvalidCardNumber(ValidationFailed):
    """A card number is 12 digits."""

    code = "cardreader.card_number_invalid"

    def __init__(self) -> None:
        super().__init__(
            "カード番号は12桁の数字です。",
            "A card number is 12 digits.",
            field="card_number",
        )


class InvalidKind(ValidationFailed):
    """A card holds two keys: ``auth`` and ``signing``."""

    code = "cardreader.kind_invalid"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"鍵の種類 {kind!r} はありません（auth または signing）。",
            f"There is no key kind {kind!r} (auth or signing).",
            field="kind",
        )


class InvalidPin(ValidationFailed):
    """A PIN that breaks its format rule; the message names the rule. Not counted as a try."""

    code = "cardreader.pin_invalid"

    RULES_JA: ClassVar[dict[str, str]] = {
        "auth": "利用者証明用暗証番号は数字4桁です。",
        "signing": "署名用暗証番号は英大文字と数字の6～16文字です。",
    }
    RULES_EN: ClassVar[dict[str, str]] = {
        "auth": "The authentication PIN is exactly 4 digits.",
        "signing": "The signing PIN is 6 to 16 upper-case letters (A–Z) and digits.",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(self.RULES_JA[kind], self.RULES_EN[kind], field=f"{kind}_pin")
        self.kind = kind


class WrongPin(Unauthorized):
    """The PIN is not the card's. The try is already counted (and saved) when this is raised."""

    code = "cardreader.pin_wrong"

    def __init__(self, kind: str, tries_left: int) -> None:
        if tries_left > 0:
            message_ja = (
                f"{PIN_NAMES_JA[kind]}が違います。あと{tries_left}回間違えるとロックされます。"
            )
            message_en = (
                f"The {PIN_NAMES_EN[kind]} is not correct. "
                f"{tries_left} more wrong {'try' if tries_left == 1 else 'tries'} will lock it."
            )
        else:
            message_ja = (
                f"{PIN_NAMES_JA[kind]}が違います。ロックされました。"
                "市区町村の窓口で解除してください。"
            )
            message_en = (
                f"The {PIN_NAMES_EN[kind]} is not correct. It is now locked; "
                "ask your municipal office to unlock it."
            )
        super().__init__(message_ja, message_en, field=f"{kind}_pin")
        self.kind = kind
        self.tries_left = tries_left


class PinLocked(Forbidden):
    """Too many wrong PINs: the key is locked until a municipal official unlocks it."""

    code = "cardreader.pin_locked"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"{PIN_NAMES_JA[kind]}はロックされています。市区町村の窓口で解除してください。",
            f"The {PIN_NAMES_EN[kind]} is locked. Ask your municipal office to unlock it.",
            field=f"{kind}_pin",
        )
        self.kind = kind


class UnlockRejected(Forbidden):
    """An unlock token that is not valid for this card and key; ``reason_en`` says why."""

    code = "cardreader.unlock_rejected"

    def __init__(self, reason_ja: str, reason_en: str) -> None:
        super().__init__(
            f"ロック解除トークンが使えません：{reason_ja}",
            f"The unlock token cannot be used: {reason_en}",
            field="token",
        )
        self.reason_en = reason_en


class CertificateMismatch(ValidationFailed):
    """A certificate that does not belong with the key or the card's issuing CA."""

    code = "cardreader.certificate_mismatch"

    def __init__(self, reason_ja: str, reason_en: str, *, field: str = "certificate") -> None:
        super().__init__(reason_ja, reason_en, field=field)


class CardFileDamaged(Conflict):
    """The card file cannot be read: damaged, or written by an unknown format version."""

    code = "cardreader.card_file_damaged"

    def __init__(self, card_number: str, detail: str) -> None:
        super().__init__(
            f"カード {card_number} のファイルを読めません（{detail}）。",
            f"The file of card {card_number} cannot be read ({detail}).",
            field="card_number",
        )
