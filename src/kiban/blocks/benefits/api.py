"""Benefits over HTTP for officials and service accounts of kiban's national operator (the
payer of the shipped programmes): programmes, an eligibility preview, runs and the resolution
of a recipient's correction. Every route asks the one policy (``benefits.read``,
``benefits.run``); recipients decline or correct in the portal (kiban.web.portal.benefits).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from kiban.blocks.benefits import service
from kiban.blocks.benefits.schemas import (
    DeterminationRead,
    PreviewRead,
    ProgrammeRead,
    RunRead,
    RunRequest,
)
from kiban.platform.authority import NATIONAL, Acting, authorize
from kiban.platform.fields import StrictDate
from kiban.platform.webkit import DbSession

router = APIRouter(tags=["benefits"])

_CODE = Path(pattern=r"^[a-z][a-z0-9-]{1,47}$", description="The programme's code")
_DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
    403: {"description": "`staff.not_permitted`, `staff.other_organisation`"},
}


class ResolveCorrection(BaseModel):
    """The amount the recipient is owed after the correction (0: nothing)."""

    amount_yen: int = Field(ge=0, le=100_000_000)


@router.get(
    "/api/v1/benefits/programmes",
    summary="List benefit programmes",
    responses=_DENIED,
)
def programmes(session: DbSession, actor: Acting) -> list[ProgrammeRead]:
    """Every defined programme with its definition (rules, amounts, window, payer)."""
    authorize(session, actor, "benefits.read", organisation=NATIONAL)
    return service.list_programmes(session)


@router.get(
    "/api/v1/benefits/programmes/{code}/preview",
    summary="Preview who a run would pay",
    responses={
        **_DENIED,
        404: {"description": "`benefits.programme_not_found`"},
        422: {"description": "`benefits.not_a_payment_month`, or invalid input"},
    },
)
def preview(
    session: DbSession,
    actor: Acting,
    code: Annotated[str, _CODE],
    base_date: Annotated[StrictDate, Query(description="The base date (基準日)")],
    sample: Annotated[int, Query(ge=0, le=20)] = 5,
) -> PreviewRead:
    """Counts and a small sample (household size, ages, amount; no names) of what a run on the
    base date would award. Reads nobody's tax data: for an income-tested programme the counts
    are an upper bound (``tax_checked`` is false)."""
    authorize(session, actor, "benefits.read", organisation=NATIONAL)
    return service.preview_programme(session, code, base_date, sample=sample)


@router.post(
    "/api/v1/benefits/programmes/{code}/runs",
    summary="Run (or continue) a programme for a base date",
    responses={
        **_DENIED,
        404: {"description": "`benefits.programme_not_found`"},
        409: {"description": "`benefits.run_conflict`"},
        422: {"description": "`benefits.not_a_payment_month`, or invalid input"},
        502: {"description": "`benefits.tax_unavailable`"},
    },
)
def run(
    session: DbSession, actor: Acting, code: Annotated[str, _CODE], body: RunRequest
) -> RunRead:
    """Determine everyone eligible on the base date, notify each new recipient, and once the
    opt-out window is over hand the obligations to payments. Repeating it never doubles."""
    authorize(session, actor, "benefits.run", organisation=NATIONAL)
    return service.do_run_programme(session, code, body.base_date, actor=actor.actor)


@router.get(
    "/api/v1/benefits/runs",
    summary="List runs",
    responses=_DENIED,
)
def runs(session: DbSession, actor: Acting) -> list[RunRead]:
    """Every run, newest first, with its counts by status."""
    authorize(session, actor, "benefits.read", organisation=NATIONAL)
    return service.list_runs(session)


@router.post(
    "/api/v1/benefits/determinations/{determination_id}/resolution",
    summary="Resolve a recipient's correction",
    responses={
        **_DENIED,
        404: {"description": "`benefits.determination_not_found`"},
        409: {"description": "`benefits.opt_out_closed` (no correction is pending)"},
    },
)
def resolve(
    session: DbSession,
    actor: Acting,
    determination_id: uuid.UUID,
    body: ResolveCorrection,
) -> DeterminationRead:
    """Set the amount owed after a recipient's correction; the next settlement pays it."""
    authorize(session, actor, "benefits.run", organisation=NATIONAL)
    return service.do_resolve_correction(
        session, determination_id, amount_yen=body.amount_yen, actor=actor.actor
    )
