"""Office pages of the resident register: the list of residents and the printable
certificate of residence (住民票の写し). Officials only; issuing a certificate is audited."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from kiban.blocks import address, residents
from kiban.kernel import clock
from kiban.platform.webkit import DbSession, Lang, Official, require_official
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office/residents", include_in_schema=False)

OfficialUser = Annotated[Official, Depends(require_official)]
PAGE_SIZE = 50


@router.get("")
def resident_list(
    request: Request,
    session: DbSession,
    lang: Lang,
    official: OfficialUser,
    municipality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Residents of one municipality (or all), fifty to a page."""
    people = residents.list_people(
        session, lg_code=municipality, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    municipality_name = None
    if municipality:
        found = address.get_municipality(session, municipality)
        municipality_name = f"{found.pref_name}{found.name}"
    return get_pages().render(
        request,
        lang,
        "office/residents.html",
        {
            "official": official,
            "people": people[:PAGE_SIZE],
            "page": page,
            "has_next": len(people) > PAGE_SIZE,
            "municipality": municipality,
            "municipality_name": municipality_name,
        },
    )


@router.get("/{person_id}/certificate")
def certificate(
    request: Request,
    person_id: uuid.UUID,
    session: DbSession,
    lang: Lang,
    official: OfficialUser,
    household: bool = False,
) -> HTMLResponse:
    """A printable certificate of residence for one person or the whole household."""
    issued = residents.issue_certificate(
        session, person_id, whole_household=household, actor=f"official:{official.name}"
    )
    return get_pages().render(
        request,
        lang,
        "office/certificate.html",
        {
            "official": official,
            "certificate": issued,
            "household": household,
            # Stored as UTC; officials and residents read Japan time.
            "issued_at": clock.to_jst(issued.issued_at).strftime("%Y-%m-%d %H:%M JST"),
        },
    )
