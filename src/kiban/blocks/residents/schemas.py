"""Data shapes of the resident register: the facade's DTOs and the HTTP models are the same
pydantic classes, so the API documents exactly what the block returns."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from kiban.blocks.address import AddressInput
from kiban.blocks.residents.models import ChangeReason, Sex, Status
from kiban.platform.fields import Name, StrictDate

# Katakana with the long vowel mark and the middle dot; spaces only between them.
_KANA_CHAR = "\u30a1-\u30fa\u30fc\u30fb"
KANA_PATTERN = rf"^[{_KANA_CHAR}](?:[{_KANA_CHAR}\u3000 ]*[{_KANA_CHAR}])?$"
KANA = re.compile(KANA_PATTERN)
Relationship = Literal[
    "世帯主",
    "妻",
    "夫",
    "子",
    "父",
    "母",
    "祖父",
    "祖母",
    "孫",
    "兄",
    "姉",
    "弟",
    "妹",
    "子の妻",
    "子の夫",
    "妻の父",
    "妻の母",
    "夫の父",
    "夫の母",
    "同居人",
]
"""The relationships (続柄) the register records, as an enumeration in the schema."""
RELATIONSHIPS: tuple[str, ...] = get_args(Relationship)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NameInput(_Input):
    """A name in kanji and katakana (氏名とフリガナ)."""

    family_name: Name = Field(min_length=1, max_length=64, examples=["山田"])
    given_name: Name = Field(min_length=1, max_length=64, examples=["花子"])
    family_name_kana: str = Field(
        min_length=1, max_length=128, pattern=KANA_PATTERN, examples=["ヤマダ"]
    )
    given_name_kana: str = Field(
        min_length=1, max_length=128, pattern=KANA_PATTERN, examples=["ハナコ"]
    )


class HouseholdChoice(_Input):
    """Join an existing household with a relationship, or found a new one as its head."""

    household_id: uuid.UUID | None = Field(
        default=None, description="Existing household to join; empty founds a new household."
    )
    relationship: Relationship = Field(
        default="世帯主", description="続柄 to the head of household"
    )


class PersonCreate(NameInput):
    """Registration of someone who enters the register from outside it (e.g. from abroad)."""

    birth_date: StrictDate
    sex: Sex
    address: AddressInput
    household: HouseholdChoice = Field(default_factory=HouseholdChoice)
    effective_on: StrictDate = Field(description="The day the person started living at the address")


class BirthCreate(NameInput):
    """A birth registration (出生届): the child joins the household of the parent given."""

    birth_date: StrictDate
    sex: Sex
    parent_id: uuid.UUID
    relationship: Relationship = "子"


class MoveOutCreate(_Input):
    """A moving-out notice (転出届)."""

    moved_on: StrictDate
    destination: Name = Field(min_length=1, max_length=256, examples=["大阪府大阪市北区梅田1-1"])


class MoveInCreate(_Input):
    """A moving-in notice (転入届) for a person who moved out of another municipality."""

    moved_on: StrictDate
    address: AddressInput
    household: HouseholdChoice = Field(default_factory=HouseholdChoice)


class MoveWithinCreate(_Input):
    """A change of address within the same municipality (転居届)."""

    moved_on: StrictDate
    address: AddressInput


class DeathCreate(_Input):
    """A death registration (死亡届)."""

    died_on: StrictDate


class NameChangeCreate(NameInput):
    """A change of name (for example on marriage)."""

    effective_on: StrictDate


class AddressRead(BaseModel):
    lg_code: str
    town_id: uuid.UUID
    machiaza_id: str
    pref_name: str
    municipality_name: str
    town_name: str
    chome: int | None
    block_number: str
    building: str | None
    text: str = Field(description="The address as one line, as printed on a certificate")


class PersonRead(BaseModel):
    """A person's current record, without the individual number."""

    id: uuid.UUID
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    status: Status
    address: AddressRead
    household_id: uuid.UUID
    relationship: str
    resident_since: date
    moved_out_on: date | None
    moved_out_to: str | None
    died_on: date | None
    version: int

    @property
    def full_name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}"


class RecordVersionRead(BaseModel):
    """One past or current version of a person's record."""

    version: int
    reason: ChangeReason
    effective_on: date
    recorded_at: datetime
    record: dict[str, Any]


class CertificateEntry(BaseModel):
    name: str
    name_kana: str
    birth_date: date
    sex: Sex
    relationship: str
    resident_since: date
    status: Status
    address_since: date = Field(description="住所を定めた年月日: the day the current address began")
    address_notified_on: date | None = Field(
        default=None, description="The day the move to the current address was notified (JST)"
    )
    previous_address: str | None = Field(
        default=None, description="従前の住所: the address before the current one, if any"
    )
    individual_number: str | None = Field(
        default=None, description="Only when the person asked for it to be included"
    )


class CertificateRead(BaseModel):
    """A certificate of residence (住民票の写し)."""

    certificate_id: uuid.UUID
    issued_at: datetime
    lg_code: str
    issuer: str = Field(description="The municipality that issues the certificate")
    household_id: uuid.UUID
    head_of_household: str
    address: AddressRead
    entries: list[CertificateEntry]


class CountrySummary(BaseModel):
    """The size of the register: what the landing page shows."""

    municipalities: int
    households: int
    residents: int
    moved_out: int
    deceased: int


class ReadRecordRead(BaseModel):
    """One read of a person's record by an official or operator, as the person sees it."""

    read_at: datetime
    read_id: uuid.UUID
    actor: str
    actor_id: str | None
    organisation: str | None
    role: str | None
    purpose: str
    route: str
    items: list[str]


class ReadRecordPage(BaseModel):
    """A page of a person's read records, newest first, and how many there are in all."""

    records: list[ReadRecordRead]
    total: int


@dataclass(frozen=True, slots=True)
class BasicFourRead:
    """A person's basic four (基本4情報) and where they stand in the register, for bulk
    readers such as the mesh's batch answers: a plain record, not a pydantic model, because
    a batch reads thousands at once. ``name`` and ``name_kana`` are family and given name
    joined by an ideographic space, ``address`` the address as written on the record."""

    id: uuid.UUID
    name: str
    name_kana: str
    birth_date: date
    sex: Sex
    status: Status
    lg_code: str
    address: str
