"""Tables of the corporate registry. Private to the block: use the facade.

``corporations_corporations`` holds one row per corporation, keyed by its corporate number
(法人番号). The head office and the representative's address are kept as the commercial
register records them: a town of the address registry, the numbers after it, and the text as it
was written at registration, so a later change of town names does not rewrite what was
registered.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class CorporationKind(enum.StrEnum):
    """The legal form of a corporation (法人の種類); the value is the code used in APIs."""

    KABUSHIKI_KAISHA = "kabushiki_kaisha"
    YUGEN_KAISHA = "yugen_kaisha"
    GODO_KAISHA = "godo_kaisha"
    GOMEI_KAISHA = "gomei_kaisha"
    GOSHI_KAISHA = "goshi_kaisha"
    IPPAN_SHADAN_HOJIN = "ippan_shadan_hojin"
    IPPAN_ZAIDAN_HOJIN = "ippan_zaidan_hojin"
    KOEKI_SHADAN_HOJIN = "koeki_shadan_hojin"
    KOEKI_ZAIDAN_HOJIN = "koeki_zaidan_hojin"
    NPO_HOJIN = "npo_hojin"
    IRYO_HOJIN = "iryo_hojin"
    SHAKAI_FUKUSHI_HOJIN = "shakai_fukushi_hojin"
    GAKKO_HOJIN = "gakko_hojin"

    @property
    def label_ja(self) -> str:
        """The legal form as written in Japanese (株式会社 and so on)."""
        return KIND_LABELS[self]


KIND_LABELS: dict[CorporationKind, str] = {
    CorporationKind.KABUSHIKI_KAISHA: "株式会社",
    CorporationKind.YUGEN_KAISHA: "有限会社",
    CorporationKind.GODO_KAISHA: "合同会社",
    CorporationKind.GOMEI_KAISHA: "合名会社",
    CorporationKind.GOSHI_KAISHA: "合資会社",
    CorporationKind.IPPAN_SHADAN_HOJIN: "一般社団法人",
    CorporationKind.IPPAN_ZAIDAN_HOJIN: "一般財団法人",
    CorporationKind.KOEKI_SHADAN_HOJIN: "公益社団法人",
    CorporationKind.KOEKI_ZAIDAN_HOJIN: "公益財団法人",
    CorporationKind.NPO_HOJIN: "特定非営利活動法人",
    CorporationKind.IRYO_HOJIN: "医療法人",
    CorporationKind.SHAKAI_FUKUSHI_HOJIN: "社会福祉法人",
    CorporationKind.GAKKO_HOJIN: "学校法人",
}


class CorporationStatus(enum.StrEnum):
    """Whether the corporation still exists (閉鎖 after liquidation or a merger)."""

    ACTIVE = "active"
    CLOSED = "closed"


def _enum(cls: type[enum.StrEnum], length: int) -> Enum:
    return Enum(
        cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=length
    )


class Corporation(IdMixin, TimestampMixin, Base):
    """A corporation as the commercial register (商業登記) and the corporate number system know
    it."""

    __tablename__ = "corporations_corporations"
    __table_args__ = (UniqueConstraint("corporate_number"),)

    corporate_number: Mapped[str] = mapped_column(String(13))
    name: Mapped[str] = mapped_column(String(256))
    name_kana: Mapped[str] = mapped_column(String(256))
    kind: Mapped[CorporationKind] = mapped_column(_enum(CorporationKind, 32))
    status: Mapped[CorporationStatus] = mapped_column(_enum(CorporationStatus, 16))
    # The head office (本店又は主たる事務所の所在地).
    lg_code: Mapped[str] = mapped_column(String(6), index=True)
    town_id: Mapped[uuid.UUID]
    chome: Mapped[int | None]
    block_number: Mapped[str] = mapped_column(String(32))
    building: Mapped[str | None] = mapped_column(String(128))
    address_text: Mapped[str] = mapped_column(String(512))
    # The representative (代表者) as registered: name, title and address. The register does
    # not know who in the resident register this is; identity compares a signing
    # certificate's basic four with these fields.
    representative_name: Mapped[str] = mapped_column(String(128))
    representative_name_kana: Mapped[str | None] = mapped_column(String(256))
    representative_title: Mapped[str] = mapped_column(String(32))
    representative_lg_code: Mapped[str] = mapped_column(String(6))
    representative_town_id: Mapped[uuid.UUID]
    representative_chome: Mapped[int | None]
    representative_block_number: Mapped[str] = mapped_column(String(32))
    representative_building: Mapped[str | None] = mapped_column(String(128))
    representative_address_text: Mapped[str] = mapped_column(String(512))
    # The representative as a person of the resident register, by person id (never the
    # individual number), when the registry knows them: おくやみ finds a deceased's businesses.
    representative_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
