"""The normalizer's answer, with abr-geocoder v3's field names (and ``candidates`` for an
ambiguous input)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from kiban.blocks.address.candidates import Candidate

MatchLevel = Literal[
    "unknown",
    "pref",
    "city",
    "machiaza",
    "machiaza_detail",
    "rsdtdsp_blk",
    "rsdtdsp_rsdt",
    "parcel",
]


class Coordinates(BaseModel):
    """A representative point (WGS84)."""

    lat: float
    lon: float


class AddressIds(BaseModel):
    """Codes of what was matched; ``None`` where the level was not reached.

    ``town_id`` is kiban's id of the town (:class:`~kiban.blocks.address.TownRead`)."""

    lg_code: str | None = None
    machiaza_id: str | None = None
    town_id: uuid.UUID | None = None
    rsdtdsp_blk_id: str | None = None
    rsdtdsp_rsdt_id: str | None = None
    prc_id: str | None = None


class StructuredAddress(BaseModel):
    """The parts of the address as read. Registry parts (pref … chome) use the registry's
    spelling; koaza and the numbers are as the input gave them (numbers as ASCII digits)."""

    pref: str | None = None
    county: str | None = None
    city: str | None = None
    ward: str | None = None
    kyoto_st: str | None = None
    oaza_cho: str | None = None
    chome: str | None = None
    koaza: str | None = None
    blk_num: str | None = None
    rsdt_num: str | None = None
    rsdt_num2: str | None = None
    prc_num1: str | None = None
    prc_num2: str | None = None
    prc_num3: str | None = None


class NormalizeResult(BaseModel):
    """One normalized address, with abr-geocoder v3's field names."""

    input: str = Field(description="The text as given.")
    matched_address: str = Field(description="What matched the registry, in its spelling.")
    unmatched_address: str = Field(description="The rest: building, room, anything not read.")
    match_level: MatchLevel
    score: float = Field(ge=0, le=1, description="1 for an exact reading; fuzzy ones lower.")
    coordinates: Coordinates | None = None
    coordinates_level: MatchLevel | None = None
    ids: AddressIds = Field(default_factory=AddressIds)
    structured_address: StructuredAddress = Field(default_factory=StructuredAddress)
    postal_code: str | None = None
    error: str | None = Field(default=None, description="Why the line was not normalized.")
    fuzzy: bool = Field(
        default=False,
        description=(
            "The town was read as a near miss: one character differs from the registry's "
            "name, and no other town of the municipality is that close. The score is lower."
        ),
    )
    candidates: list[Candidate] | None = Field(
        default=None,
        description=(
            "Only when the input fits several places equally: each of them (the registry's "
            "spelling). match_level and the other fields then give only what they have in "
            "common; nothing is guessed."
        ),
    )
