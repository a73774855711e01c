"""Fees at the office (政府共通決済): the payments made for the office's procedures, and
refunds.

Reading asks the policy for ``payments.fee.read`` in the official's organisation (the page
shows amounts, methods and application references, not who paid); refunding asks for
``payments.fee.refund``, a step-up action (money leaves the office's account), so an official
whose card is not fresh is sent to present it again and then back here. A refund beyond what
is left is refused naming the amount field and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import payments, procedures, staff
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n, sessions
from kiban.platform.webkit import DbSession, Lang
from kiban.web.office.session import Official, OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)

READ = "payments.fee.read"
REFUND = "payments.fee.refund"


def _page(
    request: Request,
    lang: i18n.Language,
    session: Session,
    official: Official,
    *,
    error: KibanError | None = None,
    error_fee: uuid.UUID | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    organisation = official.principal.organisation
    staff.authorize(session, official.principal, READ, organisation=organisation)
    fees = payments.list_fees(session, offices=[organisation], limit=200)
    return get_pages().render(
        request,
        lang,
        "office/fees.html",
        {
            "official": official,
            "fees": fees,
            "reference_of": procedures.reference_of,
            "error": error.message(lang) if error else None,
            "error_field": error.field if error else None,
            "error_fee": error_fee,
            "flash": flash,
        },
        status_code=error.status if error else 200,
    )


@router.get("/fees")
def fees_page(
    request: Request, lang: Lang, session: DbSession, official: OfficialUser
) -> HTMLResponse:
    """The office's fee payments, newest first, with a refund form for each paid one."""
    flash = None
    if request.query_params.get("refunded") == "1":
        flash = i18n.translations(lang).gettext("The refund was made. The applicant was told.")
    return _page(request, lang, session, official, flash=flash)


def _amount(value: str) -> int:
    try:
        amount = int(value.strip().replace(",", ""))
    except ValueError:
        raise ValidationFailed(
            "返金額を円単位の整数で入力してください。",
            "Enter the refund amount in whole yen.",
            field="amount",
        ) from None
    return amount


@router.post("/fees/{fee_id}/refund")
def refund(
    fee_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    amount: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Refund some or all of a paid fee (step-up), audited, and told to the applicant."""
    sessions.check_csrf(official.session, csrf_token)
    fee = payments.get_fee(session, fee_id)
    try:
        staff.authorize(session, official.principal, REFUND, organisation=fee.office)
    except staff.StepUpRequired:
        back = quote(f"/office/fees?lang={lang}", safe="")
        return RedirectResponse(
            f"/office/login/start?step_up=true&next={back}&lang={lang}", status_code=303
        )
    try:
        payments.do_refund_fee(
            session,
            fee.id,
            amount=_amount(amount),
            reason=reason,
            reference=procedures.reference_of(fee.application_id),
            actor=official.actor,
        )
    except KibanError as error:
        session.rollback()
        return _page(request, lang, session, official, error=error, error_fee=fee.id)
    return RedirectResponse(f"/office/fees?refunded=1&lang={lang}", status_code=303)
