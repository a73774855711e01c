"""One account: its roles here and elsewhere, status, API keys and history, and the forms that
change them (ending a role, suspending, closing and revoking a key after confirming)."""

from __future__ import annotations

import uuid
from typing import Annotated, Final

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
    FormError,
    account_here,
    back_to,
    common_context,
    department_choices,
    department_name,
    done_message,
    grant_here,
    is_fresh,
    memberships_here,
    role_choices,
    role_name,
    step_up,
    to_account,
)
from kiban.web.templating import get_pages

router = APIRouter(prefix=STAFF_PAGE, include_in_schema=False)
KEYS: Final = "staff.keys.manage"
STATUS_ACTIONS: Final = ("suspend", "reinstate", "close")


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
    fresh = is_fresh(session, official)
    account = account_here(session, official, account_id)
    organisation = official.principal.organisation
    here = memberships_here(account, official)
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
            **common_context(official, lang),
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
            "roles": role_choices(session, official, lang),
            "departments": department_choices(session, official, lang),
            "done": done_message(session, official, lang, request),
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
    role = role_name(session, official, lang, str(data.get("role", "")))
    department = department_name(session, official, lang, data.get("department"))
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
            **common_context(official, lang),
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
    fresh = is_fresh(session, official)
    account_here(session, official, account_id)
    if not fresh:
        return step_up(f"{STAFF_PAGE}/{account_id}", lang)
    try:
        chosen, dept = grant_here(session, official, account_id, role, department)
    except KibanError as error:
        values = {"role": role, "department": department, "days": "90"}
        return _refused(request, lang, session, official, account_id, error, values)
    return to_account(account_id, lang, "granted", chosen, dept)


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
    fresh = is_fresh(session, official)
    account = account_here(session, official, account_id)
    if not fresh:
        return step_up(f"{STAFF_PAGE}/{account_id}", lang)
    t = i18n.translations(lang)
    held = next((m for m in memberships_here(account, official) if str(m.id) == membership), None)
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
    return to_account(account_id, lang, "revoked", held.role, held.department)


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
    fresh = is_fresh(session, official)
    account = account_here(session, official, account_id)
    if not fresh:
        return step_up(f"{STAFF_PAGE}/{account_id}", lang)
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
    return back_to(f"{STAFF_PAGE}/{account_id}", lang, done=done, account=str(account_id))


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
    fresh = is_fresh(session, official, KEYS)
    account_here(session, official, account_id)
    if not fresh:
        return step_up(f"{STAFF_PAGE}/{account_id}", lang)
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
    fresh = is_fresh(session, official, KEYS)
    account = account_here(session, official, account_id)
    if not fresh:
        return step_up(f"{STAFF_PAGE}/{account_id}", lang)
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
    return back_to(
        f"{STAFF_PAGE}/{account_id}",
        lang,
        done="key_revoked",
        account=str(account_id),
        key=key.prefix,
    )
