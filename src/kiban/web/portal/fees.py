"""Paying a procedure's fee in the portal (政府共通決済): the pay step on the review page, the
way to the provider's hosted page and back, and the receipt of payment on the application.

``POST /portal/applications/{id}/pay`` opens a payment intent and sends the applicant to the
provider's page. The provider sends them back to ``GET /portal/applications/{id}/paid``; that
return proves nothing, so the portal asks the provider for every open intent of the application
(``payments.do_check_fee``, idempotent: a double return or a reload books nothing twice) and
shows the review page again, where the applicant signs once the fee is paid.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kiban.blocks import payments, procedures
from kiban.kernel.errors import KibanError, NotFound
from kiban.life_events import certificates
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import check_csrf
from kiban.web.portal.session import Resident, require_resident

router = APIRouter(prefix="/portal", include_in_schema=False)

SignedIn = Annotated[Resident, Depends(require_resident)]


def check_open_fees(session: Session, app: procedures.ApplicationRead, *, actor: str) -> None:
    """Ask the provider about each of the application's intents still open (idempotent)."""
    for fee in payments.fees_of_application(session, app.id):
        if fee.status == "created":
            payments.do_check_fee(session, fee.id, actor=actor)


def fee_context(session: Session, app: procedures.ApplicationRead, *, actor: str) -> dict[str, Any]:
    """What the review and status pages show of the fee: what it is, the paid intent (the
    receipt) and the latest attempt (a declined card is told)."""
    fee = procedures.get_procedure(app.code).fee
    if fee is None:
        return {"fee": None, "paid_fee": None, "last_fee": None}
    try:
        check_open_fees(session, app, actor=actor)
    except KibanError:
        # The provider cannot be asked now: show what we know; the next visit asks again.
        session.rollback()
    attempts = payments.fees_of_application(session, app.id)
    return {
        "fee": fee,
        "paid_fee": payments.paid_fee(session, app.id),
        "last_fee": attempts[0] if attempts else None,
    }


class ApplicationMissing(NotFound):
    """Someone else's application is as unknown to a resident as a missing one."""

    code = "procedures.application_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する申請が見つかりません。", "No such application.", field="application_id"
        )


def _own(
    session: Session, resident: Resident, application_id: uuid.UUID
) -> procedures.ApplicationRead:
    app = procedures.get_application(session, application_id)
    if app.applicant_id != resident.person_id:
        raise ApplicationMissing
    return app


@router.post("/applications/{application_id}/pay")
def pay(
    application_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Open a payment intent for the application's fee and go to the provider's page."""
    check_csrf(request, csrf_token)
    app = _own(session, resident, application_id)
    if procedures.get_procedure(app.code).fee is None or app.state != "draft":
        return RedirectResponse(f"/portal/applications/{app.id}?lang={lang}", status_code=303)
    base = get_settings().base_url.rstrip("/")
    fee = certificates.start_fee(
        session,
        app,
        return_url=f"{base}/portal/applications/{app.id}/paid?lang={lang}",
        actor=resident.actor,
    )
    return RedirectResponse(fee.next_url + f"?lang={lang}", status_code=303)


@router.get("/applications/{application_id}/paid")
def paid(
    application_id: uuid.UUID,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> Response:
    """The provider's return: ask the provider (never trust the return), then back to the
    review page, which shows the receipt or that the payment failed."""
    app = _own(session, resident, application_id)
    check_open_fees(session, app, actor=resident.actor)
    return RedirectResponse(f"/portal/applications/{app.id}/review?lang={lang}", status_code=303)
