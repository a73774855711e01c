"""The death in the citizen portal: filing the 死亡届 for a member of one's household, and the
おくやみ page for the bereaved (the procedures left, their deadlines, the legal heirs and the
法定相続情報一覧図 to download).

The 死亡届 is opened here (naming the deceased in the form's body, never in a URL), then goes
through the portal's own review, card-signing and receipt pages. The おくやみ page is addressed
by the notice's application id and shown only to the filer and to the members of the deceased's
household at the time of death; anyone else gets the same 404 as for a missing one. Downloads
are POSTs carrying the session's CSRF token.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events import death
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import check_csrf
from kiban.web.portal.fees import ApplicationMissing
from kiban.web.portal.procedures import (
    _own,
    _render,
    _review_page,
    missing_page,
)
from kiban.web.portal.session import Resident, require_resident

router = APIRouter(prefix="/portal", include_in_schema=False)

SignedIn = Annotated[Resident, Depends(require_resident)]
CHART_TYPES: Final = {"svg": "image/svg+xml", "pdf": "application/pdf"}


def _candidates(session: Session, resident: Resident) -> list[residents.PersonRead]:
    me = residents.get_person(session, resident.person_id)
    return [m for m in residents.get_household(session, me.household_id) if m.id != me.id]


@router.get("/death")
def death_page(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> HTMLResponse:
    """Whom the resident may file a 死亡届 for (the other members of their household)."""
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/death/start.html",
        {"members": _candidates(session, resident), "capacities": death.CAPACITIES, "error": None},
    )


@router.post("/death/start")
def start(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    deceased: Annotated[str, Form()] = "",
    capacity: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Open the 死亡届, prefilled from the register and the physician's certificate, keep the
    filer's capacity, and show the review to sign."""
    check_csrf(request, csrf_token)
    try:
        try:
            deceased_id = uuid.UUID(deceased)
        except ValueError:
            raise death.NotFamily() from None
        app = death.start_death_notice(
            session, filer=resident.person_id, deceased=deceased_id, actor=resident.actor
        )
        app = procedures.do_save_draft(
            session,
            app.id,
            {"capacity": capacity or None},
            expected_version=app.version,
            actor=resident.actor,
        )
    except KibanError as error:
        session.rollback()
        return _render(
            request,
            lang,
            session,
            resident,
            "portal/death/start.html",
            {
                "members": _candidates(session, resident),
                "capacities": death.CAPACITIES,
                "error": error.message(lang),
                "error_field": error.field,
            },
            status_code=error.status,
        )
    return _review_page(request, lang, session, resident, _own(session, resident, app.id))


def _bereaved(
    session: Session, resident: Resident, application_id: uuid.UUID
) -> procedures.ApplicationRead:
    """The accepted 死亡届 if the resident is its filer or of the deceased's household."""
    app = procedures.get_application(session, application_id)
    household = [str(h) for h in app.outputs.get("household_ids") or []]
    if app.code != death.DEATH or app.state != "accepted":
        raise ApplicationMissing
    if app.applicant_id != resident.person_id and str(resident.person_id) not in household:
        raise ApplicationMissing
    return app


def heirs_context(app: procedures.ApplicationRead) -> dict[str, Any]:
    """The heirs of the family kept with the notice, for a page."""
    table = death.heirs.heirs_table(dict(app.outputs.get("family") or {}))
    return {"heirs": table, "no_heir": not table}


@router.get("/okuyami/{application_id}")
def okuyami(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> HTMLResponse:
    """The bereaved's one-stop: every procedure that applies, by deadline, and the heirs."""
    try:
        app = _bereaved(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    return _render(
        request,
        lang,
        session,
        resident,
        "portal/death/okuyami.html",
        {
            "app": app,
            "items": death.okuyami.items_for(session, app),
            "told": death.okuyami.told_of(session, app),
            "name": app.values["name"],
        }
        | heirs_context(app),
    )


@router.post("/okuyami/{application_id}/chart")
def chart(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    kind: Annotated[Literal["svg", "pdf"], Form()] = "pdf",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The 法定相続情報一覧図 as SVG or PDF, for the filer and the household only."""
    check_csrf(request, csrf_token)
    try:
        app = _bereaved(session, resident, application_id)
    except KibanError as error:
        return missing_page(request, lang, error)
    body = death.heirs.chart(
        dict(app.outputs.get("family") or {}), kind=kind, made_on=clock.today_jst()
    )
    return Response(
        body,
        media_type=CHART_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="heirs-chart.{kind}"',
            "Cache-Control": "no-store",
        },
    )
