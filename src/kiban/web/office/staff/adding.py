"""Adding an official: a person of the register, found by full name or register id (each one
shown is recorded as read), given a role here; their own card is their sign-in."""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import residents, staff
from kiban.kernel.errors import KibanError
from kiban.platform import audit, i18n, sessions
from kiban.platform.webkit import DbSession, Lang, RouteName
from kiban.web.office.session import Official, OfficialUser
from kiban.web.office.staff.pages import (
    STAFF_PAGE,
    FormError,
    common_context,
    department_choices,
    grant_here,
    is_fresh,
    role_and_department,
    role_choices,
    step_up,
    to_account,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix=STAFF_PAGE, include_in_schema=False)
SEARCH_LIMIT: Final = 10
_FULL_WIDTH_SPACE: Final = "\u3000"


def _new_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    *,
    query: str = "",
    candidates: list[residents.PersonRead] | None = None,
    error: KibanError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    fresh = is_fresh(session, official)
    return get_pages().render(
        request,
        lang,
        "office/staff_new.html",
        {
            **common_context(official, lang),
            "fresh": fresh,
            "query": query,
            "candidates": candidates,
            "roles": role_choices(session, official, lang),
            "departments": department_choices(session, official, lang),
            "error": error.message(lang) if error else None,
            "error_field": (error.field or None) if error else None,
            "values": values or {},
        },
        status_code=error.status if error else 200,
    )


@router.get("/new")
def new_official_form(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """Find the person (by full name or register id) who becomes an official."""
    return _new_page(request, lang, session, official)


def _find(
    session: Session, official: Official, query: str, route: str
) -> list[residents.PersonRead]:
    """The people a search names: a register id, or an exact full name (family and given
    name, in kanji or kana, with a space between). Each person shown is recorded as read."""
    text = query.strip()
    if not text or len(text) > 100:
        raise FormError(
            "氏名（姓と名の間に空白）または住民の ID を入力してください。",
            "Enter a full name (family name, a space, given name) or a register id.",
            field="query",
        )
    purpose = residents.ReadPurpose.STAFF_ADMINISTRATION
    try:
        person_id = uuid.UUID(text)
    except ValueError:
        person_id = None
    if person_id is not None:
        try:
            return [
                residents.access_person_by_id(
                    session, official.principal, person_id, purpose=purpose, route=route
                )
            ]
        except KibanError:
            return []
    parts = text.replace(_FULL_WIDTH_SPACE, " ").split()
    if len(parts) != 2:
        raise FormError(
            "姓と名の間に空白を入れて、氏名を入力してください。",
            "Enter the full name with a space between family name and given name.",
            field="query",
        )
    return residents.access_people_by_full_name(
        session,
        official.principal,
        parts[0],
        parts[1],
        limit=SEARCH_LIMIT,
        purpose=purpose,
        route=route,
    )


@router.post("/new/search")
def search_person(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    route: RouteName,
    query: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The people of the register with this full name or id (sent in the body, never in the
    address); each shown is recorded as read for managing staff."""
    sessions.check_csrf(official.session, csrf_token)
    is_fresh(session, official)
    try:
        found = _find(session, official, query, route)
    except KibanError as error:
        return _new_page(request, lang, session, official, query=query, error=error)
    # Each person shown is recorded as read; the search itself is audited too, so that one
    # that finds nobody leaves a trace (the query is personal data: only its kind is kept).
    audit.record(
        session,
        tag="staff:office:register_searched",
        actor=official.actor,
        subject=official.principal.organisation,
        data={"by_id": _is_id(query), "found": len(found)},
    )
    return _new_page(request, lang, session, official, query=query, candidates=found)


def _is_id(query: str) -> bool:
    try:
        uuid.UUID(query.strip())
    except ValueError:
        return False
    return True


@router.post("/new")
def add_official(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    route: RouteName,
    person: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Make the chosen person an official of this organisation with a role; their name is the
    register's, and they sign in with their own card."""
    sessions.check_csrf(official.session, csrf_token)
    if not is_fresh(session, official):
        return step_up(f"{STAFF_PAGE}/new", lang)
    try:
        try:
            person_id = uuid.UUID(person)
        except ValueError:
            raise FormError(
                "職員にする人を選んでください。", "Choose the person.", field="person"
            ) from None
        role_and_department(session, official, role, department)
        found = residents.access_person_by_id(
            session,
            official.principal,
            person_id,
            purpose=residents.ReadPurpose.STAFF_ADMINISTRATION,
            route=route,
        )
        account = staff.get_account_by_person(session, found.id)
        if account is None:
            account = staff.do_create_official(
                session, person_id=found.id, name=found.full_name, actor=official.actor
            )
        chosen, dept = grant_here(session, official, account.id, role, department)
    except KibanError as error:
        session.rollback()
        values = {"person": person, "role": role, "department": department}
        return _new_page(request, lang, session, official, error=error, values=values)
    return to_account(account.id, lang, "added", chosen, dept)
