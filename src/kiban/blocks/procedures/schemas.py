"""DTOs of the procedures block (the facade's return types) and its HTTP models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from kiban.platform.fields import FreeText, JsonObject


class SourceRead(BaseModel):
    """Where a prefilled value came from: which registry, as of when, through which message."""

    service: str = Field(
        description="The mesh service asked, e.g. JP/GOV/kiban/residents/basic-four"
    )
    item: str = Field(description="The service's data item")
    registry_ja: str
    registry_en: str
    as_of: datetime = Field(description="When the registry answered")
    message_id: str = Field(description="The mesh message id (X-Road-Id) of the exchange")


class FieldValueRead(BaseModel):
    """One field of an application's form with its value and, when prefilled, its source."""

    name: str
    label_ja: str
    label_en: str
    kind: str
    required: bool
    readonly: bool
    choices: list[str] = Field(default_factory=list)
    prefilled: bool = Field(description="The value came from a registry through the mesh")
    value: Any = None
    source: SourceRead | None = None


class ActionRead(BaseModel):
    """One entry of an application's journal."""

    seq: int = Field(description="1 for the first entry; the application's version after it")
    action: str
    actor: str
    role: str
    at: datetime
    state_before: str | None
    state_after: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str = Field(description="SHA-256 (hex) of the entry's canonical form and prev_hash")


class SignatureRead(BaseModel):
    """The submission's signature, kept with the application as evidence."""

    certificate_der: str = Field(description="The signing certificate, DER, base64url")
    signature: str = Field(description="RSA PKCS#1 v1.5 SHA-256 signature, base64url")
    signed_data: str = Field(description="The exact bytes that were signed (ASCII)")
    document_sha256: str = Field(description="SHA-256 (hex) of the canonical document shown")
    serial: str = Field(description="The certificate's serial (upper-case hex)")
    card_id: uuid.UUID
    revocation_status: str = Field(description="good: not revoked when the signature was checked")
    checked_at: datetime


class TimelineStep(BaseModel):
    """A state the application reached."""

    state: str
    action: str
    label_ja: str
    label_en: str
    at: datetime


class TimelineRead(BaseModel):
    """What happened so far and when the procedure is expected to be complete."""

    steps: list[TimelineStep]
    sla_days: int
    expected_completion: date | None = Field(
        description="submitted_at (JST) + sla_days; null before submission"
    )
    completed_at: datetime | None = None


class ApplicationRead(BaseModel):
    """An application: its form, state, claim, signature, outputs and journal."""

    id: uuid.UUID
    code: str
    title_ja: str
    title_en: str
    applicant_id: uuid.UUID
    state: str
    final: bool
    version: int = Field(description="Name it as expected_version in the next write")
    office: str | None = Field(description="lg_code of the office whose queue holds the task")
    claimed_by: str | None
    fields: list[FieldValueRead]
    values: dict[str, Any]
    outputs: dict[str, Any]
    signature: SignatureRead | None
    next_actions: list[str] = Field(description="Actions of the definition allowed now")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    journal: list[ActionRead]
    timeline: TimelineRead

    def value(self, name: str) -> Any:
        """The value of field ``name`` (``None`` when empty)."""
        return self.values.get(name)


class ApplicationSummary(BaseModel):
    """A row of a list or a task queue."""

    id: uuid.UUID
    code: str
    title_ja: str
    title_en: str
    applicant_id: uuid.UUID
    state: str
    version: int
    office: str | None
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    expected_completion: date | None


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int


class PrefillReport(BaseModel):
    """How the fields of a procedure's submitted applications were filled."""

    code: str
    applications: int = Field(description="Submitted applications counted")
    typed: int = Field(description="Non-empty values the applicants typed")
    prefilled: int = Field(description="Values that came from a registry through the mesh")
    retyped_prefilled: int = Field(
        description="Prefilled facts typed again by an applicant (once-only says 0)"
    )


class JournalProblem(BaseModel):
    seq: int
    detail: str


class JournalReport(BaseModel):
    """The outcome of :func:`verify_journal`."""

    ok: bool
    entries: int
    problems: list[JournalProblem]


# --- HTTP models (/api/v1/registration) ---------------------------------------------------------

_VERSION = Field(ge=1, le=2**31 - 1, description="The version of the application the caller read")


class FieldDefOut(BaseModel):
    name: str
    label_ja: str
    label_en: str
    kind: str
    required: bool
    readonly: bool
    choices: list[str]
    prefilled_from: str | None = Field(description="The registry the field is prefilled from")


class ActionDefOut(BaseModel):
    name: str
    label_ja: str
    label_en: str
    from_states: list[str]
    to_state: str
    role: str
    signed: bool
    needs_reason: bool


class ServiceSummary(BaseModel):
    """A procedure offered online (a GovStack Registration "service")."""

    code: str = Field(examples=["move_out"])
    title_ja: str
    title_en: str
    sla_days: int = Field(description="Service-level target: days from submission to completion")
    evidence_in: list[str]
    evidence_out: list[str]


class ServiceRead(ServiceSummary):
    """A procedure's full definition: states, actions and form."""

    states: list[str]
    initial: str
    final_states: list[str]
    fields: list[FieldDefOut]
    actions: list[ActionDefOut]


class ApplicationCreate(BaseModel):
    """Start an application (a draft, prefilled from the registries)."""

    service: str = Field(max_length=64, description="The procedure's code", examples=["move_out"])


class DraftUpdate(BaseModel):
    """Values the applicant typed (not the prefilled ones)."""

    values: JsonObject = Field(
        description="At most 16 KiB as JSON", examples=[{"move_date": "2026-12-01"}]
    )
    expected_version: int = _VERSION


class SubmissionRead(BaseModel):
    """What the card signs for a submission at this version."""

    version: int
    signed_data: str = Field(description="Sign these ASCII bytes with the card's signing key")
    document: dict[str, Any] = Field(description="The document the applicant is shown")


class SubmissionCreate(BaseModel):
    """A signed submission."""

    expected_version: int = _VERSION
    signing_certificate: str = Field(
        max_length=8000, description="The card's signing certificate, DER, base64url"
    )
    signature: str = Field(max_length=2000, description="Signature over signed_data, base64url")


class ApplicantAction(BaseModel):
    """An action the applicant takes (for example withdraw)."""

    action: str = Field(max_length=64)
    expected_version: int = _VERSION
    reason: FreeText | None = Field(default=None, max_length=2000)


class TaskClaim(BaseModel):
    """The version read; the official is whoever is signed in (or holds the key)."""

    expected_version: int = _VERSION


class TaskComplete(BaseModel):
    """An official's action on a claimed task (approve, send back with a reason, …)."""

    action: str = Field(max_length=64, examples=["approve"])
    expected_version: int = _VERSION
    reason: FreeText | None = Field(default=None, max_length=2000)
    data: JsonObject | None = Field(default=None, description="At most 16 KiB as JSON")
