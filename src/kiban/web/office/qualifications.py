"""The qualifications registry in the office, for officials of an issuing authority
(厚生労働省's registry, a prefecture's): find holders, register a qualification, suspend,
reinstate, renew or revoke one, each after a confirmation page that says what it will do.

Every page asks the policy (``qualifications.read``, ``.register``, ``.suspend``, ...) in the
official's own organisation first and then in the registration's authority. Every holder whose
name is shown is recorded as read (purpose ``qualifications``); the register form's person is
found by name and birth date sent in the form's body, never in a URL.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import qualifications, residents, staff
from kiban.kernel.errors import KibanError, NotFound, ValidationFailed
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang, get_route_name
from kiban.web.office.home import who
from kiban.web.office.session import Official, OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office/qualifications", include_in_schema=False)
PAGE_SIZE: Final = 50


def _ask(session: Session, official: Official, action: str, authority: str | None = None) -> None:
    """The permission in the official's own organisation, then in the authority concerned."""
    principal = official.principal
    qualifications.authorize(session, principal, action, authority=principal.organisation)
    if authority is not None and authority != principal.organisation:
        qualifications.authorize(session, principal, action, authority=authority)


def _types_of(session: Session, official: Official) -> list[qualifications.QualificationType]:
    """The types this official's organisation registers."""
    organisation = staff.get_organisation(session, official.principal.organisation)
    return [
        t
        for t in qualifications.QUALIFICATION_TYPES
        if t.authority == organisation.code
        or (
            t.authority == qualifications.PREFECTURE
            and organisation.kind == staff.OrganisationKind.PREFECTURE
        )
    ]


def _labels(lang: i18n.Language) -> dict[str, Any]:
    _ = i18n.translations(lang).gettext
    return {
        "status_label": {
            "active": _("Registered"),
            "suspended": _("Suspended"),
            "revoked": _("Licence revoked"),
        },
        "action_label": {
            "registered": _("Register"),
            "renewed": _("Renew the registration"),
            "suspended": _("Suspend practice"),
            "reinstated": _("End the suspension"),
            "revoked": _("Revoke the licence"),
        },
        "type_name": lambda code: (
            qualifications.TYPES_BY_CODE[code].name_en
            if lang == "en"
            else qualifications.TYPES_BY_CODE[code].name_ja
        ),
    }


def _list(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    *,
    qualification: str,
    number: str,
    status: str,
    page: int,
    searched: bool = False,
) -> HTMLResponse:
    _ask(session, official, "qualifications.read")
    error = None
    found: list[qualifications.HolderWithName] = []
    try:
        if qualification:
            qualifications.get_type(qualification)
        if status and status not in qualifications.STATUSES:
            raise ValidationFailed("状態が正しくありません。", "Not a status.", field="status")
        found = qualifications.access_holders(
            session,
            official.principal,
            authority=official.principal.organisation,
            qualification=qualification or None,
            registration_number=number.strip() or None,
            status=status or None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
            route=get_route_name(request),
        )
        if searched:
            qualifications.do_record_search(
                session,
                official.principal,
                authority=official.principal.organisation,
                found=min(len(found), PAGE_SIZE),
            )
    except KibanError as error_:
        error = error_
    return get_pages().render(
        request,
        lang,
        "office/qualifications.html",
        {
            "official": official,
            "holders": found[:PAGE_SIZE],
            "has_next": len(found) > PAGE_SIZE,
            "page": page,
            "types": _types_of(session, official),
            "chosen": {"qualification": qualification, "number": number, "status": status},
            "statuses": qualifications.STATUSES,
            "error": error.message(lang) if error else None,
            "error_field": error.field if error else None,
            "flash": sessions.take_flash(session, official.session),
            **_labels(lang),
        },
        status_code=error.status if error else 200,
    )


@router.get("")
def holders_page(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    qualification: Annotated[str, Query(max_length=48)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The registrations of the official's authority, newest change first, fifty to a page,
    by qualification and status."""
    return _list(
        request,
        lang,
        session,
        official,
        qualification=qualification,
        number="",
        status=status,
        page=page,
    )


@router.post("/search")
def search(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    number: Annotated[str, Form(max_length=32)] = "",
    qualification: Annotated[str, Form(max_length=48)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Find a registration by its number (posted, so the number stays out of the URL)."""
    sessions.check_csrf(official.session, csrf_token)
    return _list(
        request,
        lang,
        session,
        official,
        qualification=qualification,
        number=number,
        status="",
        page=1,
        searched=True,
    )


def _new_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    values: dict[str, str],
    error: KibanError | None = None,
) -> HTMLResponse:
    return get_pages().render(
        request,
        lang,
        "office/qualification_new.html",
        {
            "official": official,
            "types": _types_of(session, official),
            "values": values,
            "error": error.message(lang) if error else None,
            "error_field": (error.field or "").split(".")[-1] if error else None,
            **_labels(lang),
        },
        status_code=error.status if error else 200,
    )


@router.get("/new")
def new_page(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """The form to register a person's qualification."""
    _ask(session, official, "qualifications.register")
    return _new_page(request, lang, session, official, {})


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            "日付は YYYY-MM-DD で入力してください。", "Enter the date as YYYY-MM-DD.", field=field
        ) from None


class PersonNotFound(NotFound):
    code = "qualifications.person_not_found"

    def __init__(self) -> None:
        super().__init__(
            "氏名と生年月日に合う住民が一人に定まりません。",
            "No single resident has this name and date of birth.",
            field="family_name",
        )


def _person(
    session: Session, official: Official, values: dict[str, str], route: str
) -> residents.PersonRead:
    born = _day(values["birth_date"], "birth_date")
    family, given = values["family_name"].strip(), values["given_name"].strip()
    if not family or not given:
        raise ValidationFailed(
            "氏名を入力してください。", "Enter the family and given name.", field="family_name"
        )
    found = [
        p
        for p in residents.access_people_by_full_name(
            session,
            residents.Reader(
                actor=official.principal.actor,
                actor_id=str(official.principal.account_id),
                organisation=official.principal.organisation,
                role=official.principal.role,
            ),
            family,
            given,
            purpose=residents.ReadPurpose.QUALIFICATIONS,
            route=route,
        )
        if p.birth_date == born
    ]
    if len(found) != 1:
        raise PersonNotFound
    return found[0]


@router.post("/new")
def register(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    qualification: Annotated[str, Form(max_length=48)] = "",
    family_name: Annotated[str, Form(max_length=100)] = "",
    given_name: Annotated[str, Form(max_length=100)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    registration_number: Annotated[str, Form(max_length=32)] = "",
    registered_on: Annotated[str, Form(max_length=10)] = "",
    confirmed: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Register: the first post answers a confirmation page naming the person; the confirmed
    post registers and says so on the registration's page."""
    sessions.check_csrf(official.session, csrf_token)
    _ask(session, official, "qualifications.register")
    values = {
        "qualification": qualification,
        "family_name": family_name,
        "given_name": given_name,
        "birth_date": birth_date,
        "registration_number": registration_number,
        "registered_on": registered_on,
    }
    _ = i18n.translations(lang).gettext
    try:
        kind = qualifications.get_type(qualification)
        day = _day(registered_on, "registered_on")
        person = _person(session, official, values, get_route_name(request))
        if not confirmed:
            authority = qualifications.registering_authority(
                session, official.principal, qualification
            )
            qualifications.authorize(
                session,
                official.principal,
                "qualifications.register",
                authority=authority,
                person_id=person.id,
            )
            return _confirm(
                request,
                lang,
                official,
                action="registered",
                post_to="/office/qualifications/new",
                facts=[
                    (_("Qualification"), _labels(lang)["type_name"](kind.code)),
                    (_("Name"), person.full_name),
                    (_("Date of birth"), person.birth_date.isoformat()),
                    (_("Registration number"), registration_number.strip()),
                    (_("Date of registration"), day.isoformat()),
                ],
                consequence=_(
                    "%(name)s is entered in the register of %(qualification)s; they can then "
                    "receive the licence into their wallet."
                )
                % {"name": person.full_name, "qualification": kind.name_ja},
                hidden=values,
                back="/office/qualifications/new",
            )
        made = qualifications.do_register(
            session,
            official.principal,
            qualification=qualification,
            person_id=person.id,
            registration_number=registration_number,
            registered_on=day,
        )
    except KibanError as error:
        session.rollback()
        return _new_page(request, lang, session, official, values, error)
    sessions.set_flash(
        session,
        official.session,
        _("Registered: %(name)s, %(qualification)s No. %(number)s.")
        % {
            "name": person.full_name,
            "qualification": kind.name_ja,
            "number": made.registration_number,
        },
    )
    return RedirectResponse(f"/office/qualifications/{made.id}?lang={lang}", status_code=303)


def _confirm(
    request: Request,
    lang: i18n.Language,
    official: Official,
    *,
    action: str,
    post_to: str,
    facts: list[tuple[str, str]],
    consequence: str,
    hidden: dict[str, str],
    back: str,
) -> HTMLResponse:
    return get_pages().render(
        request,
        lang,
        "office/qualification_confirm.html",
        {
            "official": official,
            "action": action,
            "post_to": post_to,
            "facts": facts,
            "consequence": consequence,
            "hidden": hidden,
            "back": back,
            **_labels(lang),
        },
    )


def _holder_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    holder_id: uuid.UUID,
    error: KibanError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    holder = qualifications.get_holder(session, holder_id)
    names = residents.access_names_by_person_ids(
        session,
        residents.Reader(
            actor=official.principal.actor,
            actor_id=str(official.principal.account_id),
            organisation=official.principal.organisation,
            role=official.principal.role,
        ),
        [holder.person_id],
        purpose=residents.ReadPurpose.QUALIFICATIONS,
        route=get_route_name(request),
    )
    history = [
        (step, who(session, lang, step.acted_by))
        for step in qualifications.get_history(session, holder_id)
    ]
    allowed = [
        action
        for action, (sources, _) in qualifications.TRANSITIONS.items()
        if holder.status in sources
        and staff.grants(official.principal.permissions, qualifications.ACTIONS[action])
        and (action != "renewed" or holder.valid_until is not None)
    ]
    return get_pages().render(
        request,
        lang,
        "office/qualification.html",
        {
            "official": official,
            "holder": holder,
            "kind": qualifications.get_type(holder.qualification),
            "name": names.get(holder.person_id, ""),
            "authority": qualifications.authority_name(session, holder.authority)[
                1 if lang == "en" else 0
            ],
            "history": history,
            "allowed": allowed,
            "values": values or {},
            "error": error.message(lang) if error else None,
            "error_field": error.field if error else None,
            "flash": sessions.take_flash(session, official.session),
            **_labels(lang),
        },
        status_code=error.status if error else 200,
    )


@router.get("/{holder_id}")
def holder_page(
    holder_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
) -> HTMLResponse:
    """One registration: the holder, its status, its history and the actions it allows."""
    _ask(session, official, "qualifications.read")
    holder = qualifications.get_holder(session, holder_id)
    _ask(session, official, "qualifications.read", holder.authority)
    return _holder_page(request, lang, session, official, holder_id)


@router.post("/{holder_id}/act")
def act(
    holder_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    registration_version: Annotated[int, Form()],
    action: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    confirmed: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Suspend, reinstate, renew or revoke: the first post answers a confirmation page that
    says what the action does to the holder's licence credentials; the confirmed post takes
    it. ``registration_version`` is the version the official saw: a change made meanwhile
    refuses the action (``qualifications.invalid_transition``)."""
    version = registration_version
    sessions.check_csrf(official.session, csrf_token)
    _ = i18n.translations(lang).gettext
    if action not in qualifications.ACTIONS:
        raise ValidationFailed("操作が正しくありません。", "Not an action.", field="action")
    _ask(session, official, qualifications.ACTIONS[action])
    holder = qualifications.get_holder(session, holder_id)
    _ask(session, official, qualifications.ACTIONS[action], holder.authority)
    values = {"action": action, "reason": reason, "until": until}
    try:
        day = _day(until, "until") if until.strip() else None
        if not confirmed:
            sources, _target = qualifications.TRANSITIONS[action]
            if holder.status not in sources or holder.version != version:
                raise qualifications.InvalidTransition(action, holder.status)
            if action in {"suspended", "revoked"} and not reason.strip():
                raise qualifications.InvalidRegistration(
                    "reason", "理由を入力してください", "a reason is required"
                )
            names = residents.access_names_by_person_ids(
                session,
                residents.Reader(
                    actor=official.principal.actor,
                    actor_id=str(official.principal.account_id),
                    organisation=official.principal.organisation,
                    role=official.principal.role,
                ),
                [holder.person_id],
                purpose=residents.ReadPurpose.QUALIFICATIONS,
                route=get_route_name(request),
            )
            name = names.get(holder.person_id, "")
            kind = qualifications.get_type(holder.qualification)
            consequences = {
                "suspended": _(
                    "%(name)s may not practise as %(qualification)s while suspended; their "
                    "licence credentials show as suspended to every verifier within five "
                    "minutes."
                ),
                "reinstated": _(
                    "The suspension of %(name)s ends; their licence credentials are valid again."
                ),
                "renewed": _("The registration of %(name)s as %(qualification)s is renewed."),
                "revoked": _(
                    "The registration of %(name)s as %(qualification)s is revoked for good; "
                    "every licence credential of it is refused from now on."
                ),
            }
            return _confirm(
                request,
                lang,
                official,
                action=action,
                post_to=f"/office/qualifications/{holder_id}/act",
                facts=[
                    (_("Qualification"), _labels(lang)["type_name"](kind.code)),
                    (_("Name"), name),
                    (_("Registration number"), holder.registration_number),
                    *([(_("Reason"), reason)] if reason.strip() else []),
                    *([(_("Until"), day.isoformat())] if day else []),
                ],
                consequence=consequences[action] % {"name": name, "qualification": kind.name_ja},
                hidden={**values, "registration_version": str(version)},
                back=f"/office/qualifications/{holder_id}",
            )
        changed = qualifications.do_change(
            session,
            official.principal,
            holder_id,
            action,
            reason=reason or None,
            until=day,
            expected_version=version,
        )
    except KibanError as error:
        session.rollback()
        return _holder_page(request, lang, session, official, holder_id, error, values)
    sessions.set_flash(
        session,
        official.session,
        _("Done: %(action)s (registration No. %(number)s).")
        % {
            "action": _labels(lang)["action_label"][action],
            "number": changed.registration_number,
        },
    )
    return RedirectResponse(f"/office/qualifications/{holder_id}?lang={lang}", status_code=303)
