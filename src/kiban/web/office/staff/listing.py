"""The organisation's officials and service accounts, and adding a service account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import staff
from kiban.kernel.errors import KibanError
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang
from kiban.web.office.session import AUDIENCE, Official, OfficialUser
from kiban.web.office.staff.pages import (
    STAFF_PAGE,
    common_context,
    department_choices,
    done_message,
    grant_here,
    is_fresh,
    memberships_here,
    role_choices,
    step_up,
    to_account,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix=STAFF_PAGE, include_in_schema=False)


@router.get("")
def staff_list(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """The organisation's officials and service accounts: roles with department, status and
    last sign-in."""
    return _list_page(request, lang, session, official)


def _list_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    *,
    error: KibanError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    fresh = is_fresh(session, official)
    organisation = official.principal.organisation
    accounts = staff.list_accounts(session, organisation=organisation, former=True)
    signed_in = sessions.last_started(
        session, audience=AUDIENCE, subjects=(str(a.id) for a in accounts)
    )
    return get_pages().render(
        request,
        lang,
        "office/staff.html",
        {
            **common_context(official, lang),
            "fresh": fresh,
            "officials": [a for a in accounts if a.kind == "official"],
            "services": [a for a in accounts if a.kind == "service"],
            "here": lambda a: memberships_here(a, official),
            "signed_in": {a.id: signed_in.get(str(a.id)) for a in accounts},
            "roles": role_choices(session, official, lang),
            "departments": department_choices(session, official, lang),
            "done": done_message(session, official, lang, request),
            "error": error.message(lang) if error else None,
            "error_field": (error.field or None) if error else None,
            "values": values or {},
        },
        status_code=error.status if error else 200,
    )


@router.post("/services")
def add_service_account(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A service account of this organisation (an agency's system, a batch job) with a role."""
    sessions.check_csrf(official.session, csrf_token)
    if not is_fresh(session, official):
        return step_up(STAFF_PAGE, lang)
    try:
        # The name is checked first, then the role; a refusal rolls both back.
        account = staff.do_create_service_account(session, name=name, actor=official.actor)
        chosen, dept = grant_here(session, official, account.id, role, department)
    except KibanError as error:
        session.rollback()
        values = {"name": name, "role": role, "department": department}
        return _list_page(request, lang, session, official, error=error, values=values)
    return to_account(account.id, lang, "added", chosen, dept)
