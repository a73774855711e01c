"""HTTP and facade models of the benefits block."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from kiban.blocks.benefits.rules import ProgrammeDefinition
from kiban.platform.fields import FreeText, StrictDate

Status = Literal["notified", "declined", "correction_requested", "obligated", "stopped", "held"]


class ProgrammeRead(BaseModel):
    """A defined programme: its definition and version."""

    code: str
    version: int
    definition: ProgrammeDefinition
    defined_at: datetime


class PreviewSample(BaseModel):
    """One sampled award: ages only, no name (the official sees the count, not the people)."""

    household_size: int
    amount_yen: int
    ages: list[int]


class PreviewRead(BaseModel):
    """What a run would determine, before any notice is sent."""

    programme: str
    period: str
    base_date: date
    households: int
    residents: int
    recipients: int
    eligible_people: int
    total_yen: int
    tax_checked: bool = Field(
        description="False when the programme needs the tax office's answer: the counts are "
        "then an upper bound, because a preview asks nobody's tax data"
    )
    sample: list[PreviewSample]


class RunRequest(BaseModel):
    """Start (or continue) a run of a programme."""

    base_date: StrictDate


class PreviewRequest(BaseModel):
    """Preview a run of a programme."""

    base_date: StrictDate
    sample: int = Field(default=5, ge=0, le=20)


class RunRead(BaseModel):
    """A run and its counts so far."""

    id: uuid.UUID
    programme: str
    period: str
    base_date: date
    opt_out_until: datetime
    started_at: datetime
    settled_at: datetime | None
    determinations: int
    new_determinations: int = 0
    total_yen: int
    by_status: dict[str, int]
    obligations_added: int = 0


class DeterminationRead(BaseModel):
    """A determination as its recipient (or an official) sees it."""

    id: uuid.UUID
    programme: str
    title_ja: str
    title_en: str
    legal_basis: str
    period: str
    amount_yen: int
    status: Status
    opt_out_until: datetime
    open: bool = Field(description="Whether it can still be declined or corrected")
    correction: str | None
    recipient_id: uuid.UUID | None = Field(
        default=None, description="Who receives it (the person or the household head)"
    )


class CorrectionCreate(BaseModel):
    """What the recipient says is wrong."""

    text: FreeText = Field(max_length=400)
