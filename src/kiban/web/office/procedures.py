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
from kiban.web.office import outcomes
from kiban.web.office.home import municipality_name, role_label, who
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
            "flash": sessions.take_flash(session, official.session),
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
        "flash": sessions.take_flash(session, official.session),
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
        "municipality": lambda code: municipality_name(session, lang, code),
        "action_label": lambda name: procedures.action_label(app.code, name, lang),
        "role_label": lambda role: role_label(lang, role),
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


def _claim_or_release(
    application_id: uuid.UUID,
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    version: int,
    *,
    release: bool,
) -> Response:
    """Claim or release a task (one permission, ``procedures.tasks.claim``), then say so on the
    next page: the application after a claim, the queue after a release. The route has checked
    the form's CSRF token."""
    try:
        app = procedures.get_application(session, application_id)
        _ask(session, official, "procedures.tasks.claim", app)
        take = procedures.do_release_task if release else procedures.do_claim_task
        take(session, application_id, official=official_actor(official), expected_version=version)
        applicant = _applicant(request, session, official, app)
    except KibanError as error:
        return _refused(request, lang, session, official, application_id, error)
    sessions.set_flash(
        session, official.session, outcomes.claimed(lang, app, applicant, released=release)
    )
    if release:
        return RedirectResponse(f"/office/tasks?lang={lang}", status_code=303)
    return _back(application_id, lang)


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
    return _claim_or_release(
        application_id, request, lang, session, official, version, release=False
    )


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
    return _claim_or_release(
        application_id, request, lang, session, official, version, release=True
    )


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
    confirmed: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take the official's action (accept, send back with a reason, complete; a move-in's
    completion carries the day the resident says they moved in). The first post answers a
    confirmation page that says what the action will do (who leaves or joins the register);
    the confirmed post takes it and says what it did on the application's page."""
    sessions.check_csrf(official.session, csrf_token)
    route = get_route_name(request)
    try:
        app = procedures.get_application(session, application_id)
        _ask(
            session,
            official,
            f"procedures.{app.code}.{action}",
            app,
            resource=_resource(app, action),
        )
        checked = procedures.check_action(
            session,
            application_id,
            action,
            role="official",
            actor=official_actor(official),
            expected_version=version,
            reason=reason or None,
        )
        names = outcomes.names_of(session, official.principal, app, action, route=route)
        if not confirmed:
            return _confirmation(
                request, lang, session, official, app, checked, names, reason, moved_in_on
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
        taken = procedures.get_application(session, application_id)
    except KibanError as error:
        return _refused(request, lang, session, official, application_id, error)
    sessions.set_flash(session, official.session, outcomes.outcome(lang, taken, checked, names))
    return _back(application_id, lang)


def _confirmation(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    app: procedures.ApplicationRead,
    action: procedures.ActionDef,
    names: list[str],
    reason: str,
    moved_in_on: str,
) -> HTMLResponse:
    return get_pages().render(
        request,
        lang,
        "office/confirm.html",
        {
            "official": official,
            "app": app,
            "action": action,
            "action_label": action.label_en if lang == "en" else action.label_ja,
            "title": app.title_en if lang == "en" else app.title_ja,
            "applicant": _applicant(request, session, official, app),
            "consequence": outcomes.consequence(lang, app, action, names),
            "reason": reason.strip(),
            "moved_in_on": moved_in_on,
        },
    )


def _applicant(
    request: Request, session: Session, official: Official, app: procedures.ApplicationRead
) -> str:
    return residents.access_names_by_person_ids(
        session,
        official.principal,
        [app.applicant_id],
        purpose=residents.ReadPurpose.PROCEDURE,
        route=get_route_name(request),
    ).get(app.applicant_id, str(app.applicant_id))
