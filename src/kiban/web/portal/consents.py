"""Consent to companies (本人同意の管理): the resident's consents with their status; give a new
one (company, purpose, data items, period), pause, resume or revoke one.

Every change goes through the mesh's consent functions, which the gateway reads on every
request of a company, so a pause or a revocation applies to the company's very next request.
The forms work without JavaScript and carry the portal's CSRF token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiban.blocks import mesh, notifications
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import CSRF_FIELD, check_csrf, csrf_token
from kiban.web.portal.labels import CONSENT_STATUS_LABELS, ITEM_LABELS, Organisations, item_label
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/consents", include_in_schema=False)

CONSENTS_PAGE: Final = "/portal/consents"
SignedIn = Annotated[Resident, Depends(require_resident)]

# The data a resident may let a company receive: the register's basic four.
CONSENT_ITEMS: Final = ("name", "name_kana", "birth_date", "sex", "address")


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class PurposeChoice:
    code: str
    text_ja: str
    label: str  # A gettext message id.


PURPOSES: Final = (
    PurposeChoice(
        "address_update", "登録住所を最新に保つため", _("To keep your address up to date")
    ),
    PurposeChoice("identity_check", "本人確認のため", _("To verify your identity")),
    PurposeChoice("account_opening", "口座開設時の本人確認のため", _("To open an account")),
)
# The units of a periodic consent's frequency, as the page names them.
FREQUENCY_UNITS: Final = {
    "day": _("day"),
    "week": _("week"),
    "month": _("month"),
    "year": _("year"),
}
_PURPOSES_BY_CODE: Final = {purpose.code: purpose for purpose in PURPOSES}

_ACTIONS: Final[Mapping[str, Literal["active", "paused", "revoked"]]] = {
    "pause": "paused",
    "resume": "active",
    "revoke": "revoked",
}


@dataclass(frozen=True)
class Company:
    subsystem: str
    name: str
    name_lang: str


def _companies(session: DbSession, names: Organisations, lang: str) -> list[Company]:
    return sorted(
        (
            Company(
                subsystem=subsystem.xroad_id,
                name=names.name(subsystem.xroad_id, lang),
                name_lang="en" if names.is_english(subsystem.xroad_id, lang) else "ja",
            )
            for subsystem in mesh.list_subsystems(session)
            if subsystem.active and mesh.is_company(subsystem.xroad_id)
        ),
        key=lambda company: company.name,
    )


def _page(
    request: Request,
    lang: i18n.Language,
    session: DbSession,
    resident: Resident,
    *,
    form: Mapping[str, Any] | None = None,
    error: KibanError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = i18n.translations(lang)
    names = Organisations.load(session)
    consents = mesh.list_consents(session, resident.person_id)
    today = clock.today_jst()
    shown = [
        {
            "id": consent.id,
            "company": names.name(consent.company, lang),
            "company_lang": "en" if names.is_english(consent.company, lang) else "ja",
            "purpose": (
                t.gettext(_PURPOSES_BY_CODE[consent.purpose.code].label)
                if consent.purpose.code in _PURPOSES_BY_CODE
                else consent.purpose.text
            ),
            "items": [item_label(item, t.gettext) for item in consent.items],
            "valid_from": consent.valid_from,
            "valid_until": consent.valid_until,
            "fetch_type": consent.fetch_type,
            "frequency": consent.frequency,
            "unit": (
                t.gettext(FREQUENCY_UNITS[consent.frequency.unit]) if consent.frequency else ""
            ),
            "data_life_days": consent.data_life_days,
            "status": consent.status,
            "status_label": t.gettext(CONSENT_STATUS_LABELS[consent.status]),
        }
        for consent in consents
    ]
    values: dict[str, Any] = {
        "company": "",
        "purpose": PURPOSES[0].code,
        "items": ["address"],
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "fetch_type": "periodic",
        "times": "4",
        "data_life_days": "365",
    }
    if form:
        values.update(form)
    return get_pages().render(
        request,
        lang,
        "portal/consents.html",
        {
            "consents": shown,
            "companies": _companies(session, names, lang),
            "purposes": [(p.code, t.gettext(p.label)) for p in PURPOSES],
            "items": [(item, t.gettext(ITEM_LABELS[item])) for item in CONSENT_ITEMS],
            "values": values,
            "error": error.message(lang) if error else None,
            "error_field": error.field if error else None,
            "done": request.query_params.get("done"),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "today": today,
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
        status_code=status_code,
    )


def _invalid(field: str, ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(ja, en, field=field)


def _parse_grant(form: Mapping[str, Any], companies: set[str], today: date) -> mesh.ConsentCreate:
    """The grant form as a consent; each rule names its field, checked top to bottom."""
    company = str(form.get("company", ""))
    if company not in companies:
        raise _invalid("company", "会社を選んでください。", "Choose a company.")
    purpose = _PURPOSES_BY_CODE.get(str(form.get("purpose", "")))
    if purpose is None:
        raise _invalid("purpose", "目的を選んでください。", "Choose a purpose.")
    items = [str(item) for item in form.get("items", [])]
    if not items or any(item not in CONSENT_ITEMS for item in items):
        raise _invalid("items", "提供する情報を選んでください。", "Choose the data to share.")
    try:
        valid_until = date.fromisoformat(str(form.get("valid_until", "")))
    except ValueError:
        raise _invalid(
            "valid_until", "期限を日付で入力してください。", "Enter the end date as a date."
        ) from None
    if valid_until < today:
        raise _invalid(
            "valid_until",
            "期限は今日以降の日付にしてください。",
            "The end date must be today or later.",
        )
    fetch_type = str(form.get("fetch_type", ""))
    if fetch_type not in ("once", "periodic"):
        raise _invalid("fetch_type", "提供の回数を選んでください。", "Choose how often.")
    frequency = None
    if fetch_type == "periodic":
        times = _number(form.get("times"), "times", 1, 100)
        frequency = mesh.ConsentFrequency(unit="month", value=times)
    data_life_days = _number(form.get("data_life_days"), "data_life_days", 0, 3650)
    return mesh.ConsentCreate(
        company=company,
        purpose=mesh.ConsentPurpose(code=purpose.code, text=purpose.text_ja),
        items=items,
        valid_from=today,
        valid_until=valid_until,
        fetch_type=fetch_type,
        frequency=frequency,
        data_life_days=data_life_days,
    )


def _number(raw: Any, field: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _invalid(
            field,
            f"{low}から{high}までの数を入力してください。",
            f"Enter a number from {low} to {high}.",
        )
    return value


@router.get("")
def consents(request: Request, lang: Lang, session: DbSession, resident: SignedIn) -> HTMLResponse:
    """The resident's consents, newest first, and the form to give a new one."""
    return _page(request, lang, session, resident)


@router.post("")
async def grant(request: Request, lang: Lang, session: DbSession, resident: SignedIn) -> Response:
    """Give a consent; it is in effect from today until the chosen end date."""
    submitted = await request.form()
    form: dict[str, Any] = {
        key: submitted.get(key)
        for key in ("company", "purpose", "valid_until", "fetch_type", "times", "data_life_days")
    }
    form["items"] = submitted.getlist("items")
    try:
        check_csrf(request, _text(submitted.get(CSRF_FIELD)))
        names = Organisations.load(session)
        companies = {company.subsystem for company in _companies(session, names, lang)}
        data = _parse_grant(form, companies, clock.today_jst())
        mesh.do_grant_consent(session, data, person_id=resident.person_id, actor=resident.actor)
    except KibanError as error:
        session.rollback()
        return _page(
            request, lang, session, resident, form=form, error=error, status_code=error.status
        )
    return RedirectResponse(f"{CONSENTS_PAGE}?done=granted&lang={lang}", status_code=303)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@router.post("/{consent_id}/{action}")
def change(
    consent_id: uuid.UUID,
    action: str,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """Pause, resume or revoke one of the resident's consents; it applies at once."""
    try:
        check_csrf(request, csrf)
        status = _ACTIONS.get(action)
        if status is None:
            raise _invalid("action", "その操作はできません。", "That is not a known action.")
        mesh.set_consent_status(
            session,
            consent_id,
            status,
            actor=resident.actor,
            person_id=resident.person_id,
        )
    except KibanError as error:
        session.rollback()
        return _page(request, lang, session, resident, error=error, status_code=error.status)
    return RedirectResponse(f"{CONSENTS_PAGE}?done={action}&lang={lang}", status_code=303)
