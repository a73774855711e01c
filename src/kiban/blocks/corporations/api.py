"""The corporate registry over HTTP (operator API)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from kiban.blocks import corporations
from kiban.platform.authority import NATIONAL, Acting, authorize
from kiban.platform.fields import LongLimit, Offset
from kiban.platform.webkit import DbSession

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
    403: {"description": "`staff.not_permitted`"},
    404: {"description": "No corporation with this number: `corporations.not_found`"},
    409: {"description": "The corporate number is already registered: `corporations.exists`"},
    422: {
        "description": "Invalid input, `error.field` names it: `kiban.identifier.*` for the "
        "corporate number, `corporations.invalid`, `kiban.invalid`"
    },
}

router = APIRouter(prefix="/api/v1/corporations", tags=["corporations"], responses=ERRORS)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a corporation")
def register_corporation(
    data: corporations.CorporationCreate, session: DbSession, actor: Acting
) -> corporations.CorporationRead:
    """Enter a corporation with its head office and representative; the corporate number's
    check digit is verified."""
    authorize(session, actor, "corporations.write", organisation=NATIONAL)
    return corporations.register_corporation(session, data, actor=actor.actor)


@router.get("", summary="List corporations")
def list_corporations(
    session: DbSession,
    actor: Acting,
    municipality: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="6-digit lg_code of the head office")
    ] = None,
    name: Annotated[
        str | None, Query(max_length=128, description="Part of the name or furigana")
    ] = None,
    limit: LongLimit = 50,
    offset: Offset = 0,
) -> list[corporations.CorporationRead]:
    """Corporations in furigana order."""
    authorize(session, actor, "corporations.read", organisation=NATIONAL)
    return corporations.list_corporations(
        session, lg_code=municipality, name=name, limit=limit, offset=offset
    )


@router.get("/{corporate_number}", summary="Read a corporation by its corporate number")
def get_corporation(
    corporate_number: Annotated[
        str, Path(pattern=r"^\d{13}$", description="法人番号: 13 digits, the first a check digit")
    ],
    session: DbSession,
    actor: Acting,
) -> corporations.CorporationRead:
    """The corporation with this 13-digit corporate number."""
    authorize(session, actor, "corporations.read", organisation=NATIONAL)
    return corporations.get_corporation_by_number(session, corporate_number)
