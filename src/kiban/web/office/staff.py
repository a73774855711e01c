"""Office pages for managing staff (職員の管理): the officials and service accounts of the
signed-in administrator's organisation, one account with its history, adding an official (a
person of the register: their own card is their sign-in), giving and ending roles (optionally
in one department), suspending, reinstating and closing accounts, service accounts' API keys,
and emergency access (break-glass).

Every page asks the one policy function for ``staff.manage`` (``staff.keys.manage`` for keys) in
the official's own organisation; accounts that never belonged to it answer 404. Reading needs no
fresh card; every change does (step-up, as the API): a change asked with a card presented more
than five minutes ago sends the official to present it again and back to the page. Every form
carries the session's CSRF token; ending a role, suspending, closing and revoking a key ask for
confirmation first; a change answers with a message naming who and what; a refused change shows
the page again with the field at fault, nothing written.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import residents, staff
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.life_events import emergency
from kiban.platform import audit, i18n, sessions
from kiban.platform.webkit import DbSession, Lang, RouteName
from kiban.web.office.session import AUDIENCE, Official, OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office/staff", include_in_schema=False)

STAFF_PAGE: Final = "/office/staff"
EMERGENCY_PAGE: Final = "/office/staff/emergency"
MANAGE: Final = "staff.manage"
KEYS: Final = "staff.keys.manage"
STATUS_ACTIONS: Final = ("suspend", "reinstate", "close")
SEARCH_LIMIT: Final = 10
_FULL_WIDTH_SPACE: Final = "\u3000"


class FormError(ValidationFailed):
    """A form's field at fault, said in plain words (422)."""

    code = "staff.form_invalid"

    def __init__(self, message_ja: str, message_en: str, *, field: str) -> None:
        super().__init__(message_ja, message_en, field=field)


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# What each permission lets a key do, in plain words (the code is shown beside it).
PERMISSION_LABELS: Final[dict[str, str]] = {
    "residents.read": _("Read residents' records"),
    "residents.write": _("Change residents' records"),
    "residents.certificate.issue": _("Issue certificates of residence"),
    "procedures.tasks.read": _("Read the task queue and applications"),
    "procedures.tasks.claim": _("Claim and release tasks"),
    "procedures.report.read": _("Read the procedures' report"),
    "procedures.move_out.approve": _("Accept moving-out notices"),
    "procedures.move_out.send_back": _("Send back moving-out notices"),
    "procedures.move_in.complete": _("Complete move-ins"),
    "procedures.move_within.complete": _("Complete moves within the municipality"),
    "procedures.move_within.send_back": _("Send back moves within the municipality"),
    "payments.batch.approve": _("Approve payment batches"),
    "payments.fee.read": _("Read the fees paid for the office's procedures"),
    "payments.fee.refund": _("Refund fees"),
    "credentials.offer": _("Offer credentials to residents"),
    "staff.read": _("Read the staff list"),
    "staff.manage": _("Manage staff"),
    "staff.keys.manage": _("Manage API keys"),
    "corporations.read": _("Read the corporate registry"),
    "corporations.write": _("Change the corporate registry"),
    "identity.clients.read": _("Read relying parties"),
    "identity.clients.manage": _("Manage relying parties"),
    "mesh.metrics.read": _("Read the mesh's figures"),
}


# --- the policy, for pages ----------------------------------------------------------------------


def _fresh(session: Session, official: Official, action: str = MANAGE) -> bool:
    """Ask the policy for ``action`` in the official's organisation: raises when it is not
    theirs; answers whether the card is fresh enough for a change (step-up)."""
    try:
        staff.authorize(
            session, official.principal, action, organisation=official.principal.organisation
        )
    except staff.StepUpRequired:
        return False
    return True


def _step_up(back: str, lang: str) -> RedirectResponse:
    """To the card again (the same session), then back to ``back``."""
    return RedirectResponse(
        f"/office/login/start?step_up=true&next={quote(back, safe='')}&lang={lang}",
        status_code=303,
    )


def _account(session: Session, official: Official, account_id: uuid.UUID) -> staff.AccountRead:
    """The account, when it holds or held a role in the official's organisation. Another
    organisation's account is refused by the policy (403); one the official's organisation
    reaches (kiban's operator reaches every one) but that is not its own is not on these
    pages (404)."""
    account = staff.get_account(session, account_id)
    if staff.has_belonged(session, account.id, official.principal.organisation):
        return account
    for organisation in sorted({m.organisation for m in account.memberships}):
        with contextlib.suppress(staff.StepUpRequired):
            staff.authorize(session, official.principal, MANAGE, organisation=organisation)
    raise staff.AccountNotFound


def _back(path: str, lang: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({**query, 'lang': lang})}", status_code=303)


# --- what the pages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleChoice:
    code: str
    name: str


def _roles(session: Session, official: Official, lang: i18n.Language) -> list[RoleChoice]:
    return [
        RoleChoice(code, name_en if lang == "en" else name_ja)
        for code, name_ja, name_en, _ in staff.list_roles(
            session, official.principal.organisation_kind
        )
    ]


def _departments(session: Session, official: Official, lang: i18n.Language) -> list[RoleChoice]:
    return [
        RoleChoice(d.code, d.name_en if lang == "en" else d.name_ja)
        for d in staff.list_departments(session, official.principal.organisation)
    ]


def _role_name(session: Session, official: Official, lang: i18n.Language, code: str) -> str:
    return next((r.name for r in _roles(session, official, lang) if r.code == code), code)


def _department_name(
    session: Session, official: Official, lang: i18n.Language, code: str | None
) -> str | None:
    if not code:
        return None
    return next((d.name for d in _departments(session, official, lang) if d.code == code), code)


def _role_and_department(
    session: Session, official: Official, role: str, department: str
) -> tuple[str, str | None]:
    """The role and department a form names, checked against this organisation's."""
    if role not in {r.code for r in _roles(session, official, "ja")}:
        raise FormError("役割を選んでください。", "Choose a role.", field="role")
    if department and department not in {d.code for d in _departments(session, official, "ja")}:
        raise FormError("課を選び直してください。", "Choose a department.", field="department")
    return role, department or None


def _grant_here(
    session: Session, official: Official, account_id: uuid.UUID, role: str, department: str
) -> tuple[str, str | None]:
    """Give the account the role (and department) a form names, in the official's
    organisation; returns them as checked."""
    chosen, dept = _role_and_department(session, official, role, department)
    staff.do_grant(
        session,
        account_id,
        organisation=official.principal.organisation,
        role=chosen,
        department=dept,
        actor=official.actor,
    )
    return chosen, dept


def _to_account(
    account_id: uuid.UUID, lang: str, done: str, role: str, department: str | None
) -> RedirectResponse:
    """Back to the account's page, saying what was done (by codes: the page names them)."""
    return _back(
        f"{STAFF_PAGE}/{account_id}",
        lang,
        done=done,
        account=str(account_id),
        role=role,
        department=department or "",
    )


def _memberships_here(account: staff.AccountRead, official: Official) -> list[staff.MembershipRead]:
    return [m for m in account.memberships if m.organisation == official.principal.organisation]


def _common(official: Official, lang: i18n.Language) -> dict[str, Any]:
    t = i18n.translations(lang)
    return {
        "permission_label": lambda code: (
            t.gettext(PERMISSION_LABELS[code]) if code in PERMISSION_LABELS else code
        ),
        "official": official,
        "office_name": official.organisation_name,
        "csrf": official.csrf,
        "role_label": lambda m: m.role_name_en if lang == "en" else m.role_name_ja,
        "department_label": lambda m: (
            (m.department_name_en if lang == "en" else m.department_name_ja) or m.department
        ),
        "status_label": lambda status: _status_label(lang, status),
    }


def _status_label(lang: i18n.Language, status: str) -> str:
    t = i18n.translations(lang)
    return {
        "active": t.gettext("Active"),
        "suspended": t.gettext("Suspended"),
        "closed": t.gettext("Closed"),
    }.get(status, status)


# --- the list -----------------------------------------------------------------------------------


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
    fresh = _fresh(session, official)
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
            **_common(official, lang),
            "fresh": fresh,
            "officials": [a for a in accounts if a.kind == "official"],
            "services": [a for a in accounts if a.kind == "service"],
            "here": lambda a: _memberships_here(a, official),
            "signed_in": {a.id: signed_in.get(str(a.id)) for a in accounts},
            "roles": _roles(session, official, lang),
            "departments": _departments(session, official, lang),
            "done": _done_message(session, official, lang, request),
            "error": error.message(lang) if error else None,
            "error_field": (error.field or None) if error else None,
            "values": values or {},
        },
        status_code=error.status if error else 200,
    )


def _done_message(
    session: Session, official: Official, lang: i18n.Language, request: Request
) -> str | None:
    """What the last change did, said with names (the query names only codes and ids)."""
    t = i18n.translations(lang)
    query = request.query_params
    done = query.get("done")
    if not done:
        return None
    try:
        account = _account(session, official, uuid.UUID(query.get("account", "")))
    except (KibanError, ValueError):
        return None
    role = _role_name(session, official, lang, query.get("role", ""))
    department = _department_name(session, official, lang, query.get("department"))
    where = t.gettext(" in %(department)s") % {"department": department} if department else ""
    messages = {
        "added": t.gettext("%(name)s was added with the role %(role)s%(where)s."),
        "granted": t.gettext("%(name)s now holds the role %(role)s%(where)s."),
        "revoked": t.gettext("%(name)s no longer holds the role %(role)s%(where)s."),
        "suspended": t.gettext(
            "The account of %(name)s is suspended; it cannot act until reinstated."
        ),
        "reinstated": t.gettext("The account of %(name)s is active again."),
        "closed": t.gettext("The account of %(name)s is closed; its roles and keys have ended."),
        "key_revoked": t.gettext("The API key %(key)s of %(name)s is revoked."),
    }
    message = messages.get(done)
    if message is None:
        return None
    return message % {
        "name": account.name,
        "role": role,
        "where": where,
        "key": query.get("key", ""),
    }


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
    if not _fresh(session, official):
        return _step_up(STAFF_PAGE, lang)
    try:
        # The name is checked first, then the role; a refusal rolls both back.
        account = staff.do_create_service_account(session, name=name, actor=official.actor)
        chosen, dept = _grant_here(session, official, account.id, role, department)
    except KibanError as error:
        session.rollback()
        values = {"name": name, "role": role, "department": department}
        return _list_page(request, lang, session, official, error=error, values=values)
    return _to_account(account.id, lang, "added", chosen, dept)


# --- adding an official -------------------------------------------------------------------------


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
    fresh = _fresh(session, official)
    return get_pages().render(
        request,
        lang,
        "office/staff_new.html",
        {
            **_common(official, lang),
            "fresh": fresh,
            "query": query,
            "candidates": candidates,
            "roles": _roles(session, official, lang),
            "departments": _departments(session, official, lang),
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
    _fresh(session, official)
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
    if not _fresh(session, official):
        return _step_up(f"{STAFF_PAGE}/new", lang)
    try:
        try:
            person_id = uuid.UUID(person)
        except ValueError:
            raise FormError(
                "職員にする人を選んでください。", "Choose the person.", field="person"
            ) from None
        _role_and_department(session, official, role, department)
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
        chosen, dept = _grant_here(session, official, account.id, role, department)
    except KibanError as error:
        session.rollback()
        values = {"person": person, "role": role, "department": department}
        return _new_page(request, lang, session, official, error=error, values=values)
    return _to_account(account.id, lang, "added", chosen, dept)


# --- emergency access (break-glass) -------------------------------------------------------------


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
    fresh = _fresh(session, official)
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
            **_common(official, lang),
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
    if not _fresh(session, official):
        return _step_up(EMERGENCY_PAGE, lang)
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
        _account(session, official, account_id)
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
    return _back(EMERGENCY_PAGE, lang, granted=str(granted.id))


# --- one account --------------------------------------------------------------------------------


def _account_page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    account_id: uuid.UUID,
    *,
    error: KibanError | None = None,
    values: dict[str, str] | None = None,
    created_key: staff.KeyCreated | None = None,
) -> HTMLResponse:
    fresh = _fresh(session, official)
    account = _account(session, official, account_id)
    organisation = official.principal.organisation
    here = _memberships_here(account, official)
    held: set[str] = set()
    for code, _, _, permissions in staff.list_roles(session, official.principal.organisation_kind):
        if any(m.role == code for m in here):
            held.update(permissions)
    signed_in = sessions.last_started(session, audience=AUDIENCE, subjects=[str(account.id)])
    return get_pages().render(
        request,
        lang,
        "office/staff_account.html",
        {
            **_common(official, lang),
            "fresh": fresh,
            "account": account,
            "here": here,
            "elsewhere": [m for m in account.memberships if m.organisation != organisation],
            "keys": [k for k in account.keys if k.organisation == organisation],
            "key_permissions": sorted(p for p in held if p in staff.PERMISSIONS),
            "history": list(reversed(account.history)),
            "history_label": lambda step: _history_label(session, official, lang, step),
            "signed_in": signed_in.get(str(account.id)),
            "is_me": account.id == official.principal.account_id,
            "roles": _roles(session, official, lang),
            "departments": _departments(session, official, lang),
            "done": _done_message(session, official, lang, request),
            "created_key": created_key,
            "error": error.message(lang) if error else None,
            "error_field": (error.field or None) if error else None,
            "values": values or {"days": "90"},
        },
        status_code=error.status if error else 200,
    )


def _history_label(
    session: Session, official: Official, lang: i18n.Language, step: staff.HistoryStep
) -> str:
    """One step of an account's history in plain words."""
    t = i18n.translations(lang)
    data = step.data
    role = _role_name(session, official, lang, str(data.get("role", "")))
    department = _department_name(session, official, lang, data.get("department"))
    where = t.gettext(" in %(department)s") % {"department": department} if department else ""
    reason = str(data.get("reason") or "")
    labels = {
        "created": t.gettext("Account created"),
        "granted": t.gettext("Given the role %(role)s%(where)s") % {"role": role, "where": where},
        "revoked": t.gettext("Role %(role)s%(where)s ended") % {"role": role, "where": where},
        "suspended": t.gettext("Suspended"),
        "reinstated": t.gettext("Reinstated"),
        "closed": t.gettext("Closed"),
        "key_created": t.gettext("API key created"),
        "key_revoked": t.gettext("API key revoked"),
        "break_glass": t.gettext("Given emergency access to a resident's record"),
    }
    label = labels.get(step.action, step.action)
    if reason:
        label = t.gettext("%(what)s (reason: %(reason)s)") % {"what": label, "reason": reason}
    return label


@router.get("/{account_id}")
def account_page(
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
) -> HTMLResponse:
    """One account: roles here and elsewhere, status, keys, history, and the forms to change
    them."""
    return _account_page(request, lang, session, official, account_id)


def _confirm(
    request: Request,
    lang: i18n.Language,
    official: Official,
    *,
    action: str,
    question: str,
    button: str,
    fields: dict[str, str],
    back: str,
) -> HTMLResponse:
    """The page that asks before a change that cannot simply be undone."""
    return get_pages().render(
        request,
        lang,
        "office/staff_confirm.html",
        {
            **_common(official, lang),
            "action": action,
            "question": question,
            "button": button,
            "fields": fields,
            "back": back,
        },
    )


def _refused(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    account_id: uuid.UUID,
    error: KibanError,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    session.rollback()
    return _account_page(request, lang, session, official, account_id, error=error, values=values)


@router.post("/{account_id}/grant")
def grant_role(
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Give the account a role here, in one department or the whole organisation."""
    sessions.check_csrf(official.session, csrf_token)
    fresh = _fresh(session, official)
    _account(session, official, account_id)
    if not fresh:
        return _step_up(f"{STAFF_PAGE}/{account_id}", lang)
    try:
        chosen, dept = _grant_here(session, official, account_id, role, department)
    except KibanError as error:
        values = {"role": role, "department": department, "days": "90"}
        return _refused(request, lang, session, official, account_id, error, values)
    return _to_account(account_id, lang, "granted", chosen, dept)


@router.post("/{account_id}/revoke")
def revoke_role(
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    membership: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """End one of the account's roles here (after confirming)."""
    sessions.check_csrf(official.session, csrf_token)
    fresh = _fresh(session, official)
    account = _account(session, official, account_id)
    if not fresh:
        return _step_up(f"{STAFF_PAGE}/{account_id}", lang)
    t = i18n.translations(lang)
    held = next((m for m in _memberships_here(account, official) if str(m.id) == membership), None)
    if held is None:
        error = FormError(
            "終了する役割を選んでください。", "Choose the role to end.", field="membership"
        )
        return _refused(request, lang, session, official, account_id, error)
    role = held.role_name_en if lang == "en" else held.role_name_ja
    department = held.department_name_en if lang == "en" else held.department_name_ja
    where = t.gettext(" in %(department)s") % {"department": department} if department else ""
    if confirmed != "yes":
        return _confirm(
            request,
            lang,
            official,
            action=f"{STAFF_PAGE}/{account_id}/revoke",
            question=t.gettext("End the role %(role)s%(where)s of %(name)s?")
            % {"role": role, "where": where, "name": account.name},
            button=t.gettext("End the role"),
            fields={"membership": membership},
            back=f"{STAFF_PAGE}/{account_id}",
        )
    try:
        staff.do_revoke_membership(session, account_id, held.id, actor=official.actor)
    except KibanError as error:
        return _refused(request, lang, session, official, account_id, error)
    return _to_account(account_id, lang, "revoked", held.role, held.department)


@router.post("/{account_id}/status")
def change_status(
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Suspend, reinstate or close the account, with a reason kept in its history (suspending
    and closing after confirming)."""
    sessions.check_csrf(official.session, csrf_token)
    fresh = _fresh(session, official)
    account = _account(session, official, account_id)
    if not fresh:
        return _step_up(f"{STAFF_PAGE}/{account_id}", lang)
    t = i18n.translations(lang)
    values = {"reason": reason, "days": "90"}
    try:
        if action not in STATUS_ACTIONS:
            raise FormError("操作を選んでください。", "Choose what to do.", field="action")
        if account.id == official.principal.account_id and action != "reinstate":
            raise FormError(
                "ご自身のアカウントは停止・廃止できません。",
                "You cannot suspend or close your own account.",
                field="action",
            )
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise FormError(
                "理由を入力してください（500 文字まで）。",
                "Give the reason (up to 500 characters).",
                field="reason",
            )
        if action != "reinstate" and confirmed != "yes":
            questions = {
                "suspend": t.gettext(
                    "Suspend the account of %(name)s? Their sessions and keys stop acting at once."
                ),
                "close": t.gettext(
                    "Close the account of %(name)s for good? Every role and key ends; the history "
                    "stays."
                ),
            }
            return _confirm(
                request,
                lang,
                official,
                action=f"{STAFF_PAGE}/{account_id}/status",
                question=questions[action] % {"name": account.name},
                button=t.gettext("Suspend") if action == "suspend" else t.gettext("Close"),
                fields={"action": action, "reason": reason},
                back=f"{STAFF_PAGE}/{account_id}",
            )
        change = {
            "suspend": staff.do_suspend_account,
            "reinstate": staff.do_reinstate_account,
            "close": staff.do_close_account,
        }[action]
        change(session, account_id, reason=reason, actor=official.actor)
    except KibanError as error:
        return _refused(request, lang, session, official, account_id, error, values)
    done = {"suspend": "suspended", "reinstate": "reinstated", "close": "closed"}[action]
    return _back(f"{STAFF_PAGE}/{account_id}", lang, done=done, account=str(account_id))


@router.post("/{account_id}/keys")
def create_key(
    account_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    permissions: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A new API key of a service account here; the secret is shown on this answer only."""
    sessions.check_csrf(official.session, csrf_token)
    fresh = _fresh(session, official, KEYS)
    _account(session, official, account_id)
    if not fresh:
        return _step_up(f"{STAFF_PAGE}/{account_id}", lang)
    values = {"days": days}
    try:
        try:
            valid_for = int(days)
        except ValueError:
            raise FormError(
                "有効日数を数字で入力してください（1〜366）。",
                "Enter the number of days (1 to 366).",
                field="days",
            ) from None
        created = staff.do_create_key(
            session,
            account_id,
            organisation=official.principal.organisation,
            permissions=permissions or [],
            days=valid_for,
            actor=official.actor,
        )
    except KibanError as error:
        return _refused(request, lang, session, official, account_id, error, values)
    return _account_page(request, lang, session, official, account_id, created_key=created)


@router.post("/{account_id}/keys/{key_id}/revoke")
def revoke_key(
    account_id: uuid.UUID,
    key_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    confirmed: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one of the account's keys at once (after confirming)."""
    sessions.check_csrf(official.session, csrf_token)
    fresh = _fresh(session, official, KEYS)
    account = _account(session, official, account_id)
    if not fresh:
        return _step_up(f"{STAFF_PAGE}/{account_id}", lang)
    key = next(
        (
            k
            for k in account.keys
            if k.id == key_id and k.organisation == official.principal.organisation
        ),
        None,
    )
    if key is None:
        error = FormError("その API キーはありません。", "There is no such API key.", field="key")
        return _refused(request, lang, session, official, account_id, error)
    t = i18n.translations(lang)
    if confirmed != "yes":
        return _confirm(
            request,
            lang,
            official,
            action=f"{STAFF_PAGE}/{account_id}/keys/{key_id}/revoke",
            question=t.gettext(
                "Revoke the API key %(key)s of %(name)s? Systems using it stop working at once."
            )
            % {"key": key.prefix, "name": account.name},
            button=t.gettext("Revoke the key"),
            fields={},
            back=f"{STAFF_PAGE}/{account_id}",
        )
    staff.do_revoke_key(session, key_id, actor=official.actor)
    return _back(
        f"{STAFF_PAGE}/{account_id}",
        lang,
        done="key_revoked",
        account=str(account_id),
        key=key.prefix,
    )
