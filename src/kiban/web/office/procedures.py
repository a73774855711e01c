"""Office pages of the procedures (窓口): the task queue of the official's municipality with
claim and release, and one application with its form, sources, signature, outputs and journal,
where the official takes the next action (accept, send back with a reason, complete).

An official works for the organisation and role chosen after signing in with their card; the
queue shows that office's tasks, and every read and action asks the one policy function
(``staff.authorize``) on the application's office: another municipality's applications answer
403. Every form carries the session's CSRF token and names the version the page showed, so two
officials cannot overwrite each other; a refused action re-renders the page with the reason.
Journals and claims name the official (account, organisation, role); pages show their names.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents, staff
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang, RouteName, get_route_name
from kiban.web.office.home import who
from kiban.web.office.session import Official, OfficialUser
from kiban.web.portal.procedures import missing_page, state_label
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

QUEUE_SIZE: Final = 100


def official_actor(official: Official) -> str:
    """How an official is named in journals and claims: ``staff:<account>@<org>/<role>``."""
    return official.actor


def _ask(
    session: Session,
    official: Official,
    action: str,
    app: procedures.ApplicationRead,
    *,
    resource: staff.Resource | None = None,
) -> None:
    staff.authorize(
        session,
        official.principal,
        action,
        organisation=app.office or "",
        resource=resource or procedures.task_resource(app),
    )


def _may(session: Session, official: Official, app: procedures.ApplicationRead, name: str) -> bool:
    try:
        _ask(session, official, f"procedures.{app.code}.{name}", app, resource=_resource(app, name))
    except KibanError:
        return False
    return True


def _resource(app: procedures.ApplicationRead, action: str) -> staff.Resource:
    return procedures.task_resource(app, action)


@router.get("/tasks")
def task_queue(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser, route: RouteName
) -> HTMLResponse:
    """Applications waiting for an official of this office, oldest first; the applicants' names
    are recorded as read."""
    office = official.principal.organisation
    staff.authorize(session, official.principal, "procedures.tasks.read", organisation=office)
    # A role held in one department sees that department's tasks.
    tasks = procedures.list_tasks(
        session, office=office, departments=official.principal.departments, limit=QUEUE_SIZE
    )
    names = residents.access_names_by_person_ids(
        session,
        official.principal,
        (t.applicant_id for t in tasks.items),
        purpose=residents.ReadPurpose.PROCEDURE,
        route=route,
    )
    return get_pages().render(
        request,
        lang,
        "office/tasks.html",
        {
            "official": official,
            "me": official_actor(official),
            "office_name": official.organisation_name,
            "who": lambda actor: who(session, lang, actor),
            "tasks": tasks.items,
            "total": tasks.total,
            "names": {
                t.applicant_id: names.get(t.applicant_id, str(t.applicant_id)) for t in tasks.items
            },
            "state_label": lambda state: state_label(lang, state),
            "title_of": lambda app: app.title_ja if lang == "ja" else app.title_en,
        },
    )


@router.get("/procedures")
def procedure_report(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """Every registered procedure with its service level and its prefill report: values typed,
    values prefilled from registries, and prefilled facts typed again (once-only keeps it 0)."""
    staff.authorize(
        session,
        official.principal,
        "procedures.report.read",
        organisation=official.principal.organisation,
    )
    definitions = procedures.list_procedures()
    return get_pages().render(
        request,
        lang,
        "office/procedures.html",
        {
            "official": official,
            "rows": [(d, procedures.prefill_report(session, d.code)) for d in definitions],
            "title_of": lambda d: d.title_ja if lang == "ja" else d.title_en,
        },
    )


def _application_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    application_id: uuid.UUID,
    *,
    error: KibanError | None = None,
) -> HTMLResponse:
    app = procedures.get_application(session, application_id)
    _ask(session, official, "procedures.tasks.read", app)
    defn = procedures.get_procedure(app.code)
    me = official_actor(official)
    actions = [
        a
        for a in defn.actions_from(app.state)
        if a.role == "official" and _may(session, official, app, a.name)
    ]
    not_ready = None
    if defn.check_ready is not None and actions:
        try:
            defn.check_ready(app)
        except KibanError as refusal:
            not_ready = refusal.message(lang)
    context: dict[str, Any] = {
        "not_ready": not_ready,
        "today": clock.today_jst().isoformat(),
        "official": official,
        "me": me,
        "app": app,
        "applicant": residents.access_names_by_person_ids(
            session,
            official.principal,
            [app.applicant_id],
            purpose=residents.ReadPurpose.PROCEDURE,
            route=get_route_name(request),
        ).get(app.applicant_id, str(app.applicant_id)),
        "actions": actions,
        "mine": app.claimed_by == me,
        "is_task": bool(actions),
        "other_office": False,
        "who": lambda actor: who(session, lang, actor),
        "error": error.message(lang) if error else None,
        "state_label": lambda state: state_label(lang, state),
        "title_of": lambda a: a.title_ja if lang == "ja" else a.title_en,
        "label_of": lambda item: item.label_ja if lang == "ja" else item.label_en,
    }
    return get_pages().render(
        request,
        lang,
        "office/application.html",
        context,
        status_code=error.status if error else 200,
    )


@router.get("/applications/{application_id}")
def application(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
) -> HTMLResponse:
    """One application: form with sources, signature, outputs, journal and the next actions."""
    try:
        return _application_page(request, lang, session, official, application_id)
    except KibanError as error:
        return missing_page(request, lang, error, portal=False)


def _refused(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    application_id: uuid.UUID,
    error: KibanError,
) -> HTMLResponse:
    # Whatever the refused action wrote is rolled back before the page is read again.
    session.rollback()
    try:
        return _application_page(request, lang, session, official, application_id, error=error)
    except KibanError as unreadable:
        # Not even readable for this official (another organisation's): the refusal alone.
        return missing_page(request, lang, unreadable, portal=False)


def _back(application_id: uuid.UUID, lang: str) -> RedirectResponse:
    return RedirectResponse(f"/office/applications/{application_id}?lang={lang}", status_code=303)


@router.post("/applications/{application_id}/claim")
def claim(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    version: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take the task, so that this official alone acts on it."""
    sessions.check_csrf(official.session, csrf_token)
    try:
        app = procedures.get_application(session, application_id)
        _ask(session, official, "procedures.tasks.claim", app)
        procedures.do_claim_task(
            session, application_id, official=official_actor(official), expected_version=version
        )
    except KibanError as error:
        return _refused(request, lang, session, official, application_id, error)
    return _back(application_id, lang)


@router.post("/applications/{application_id}/release")
def release(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    version: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Give the task back to the queue."""
    sessions.check_csrf(official.session, csrf_token)
    try:
        app = procedures.get_application(session, application_id)
        _ask(session, official, "procedures.tasks.claim", app)
        procedures.do_release_task(
            session, application_id, official=official_actor(official), expected_version=version
        )
    except KibanError as error:
        return _refused(request, lang, session, official, application_id, error)
    return RedirectResponse(f"/office/tasks?lang={lang}", status_code=303)


@router.post("/applications/{application_id}/act")
def act(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    version: Annotated[int, Form()],
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    moved_in_on: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take the official's action (accept, send back with a reason, complete; a move-in's
    completion carries the day the resident says they moved in)."""
    sessions.check_csrf(official.session, csrf_token)
    try:
        app = procedures.get_application(session, application_id)
        _ask(
            session,
            official,
            f"procedures.{app.code}.{action}",
            app,
            resource=_resource(app, action),
        )
        procedures.do_take_action(
            session,
            application_id,
            action,
            role="official",
            actor=official_actor(official),
            expected_version=version,
            reason=reason or None,
            data={"moved_in_on": moved_in_on} if moved_in_on else None,
        )
    except KibanError as error:
        return _refused(request, lang, session, official, application_id, error)
    return _back(application_id, lang)
