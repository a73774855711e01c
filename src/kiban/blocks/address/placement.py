"""An address as a form or an API takes it — a registry town with its numbers, or one line of
free text read by the normalizer — and :func:`place_address`, which resolves either into a
town of the registry with its 丁目, numbers and building. Every block that records an address
(the resident register, the corporate registry) takes :class:`AddressInput` and calls
:func:`place_address`, so an address typed anywhere is read the same way.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kiban.blocks.address.errors import InvalidAddress, TownNotFound
from kiban.blocks.address.normalizer import normalize
from kiban.blocks.address.results import StructuredAddress
from kiban.blocks.address.service import TownRead, format_address, get_town
from kiban.platform.fields import Name

# Digits and the words of a Japanese house number; a space only between them.
_BLOCK_CHAR = r"\-0-9０-９一二三四五六七八九十百千ー－‐番地号のノ之"
BLOCK_NUMBER_PATTERN = rf"^[{_BLOCK_CHAR}](?:[{_BLOCK_CHAR} ]*[{_BLOCK_CHAR}])?$"
BLOCK_NUMBER = re.compile(BLOCK_NUMBER_PATTERN)
# The normalizer's levels that name a town (町字) or more.
_TOWN_LEVELS = frozenset({"machiaza", "machiaza_detail", "rsdtdsp_blk", "rsdtdsp_rsdt", "parcel"})
_KANJI_DIGITS = "一二三四五六七八九"
# The numbers at the start of the normalizer's remainder (3-1, 9番1号, 12番地): what follows
# them is the building.
_LEADING_NUMBERS = re.compile(
    r"^\s*[0-9]+(?:\s*(?:番地|番|号|の|之|ノ|-)\s*[0-9]+)*\s*(?:番地|番|号)?\s*"
)


class AddressInput(BaseModel):
    """An address: a town of the address registry plus the numbers after it, or the whole
    address as one line of free text (``text``), which the address normalizer reads into the
    town, 丁目, numbers and building.

    Give exactly one of ``town_id`` and ``text``. With ``town_id``, ``block_number`` is
    required. With ``text``, the text must name the town (町字) at least; ``chome``,
    ``block_number`` and ``building``, when also given, take precedence over what the text
    says.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    town_id: uuid.UUID | None = Field(default=None, description="A town of the registry")
    text: Name | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The address as one line, instead of town_id (住所の文字列)",
        examples=["東京都千代田区霞が関1-3-1 合同庁舎4号館"],
    )
    chome: int | None = Field(default=None, ge=1, le=99, description="丁目, when the town has them")
    block_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=BLOCK_NUMBER_PATTERN,
        description="Block and house numbers such as 2番3号 or 2-3",
        examples=["2番3号", "2-3"],
    )
    building: Name | None = Field(default=None, max_length=128)


@dataclass(frozen=True)
class PlacedAddress:
    """An address resolved against the registry."""

    town: TownRead
    chome: int | None
    block_number: str
    building: str | None

    @property
    def text(self) -> str:
        """The address as one line, as printed on a certificate."""
        return format_address(
            self.town, chome=self.chome, block_number=self.block_number, building=self.building
        )


def _chome_number(text: str | None) -> int | None:
    """``一丁目`` → 1, ``二十三丁目`` → 23, ``3丁目`` → 3; ``None`` when not a 丁目."""
    if not text:
        return None
    digits = text.removesuffix("丁目").removesuffix("丁")
    if digits.isdigit():
        return int(digits)
    tens, ten, ones = digits.rpartition("十")
    if not ten:
        tens, ones = "", digits
    try:
        high = (_KANJI_DIGITS.index(tens) + 1 if tens else 1) if ten else 0
        low = _KANJI_DIGITS.index(ones) + 1 if ones else 0
    except ValueError:
        return None
    return high * 10 + low or None


def _block_from(parts: StructuredAddress) -> str | None:
    """The block and house numbers the normalizer read: ``9-1`` for 住居表示 (written 9番1号),
    ``3番地1`` for a parcel number (地番), kept as such."""
    if parts.blk_num:
        return "-".join(n for n in (parts.blk_num, parts.rsdt_num, parts.rsdt_num2) if n)
    if parts.prc_num1:
        rest = "-".join(n for n in (parts.prc_num2, parts.prc_num3) if n)
        return f"{parts.prc_num1}番地{rest}"
    return None


def _from_text(session: Session, data: AddressInput, text: str, field: str) -> PlacedAddress:
    result = normalize(text, session=session)
    understood = result.matched_address or "なし"
    understood_en = result.matched_address or "nothing"
    if result.match_level not in _TOWN_LEVELS or result.ids.town_id is None:
        raise InvalidAddress(
            f"住所を町字まで読み取れませんでした（読み取れたのは「{understood}」）。",
            f"The address could not be read down to the town (understood: {understood_en}).",
            field=f"{field}.text",
        )
    town = get_town(session, result.ids.town_id)
    rest = result.unmatched_address.strip()
    # At the 町字 levels the numbers are still at the start of the remainder; when the
    # registry's blocks matched (rsdtdsp_*, parcel) they are in the matched part and the
    # remainder is only the building.
    numbers = _LEADING_NUMBERS.match(rest)
    block_number = data.block_number or _block_from(result.structured_address)
    if block_number is None:
        raise InvalidAddress(
            f"「{understood}」の後の番地・号を読み取れませんでした（残り: 「{rest}」）。",
            f"No block number could be read after {understood_en} (left: {rest!r}).",
            field=f"{field}.text",
        )
    building = rest[numbers.end() :].strip() if numbers is not None else rest
    chome = data.chome or _chome_number(result.structured_address.chome)
    return PlacedAddress(town, chome, block_number, data.building or building or None)


def place_address(session: Session, data: AddressInput, *, field: str = "address") -> PlacedAddress:
    """Resolve ``data`` against the registry. Raises ``address.invalid_address`` (422) naming
    ``<field>.town_id``, ``<field>.text``, ``<field>.block_number`` or ``<field>.chome``."""
    if data.text is not None and data.town_id is not None:
        raise InvalidAddress(
            "町字（town_id）と住所の文字列（text）はどちらか一方だけを指定してください。",
            "Give either the town (town_id) or the address as text, not both.",
            field=f"{field}.text",
        )
    if data.text is not None:
        placed = _from_text(session, data, data.text, field)
    else:
        if data.town_id is None:
            raise InvalidAddress(
                "住所の町字（town_id）か住所の文字列（text）を指定してください。",
                "Give the town (town_id) or the address as text.",
                field=f"{field}.town_id",
            )
        if data.block_number is None:
            raise InvalidAddress(
                "番地・号を入力してください。",
                "Enter the block number.",
                field=f"{field}.block_number",
            )
        try:
            town = get_town(session, data.town_id)
        except TownNotFound:
            raise InvalidAddress(
                "住所の町字が住所基本台帳にありません。",
                "The town is not in the address registry.",
                field=f"{field}.town_id",
            ) from None
        placed = PlacedAddress(town, data.chome, data.block_number, data.building)
    if placed.chome is not None and not placed.town.has_chome:
        raise InvalidAddress(
            f"{placed.town.name}には丁目がありません。",
            f"{placed.town.name} has no chome.",
            field=f"{field}.chome",
        )
    return placed
