"""Benefits in the portal (給付金): what the resident has been awarded by push-type programmes,
and, during the opt-out window, a way to decline one or to say that something is wrong.

The forms work without JavaScript and carry the portal's CSRF token; only the recipient's own
determinations are shown or changed (the block checks the person on every action).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiban.blocks import benefits, notifications
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import CSRF_FIELD, check_csrf, csrf_token
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/benefits", include_in_schema=False)

BENEFITS_PAGE: Final = "/portal/benefits"
CORRECTION_MAX: Final = 400
SignedIn = Annotated[Resident, Depends(require_resident)]


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


STATUS_LABELS: Final = {
    "notified": _("Will be paid"),
    "declined": _("Declined"),
    "correction_requested": _("Correction under review"),
    "stopped": _("Stopped (the recipient died before the period)"),
    "held": _("Held (the recipient died; owed to the estate)"),
    "obligated": _("Handed over for payment"),
}


def _page(
    request: Request,
    lang: i18n.Language,
    session: DbSession,
    resident: Resident,
    *,
    error: KibanError | None = None,
    error_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = i18n.translations(lang)
    shown = [
        {
            "id": d.id,
            "title": d.title_en if lang == "en" else d.title_ja,
            "legal_basis": d.legal_basis,
            "period": d.period,
            "amount": d.amount_yen,
            "status": d.status,
            "status_label": t.gettext(STATUS_LABELS[d.status]),
            "open": d.open,
            "until": clock.to_jst(d.opt_out_until).date(),
            "correction": d.correction,
        }
        for d in benefits.list_determinations_of(session, resident.person_id)
    ]
    return get_pages().render(
        request,
        lang,
        "portal/benefits.html",
        {
            "determinations": shown,
            "error": error.message(lang) if error else None,
            "error_id": error_id,
            "done": request.query_params.get("done"),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
        status_code=status_code,
    )


@router.get("")
def benefits_page(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> HTMLResponse:
    """The resident's benefit determinations, newest first."""
    return _page(request, lang, session, resident)


@router.post("/{determination_id}/decline")
def decline(
    determination_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """Decline a benefit during the opt-out window: it will not be paid."""
    try:
        check_csrf(request, csrf)
        benefits.do_decline_determination(
            session, resident.person_id, determination_id, actor=resident.actor
        )
    except KibanError as error:
        session.rollback()
        return _page(request, lang, session, resident, error=error, status_code=error.status)
    return RedirectResponse(f"{BENEFITS_PAGE}?done=declined&lang={lang}", status_code=303)


@router.post("/{determination_id}/correction")
def correction(
    determination_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    """Say what is wrong: the payment is held until an official has looked at it."""
    try:
        check_csrf(request, csrf)
        cleaned = text.strip()
        if not cleaned or len(cleaned) > CORRECTION_MAX:
            raise ValidationFailed(
                f"誤りの内容を{CORRECTION_MAX}字以内で入力してください。",
                f"Describe what is wrong in at most {CORRECTION_MAX} characters.",
                field="text",
            )
        benefits.do_request_correction(
            session, resident.person_id, determination_id, cleaned, actor=resident.actor
        )
    except KibanError as error:
        session.rollback()
        return _page(
            request,
            lang,
            session,
            resident,
            error=error,
            error_id=str(determination_id),
            status_code=error.status,
        )
    return RedirectResponse(f"{BENEFITS_PAGE}?done=correction&lang={lang}", status_code=303)
