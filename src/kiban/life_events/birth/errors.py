"""Stable error codes of a birth registration (CONVENTIONS.md §5). Each names the field at
fault."""

from __future__ import annotations

from kiban.kernel.errors import Conflict, NotFound, ValidationFailed


class NameCharacterNotAllowed(ValidationFailed):
    """A given name with a character outside 常用漢字, 人名用漢字 and kana."""

    code = "birth.name_character_not_allowed"

    def __init__(self, field: str, characters: list[str]) -> None:
        shown = "、".join(characters)
        super().__init__(
            f"子の名に使えない文字があります: {shown}（常用漢字・人名用漢字・ひらがな・"
            "カタカナのみ使えます）",
            f"The name uses characters a child's name may not: {', '.join(characters)} (only "
            "常用漢字, 人名用漢字, hiragana and katakana are allowed)",
            field=field,
        )


class KanaInvalid(ValidationFailed):
    """A reading that is not katakana."""

    code = "birth.kana_invalid"

    def __init__(self, field: str) -> None:
        super().__init__(
            "フリガナはカタカナで入力してください。",
            "Type the reading in katakana.",
            field=field,
        )


class NoBirthData(NotFound):
    """A birth notice asked for without a birth certificate from a hospital."""

    code = "birth.no_birth_data"

    def __init__(self) -> None:
        super().__init__(
            "病院からの出生証明書の情報がありません。出生届は、病院が出生証明書の情報を"
            "送った後に、ここから出せます。",
            "No birth certificate data from a hospital has arrived. The birth notice can be "
            "filed here once the hospital has sent it.",
            field="certificate",
        )


class CertificateUnknown(Conflict):
    """A certificate the office cannot take: the mother is not a resident of this
    municipality, or the same certificate arrived before."""

    code = "birth.certificate_refused"

    def __init__(self) -> None:
        super().__init__(
            "この出生証明書は受け付けられません（母がこの市区町村の住民でないか、受信済みです）。",
            "This birth certificate cannot be taken: the mother is not a resident here, or it "
            "was received already.",
            field="mother",
        )


class FamilyNameNotParents(ValidationFailed):
    """A child's family name other than the parent's (民法第790条)."""

    code = "birth.family_name_not_parents"

    def __init__(self) -> None:
        super().__init__(
            "子の氏は父母の氏です（民法第790条）。",
            "The child's family name is the parents' (Civil Code Article 790).",
            field="child_family_name",
        )
