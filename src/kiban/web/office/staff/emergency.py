"""Emergency access (break-glass): one official let read one resident's record of this
organisation for 1 to 72 hours, with a reason the resident reads in their inbox."""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import residents, staff
from kiban.kernel.errors import KibanError
from kiban.life_events import emergency
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang, RouteName
from kiban.web.office.session import Official, OfficialUser
from kiban.web.office.staff.pages import (
    STAFF_PAGE,
    FormError,
    account_here,
    back_to,
    common_context,
    is_fresh,
    step_up,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix=STAFF_PAGE, include_in_schema=False)
EMERGENCY_PAGE: Final = f"{STAFF_PAGE}/emergency"


def _emergency_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    route: str,
    *,
    error: KibanError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    fresh = is_fresh(session, official)
    organisation = official.principal.organisation
    grants = staff.list_live_break_glass(session, organisation)
    names = residents.access_names_by_person_ids(
        session,
        official.principal,
        (g.person_id for g in grants),
        purpose=residents.ReadPurpose.STAFF_ADMINISTRATION,
        route=route,
    )
    officials = [
        a
        for a in staff.list_accounts(session, organisation=organisation)
        if a.kind == "official" and a.status == "active" and a.id != official.principal.account_id
    ]
    done = None
    granted = request.query_params.get("granted")
    if granted and error is None:
        done = next((g for g in grants if str(g.id) == granted), None)
    return get_pages().render(
        request,
        lang,
        "office/staff_emergency.html",
        {
            **common_context(official, lang),
            "fresh": fresh,
            "grants": grants,
            "names": names,
            "officials": officials,
            "done": done,
            "error": error.message(lang) if error else None,
            "error_field": (error.field or None) if error else None,
            "values": values or {"hours": "4"},
        },
        status_code=error.status if error else 200,
    )


@router.get("/emergency")
def emergency_list(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser, route: RouteName
) -> HTMLResponse:
    """Emergency accesses in force over this organisation's residents, and the form to grant
    one (time-boxed, with a reason the resident reads)."""
    return _emergency_page(request, lang, session, official, route)


@router.post("/emergency")
def emergency_grant(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    route: RouteName,
    account: Annotated[str, Form()] = "",
    person: Annotated[str, Form()] = "",
    hours: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    certificate: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Let one official read one resident's record of this organisation for 1 to 72 hours; the
    resident is told in their inbox."""
    sessions.check_csrf(official.session, csrf_token)
    if not is_fresh(session, official):
        return step_up(EMERGENCY_PAGE, lang)
    organisation = official.principal.organisation
    values = {
        "account": account,
        "person": person,
        "hours": hours,
        "reason": reason,
        "certificate": certificate,
    }
    try:
        try:
            account_id = uuid.UUID(account)
        except ValueError:
            raise FormError(
                "職員を選んでください。", "Choose the official.", field="account"
            ) from None
        account_here(session, official, account_id)
        if account_id == official.principal.account_id:
            # Emergency access is one person's decision over another's reach, never one's own.
            raise FormError(
                "ご自身には緊急アクセスを認められません。",
                "You cannot grant emergency access to yourself.",
                field="account",
            )
        try:
            person_id = uuid.UUID(person.strip())
        except ValueError:
            raise FormError(
                "住民の ID を入力してください。",
                "Enter the resident's register id.",
                field="person",
            ) from None
        try:
            found = residents.access_person_by_id(
                session,
                official.principal,
                person_id,
                purpose=residents.ReadPurpose.STAFF_ADMINISTRATION,
                route=route,
            )
        except KibanError:
            found = None
        if found is None or found.address.lg_code != organisation:
            raise FormError(
                "この団体の住民記録にその ID の人はいません。",
                "No resident of this organisation has that register id.",
                field="person",
            )
        try:
            duration = int(hours)
        except ValueError:
            raise FormError(
                "時間数を数字で入力してください（1〜72）。",
                "Enter the number of hours (1 to 72).",
                field="hours",
            ) from None
        permissions = ["residents.read"] + (["residents.certificate.issue"] if certificate else [])
        granted = emergency.do_grant_emergency_access(
            session,
            account_id,
            person_id=person_id,
            organisation=organisation,
            permissions=permissions,
            hours=duration,
            reason=reason,
            actor=official.actor,
        )
    except KibanError as error:
        session.rollback()
        return _emergency_page(request, lang, session, official, route, error=error, values=values)
    return back_to(EMERGENCY_PAGE, lang, granted=str(granted.id))
