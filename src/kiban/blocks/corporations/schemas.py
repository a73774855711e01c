"""Data shapes of the corporate registry: the facade's DTOs and the HTTP models are the same
pydantic classes, so the API documents exactly what the block returns."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kiban.blocks.address import AddressInput
from kiban.blocks.corporations.models import CorporationKind, CorporationStatus
from kiban.platform.fields import Name

# Corporate furigana (フリガナ) is katakana; names such as "エヌ・ティ・ティ" or "ABC" also use
# the middle dot, the long vowel mark, spaces and letters or digits.
# A space only between the other characters (values are stripped).
_KANA_CHAR = "\u30a1-\u30fa\u30fb\u30fc0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
KANA_PATTERN = rf"^[{_KANA_CHAR}](?:[{_KANA_CHAR}\u3000 ]*[{_KANA_CHAR}])?$"
_PERSON_KANA_CHAR = "\u30a1-\u30fa\u30fc\u30fb"
PERSON_KANA_PATTERN = (
    rf"^[{_PERSON_KANA_CHAR}](?:[{_PERSON_KANA_CHAR}\u3000 ]*[{_PERSON_KANA_CHAR}])?$"
)
KANA = re.compile(KANA_PATTERN)
PERSON_KANA = re.compile(PERSON_KANA_PATTERN)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RepresentativeInput(_Input):
    """The representative (代表者) as the commercial register records them."""

    name: Name = Field(min_length=1, max_length=128, examples=["山田　太郎"])
    name_kana: str | None = Field(
        default=None,
        max_length=256,
        pattern=PERSON_KANA_PATTERN,
        description="Full-width katakana",
        examples=["ヤマダ　タロウ"],
    )
    title: Name = Field(default="代表取締役", min_length=1, max_length=32, examples=["代表取締役"])
    address: AddressInput
    person_id: uuid.UUID | None = Field(
        default=None,
        description="The representative's person id in the resident register, when known "
        "(never the individual number)",
    )


class CorporationCreate(_Input):
    """A corporation to enter in the registry."""

    corporate_number: str = Field(
        min_length=1,
        max_length=32,
        description="法人番号: 13 digits, the first a check digit",
        examples=["4011001098993"],
    )
    name: Name = Field(min_length=1, max_length=256, examples=["株式会社基盤テック"])
    name_kana: str = Field(
        min_length=1,
        max_length=256,
        pattern=KANA_PATTERN,
        description="Full-width katakana (letters and digits allowed)",
        examples=["キバンテック"],
    )
    kind: CorporationKind = CorporationKind.KABUSHIKI_KAISHA
    head_office: AddressInput
    representative: RepresentativeInput


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
    person_id: uuid.UUID | None = None


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
