"""Office pages of the resident register: the list of residents and the printable
certificate of residence (住民票の写し). Officials only, of the municipality whose register it
is (``staff.authorize``); every person shown is recorded as read (``residents.access_*``), and
issuing a certificate is audited under the official's name."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from kiban.blocks import residents, staff
from kiban.platform.webkit import DbSession, Lang, RouteName
from kiban.web.office.home import municipality_name as municipality_name_of
from kiban.web.office.session import OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office/residents", include_in_schema=False)
PAGE_SIZE = 50


@router.get("")
def resident_list(
    request: Request,
    session: DbSession,
    lang: Lang,
    official: OfficialUser,
    route: RouteName,
    municipality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Residents of one municipality (the official's own unless another is asked for, which
    the policy refuses unless their organisation reaches it), fifty to a page."""
    municipality = municipality or official.lg_code
    staff.authorize(
        session,
        official.principal,
        "residents.read",
        organisation=municipality or official.principal.organisation,
    )
    # One more than a page tells whether there is a next page; only the page shown is read.
    people = residents.list_people(
        session, lg_code=municipality, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    has_next = len(people) > PAGE_SIZE
    people = people[:PAGE_SIZE]
    residents.do_record_reads(
        session,
        official.principal,
        (p.id for p in people),
        items=residents.PERSON_ITEMS,
        purpose=residents.ReadPurpose.REGISTER_ADMINISTRATION,
        route=route,
    )
    municipality_name = municipality_name_of(session, lang, municipality) if municipality else None
    return get_pages().render(
        request,
        lang,
        "office/residents.html",
        {
            "official": official,
            "people": people,
            "page": page,
            "has_next": has_next,
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
    route: RouteName,
    household: bool = False,
) -> HTMLResponse:
    """A printable certificate of residence for one person or the whole household."""
    staff.authorize(
        session,
        official.principal,
        "residents.certificate.issue",
        organisation=residents.get_person(session, person_id).address.lg_code,
        resource=staff.Resource(person=person_id),
    )
    issued = residents.access_certificate_by_person_id(
        session, official.principal, person_id, whole_household=household, route=route
    )
    return get_pages().render(
        request,
        lang,
        "office/certificate.html",
        {
            "official": official,
            "certificate": issued,
            "household": household,
            "issued_at": issued.issued_at,
        },
    )
