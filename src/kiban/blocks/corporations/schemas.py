"""Data shapes of the corporate registry: the facade's DTOs and the HTTP models are the same
pydantic classes, so the API documents exactly what the block returns."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiban.blocks.address import AddressInput
from kiban.blocks.corporations.models import CorporationKind, CorporationStatus

# Corporate furigana (フリガナ) is katakana; names such as "エヌ・ティ・ティ" or "ABC" also use
# the middle dot, the long vowel mark, spaces and letters or digits.
KANA = re.compile(
    r"^[\u30a1-\u30fa\u30fb\u30fc\u3000 0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+$"
)
PERSON_KANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fb\u3000 ]+$")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RepresentativeInput(_Input):
    """The representative (代表者) as the commercial register records them."""

    name: str = Field(min_length=1, max_length=128, examples=["山田　太郎"])
    name_kana: str | None = Field(default=None, max_length=256, examples=["ヤマダ　タロウ"])
    title: str = Field(default="代表取締役", min_length=1, max_length=32, examples=["代表取締役"])
    address: AddressInput

    @field_validator("name_kana")
    @classmethod
    def _kana(cls, value: str | None) -> str | None:
        if value is not None and not PERSON_KANA.match(value):
            raise ValueError("must be written in full-width katakana")
        return value


class CorporationCreate(_Input):
    """A corporation to enter in the registry."""

    corporate_number: str = Field(
        min_length=1,
        max_length=32,
        description="法人番号: 13 digits, the first a check digit",
        examples=["4011001098993"],
    )
    name: str = Field(min_length=1, max_length=256, examples=["株式会社基盤テック"])
    name_kana: str = Field(min_length=1, max_length=256, examples=["キバンテック"])
    kind: CorporationKind = CorporationKind.KABUSHIKI_KAISHA
    head_office: AddressInput
    representative: RepresentativeInput

    @field_validator("name_kana")
    @classmethod
    def _kana(cls, value: str) -> str:
        if not KANA.match(value):
            raise ValueError("must be written in full-width katakana (letters and digits allowed)")
        return value


class AddressRead(BaseModel):
    lg_code: str
    town_id: uuid.UUID
    chome: int | None
    block_number: str
    building: str | None
    text: str = Field(description="The address as one line, as registered")


class RepresentativeRead(BaseModel):
    name: str
    name_kana: str | None
    title: str
    address: AddressRead


class CorporationRead(BaseModel):
    """A corporation in the registry."""

    id: uuid.UUID
    corporate_number: str
    name: str
    name_kana: str
    kind: CorporationKind
    kind_label: str = Field(description="The legal form in Japanese (株式会社 and so on)")
    status: CorporationStatus
    head_office: AddressRead
    representative: RepresentativeRead
    created_at: datetime
