"""A person's own access records over HTTP: ``GET /api/v1/mesh/my-records``.

Called on behalf of a resident signed in to My page (the portal, kiban's first-party OpenID
Connect client): ``Authorization: Bearer <access token>``. Tokens that relying parties received
are refused: the list of every exchange about a person is for the person, not for a company
the person signed in to.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kiban.blocks import identity
from kiban.blocks.mesh import records
from kiban.platform.fields import Limit, SequenceNumber
from kiban.platform.webkit import DbSession


class CheckpointOut(BaseModel):
    """A signed Merkle root (RFC 6962) over the first ``tree_size`` records."""

    tree_size: int
    root_hash: str = Field(description="SHA-256, hex")
    created_at: datetime
    key_id: str
    signature: str = Field(
        description="Ed25519 (hex) over the checkpoint message; see kiban.blocks.mesh.records"
    )


class RecordOut(BaseModel):
    """One record of an exchange about the person, with its inclusion proof."""

    seq: int
    hash: str = Field(description="The record's chain hash, the Merkle leaf")
    prev_hash: str
    recorded_at: datetime
    side: str = Field(description="requester or provider: whose record this is")
    member: str = Field(description="The subsystem that kept this record")
    counterpart: str
    agency_code: str = Field(description="The person's code at `member`")
    service: str
    items: list[str]
    legal_basis: str | None
    consent_id: uuid.UUID | None
    message_id: str
    request_hash: str
    response_hash: str | None
    outcome: str = Field(examples=["ok", "refused:mesh.no_grant"])
    requested_at: datetime
    provided_at: datetime | None
    non_disclosure_until: date | None
    leaf_index: int
    proof: list[str] | None = Field(
        description="RFC 6962 audit path (hex, leaf to root) against `checkpoint`; null until "
        "a checkpoint covers the record (within about 10 seconds)"
    )
    note: str | None


class RecordPageOut(BaseModel):
    """A page of the person's records, newest first."""

    records: list[RecordOut]
    next_before: int | None = Field(description="`before` for the next page; null at the end")
    checkpoint: CheckpointOut | None


ERRORS: dict[int | str, dict[str, Any]] = {
    **identity.MY_PAGE_TOKEN_ERRORS,
    422: {"description": "Invalid `limit` or `before`; `error.field` names it"},
}

router = APIRouter(prefix="/api/v1/mesh", tags=["access records"], responses=ERRORS)


@router.get("/my-records", summary="My access records (情報提供等記録)")
def my_records(
    session: DbSession,
    person_id: identity.MyPagePerson,
    limit: Limit = 20,
    before: Annotated[
        SequenceNumber | None, Query(description="Only records before this sequence number")
    ] = None,
) -> RecordPageOut:
    """Every exchange of data about the signed-in person, newest first: who asked whom, for
    which items, under which legal basis or consent, and the outcome. Each record comes with an
    inclusion proof against the latest signed checkpoint; records the law allows to be withheld
    for a while appear on their release date."""
    page = records.records_for_person(session, person_id, limit=limit, before_seq=before)
    return RecordPageOut(
        records=[RecordOut(**asdict(record)) for record in page.records],
        next_before=page.next_before,
        checkpoint=None if page.checkpoint is None else CheckpointOut(**asdict(page.checkpoint)),
    )
