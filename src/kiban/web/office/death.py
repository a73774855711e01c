"""The death at the office: the same おくやみ list the bereaved see, with what was done, and
the family behind the legal heirs, which the office completes (people outside the register,
renunciations at the family court) as JSON the inheritance engine reads.

Reading asks the policy for ``procedures.tasks.read`` on the notice's office, correcting for
``procedures.death.heirs``; another municipality's official gets 403. The people of the family
shown are recorded as read (``residents.do_record_reads``) for the procedure.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents, staff
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.life_events import death
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang, get_route_name
from kiban.web.office.session import Official, OfficialUser
from kiban.web.portal.procedures import missing_page
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)


def _notice(
    session: Session, official: Official, application_id: uuid.UUID, action: str
) -> procedures.ApplicationRead:
    app = procedures.get_application(session, application_id)
    staff.authorize(session, official.principal, action, organisation=app.office or "")
    if app.code != death.DEATH or app.state != "accepted":
        raise death.NotDeceased()
    return app


def _page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    app: procedures.ApplicationRead,
    *,
    family_text: str | None = None,
    error: KibanError | None = None,
) -> HTMLResponse:
    family = dict(app.outputs.get("family") or {})
    shown = [death.deceased_of(app)] + [
        uuid.UUID(str(h)) for h in app.outputs.get("household_ids") or []
    ]
    residents.do_record_reads(
        session,
        official.principal,
        shown,
        items=["name", "birth_date", "relationship"],
        purpose=residents.ReadPurpose.PROCEDURE,
        route=get_route_name(request),
    )
    return get_pages().render(
        request,
        lang,
        "office/death.html",
        {
            "official": official,
            "app": app,
            "name": app.values.get("name"),
            "items": death.okuyami.items_for(session, app),
            "told": death.okuyami.told_of(session, app),
            "heirs": death.heirs.heirs_table(family),
            "family_text": family_text
            or json.dumps(family, ensure_ascii=False, indent=2, sort_keys=True),
            "error": error.message(lang) if error else None,
        },
        status_code=error.status if error else 200,
    )


@router.get("/deaths/{application_id}")
def death_page(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
) -> HTMLResponse:
    """The procedures for the bereaved with what was done, the heirs and their family."""
    try:
        app = _notice(session, official, application_id, "procedures.tasks.read")
    except KibanError as error:
        return missing_page(request, lang, error, portal=False)
    return _page(request, lang, session, official, app)


@router.post("/deaths/{application_id}/family")
def correct(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    family: Annotated[str, Form(max_length=100_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Keep the office's corrected family (checked by the inheritance engine first)."""
    sessions.check_csrf(official.session, csrf_token)
    try:
        app = _notice(session, official, application_id, "procedures.death.heirs")
    except KibanError as error:
        return missing_page(request, lang, error, portal=False)
    try:
        try:
            parsed: Any = json.loads(family)
        except ValueError:
            raise ValidationFailed(
                "JSON として読めません。", "This is not JSON.", field="family"
            ) from None
        death.correct_family(session, app, parsed, actor=official.actor)
    except KibanError as error:
        session.rollback()
        app = _notice(session, official, application_id, "procedures.death.heirs")
        return _page(request, lang, session, official, app, family_text=family, error=error)
    return RedirectResponse(f"/office/deaths/{application_id}?lang={lang}", status_code=303)
