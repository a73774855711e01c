"""Schemas of consent for companies: what a person grants and what they see."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiban.platform.fields import FreeText, StrictDate

FetchType = Literal["once", "periodic"]
FrequencyUnit = Literal["day", "week", "month", "year"]
ConsentState = Literal["active", "paused", "revoked", "expired"]
SettableState = Literal["active", "paused", "revoked"]

COMPANY_PATTERN = r"^[A-Z]{2}/COM/[A-Za-z0-9._-]{1,64}/[A-Za-z0-9._-]{1,64}$"
ITEM_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"


class Purpose(BaseModel):
    """Why the company asks: a code the company's sector agrees on and the words shown to the
    person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", examples=["account_opening"])
    text: FreeText = Field(min_length=1, max_length=500, examples=["口座開設時の本人確認のため"])


class Frequency(BaseModel):
    """At most ``value`` fetches in each calendar ``unit`` (Japan time) of a periodic consent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: FrequencyUnit
    value: int = Field(ge=1, le=100)


class ConsentCreate(BaseModel):
    """A consent the person gives (for now directly; later in answer to a company's request)."""

    model_config = ConfigDict(extra="forbid")

    company: str = Field(
        pattern=COMPANY_PATTERN,
        description="The subsystem id of the company (a COM member)",
        examples=["JP/COM/0000000000001/bank"],
    )
    purpose: Purpose
    items: list[str] = Field(min_length=1, max_length=50, examples=[["address", "name"]])
    valid_from: StrictDate
    valid_until: StrictDate
    fetch_type: FetchType = "once"
    frequency: Frequency | None = Field(
        default=None, description="Required for periodic consents, absent for once-only ones"
    )
    data_life_days: int = Field(
        ge=0, le=3650, description="How many days the company may keep the data it receives"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConsentCreate:
        import re  # noqa: PLC0415 - only this check needs it.

        for item in self.items:
            if not re.match(ITEM_PATTERN, item):
                raise ValueError(f"invalid data item {item!r}")
        if len(set(self.items)) != len(self.items):
            raise ValueError("data items are repeated")
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.fetch_type == "periodic" and self.frequency is None:
            raise ValueError("a periodic consent needs a frequency")
        if self.fetch_type == "once" and self.frequency is not None:
            raise ValueError("a once-only consent has no frequency")
        return self


class ConsentStatusRead(BaseModel):
    """One entry of a consent's hash-chained status log."""

    seq: int
    status: str
    actor: str
    at: datetime
    prev_hash: str
    hash: str


class ConsentRead(BaseModel):
    """A consent artefact with its current status. ``status`` is ``expired`` once the period has
    ended, whether or not the sweep has written it to the log yet."""

    id: uuid.UUID
    person_id: uuid.UUID
    company: str
    purpose: Purpose
    items: list[str]
    valid_from: date
    valid_until: date
    fetch_type: FetchType
    frequency: Frequency | None
    data_life_days: int
    created_at: datetime
    status: ConsentState
    jws: str = Field(description="The signed artefact (compact JWS, ES256)")
    history: list[ConsentStatusRead] = Field(default_factory=list)
