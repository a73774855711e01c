"""What every staff page shares: the policy asked for a page, the account as this organisation
sees it, the roles and departments a form may name, and the words the pages use."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from kiban.blocks import staff
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n
from kiban.web.office.session import Official

STAFF_PAGE: Final = "/office/staff"
MANAGE: Final = "staff.manage"


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


def is_fresh(session: Session, official: Official, action: str = MANAGE) -> bool:
    """Ask the policy for ``action`` in the official's organisation: raises when it is not
    theirs; answers whether the card is fresh enough for a change (step-up)."""
    try:
        staff.authorize(
            session, official.principal, action, organisation=official.principal.organisation
        )
    except staff.StepUpRequired:
        return False
    return True


def step_up(back: str, lang: str) -> RedirectResponse:
    """To the card again (the same session), then back to ``back``."""
    return RedirectResponse(
        f"/office/login/start?step_up=true&next={quote(back, safe='')}&lang={lang}",
        status_code=303,
    )


def account_here(session: Session, official: Official, account_id: uuid.UUID) -> staff.AccountRead:
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


def back_to(path: str, lang: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({**query, 'lang': lang})}", status_code=303)


# --- what the pages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleChoice:
    code: str
    name: str


def role_choices(session: Session, official: Official, lang: i18n.Language) -> list[RoleChoice]:
    return [
        RoleChoice(code, name_en if lang == "en" else name_ja)
        for code, name_ja, name_en, _ in staff.list_roles(
            session, official.principal.organisation_kind
        )
    ]


def department_choices(
    session: Session, official: Official, lang: i18n.Language
) -> list[RoleChoice]:
    return [
        RoleChoice(d.code, d.name_en if lang == "en" else d.name_ja)
        for d in staff.list_departments(session, official.principal.organisation)
    ]


def role_name(session: Session, official: Official, lang: i18n.Language, code: str) -> str:
    return next((r.name for r in role_choices(session, official, lang) if r.code == code), code)


def department_name(
    session: Session, official: Official, lang: i18n.Language, code: str | None
) -> str | None:
    if not code:
        return None
    return next(
        (d.name for d in department_choices(session, official, lang) if d.code == code), code
    )


def role_and_department(
    session: Session, official: Official, role: str, department: str
) -> tuple[str, str | None]:
    """The role and department a form names, checked against this organisation's."""
    if role not in {r.code for r in role_choices(session, official, "ja")}:
        raise FormError("役割を選んでください。", "Choose a role.", field="role")
    if department and department not in {
        d.code for d in department_choices(session, official, "ja")
    }:
        raise FormError("課を選び直してください。", "Choose a department.", field="department")
    return role, department or None


def grant_here(
    session: Session, official: Official, account_id: uuid.UUID, role: str, department: str
) -> tuple[str, str | None]:
    """Give the account the role (and department) a form names, in the official's
    organisation; returns them as checked."""
    chosen, dept = role_and_department(session, official, role, department)
    staff.do_grant(
        session,
        account_id,
        organisation=official.principal.organisation,
        role=chosen,
        department=dept,
        actor=official.actor,
    )
    return chosen, dept


def to_account(
    account_id: uuid.UUID, lang: str, done: str, role: str, department: str | None
) -> RedirectResponse:
    """Back to the account's page, saying what was done (by codes: the page names them)."""
    return back_to(
        f"{STAFF_PAGE}/{account_id}",
        lang,
        done=done,
        account=str(account_id),
        role=role,
        department=department or "",
    )


def memberships_here(account: staff.AccountRead, official: Official) -> list[staff.MembershipRead]:
    return [m for m in account.memberships if m.organisation == official.principal.organisation]


def common_context(official: Official, lang: i18n.Language) -> dict[str, Any]:
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
        "status_label": lambda status: status_label(lang, status),
    }


def status_label(lang: i18n.Language, status: str) -> str:
    t = i18n.translations(lang)
    return {
        "active": t.gettext("Active"),
        "suspended": t.gettext("Suspended"),
        "closed": t.gettext("Closed"),
    }.get(status, status)


def done_message(
    session: Session, official: Official, lang: i18n.Language, request: Request
) -> str | None:
    """What the last change did, said with names (the query names only codes and ids)."""
    t = i18n.translations(lang)
    query = request.query_params
    done = query.get("done")
    if not done:
        return None
    try:
        account = account_here(session, official, uuid.UUID(query.get("account", "")))
    except (KibanError, ValueError):
        return None
    role = role_name(session, official, lang, query.get("role", ""))
    department = department_name(session, official, lang, query.get("department"))
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
