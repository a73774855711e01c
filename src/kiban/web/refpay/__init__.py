"""The local reference payment provider's hosted page (``/refpay/...``): where an applicant,
sent from the portal, confirms card or bank-transfer details for one payment; then the provider
sends them back to the return URL it was given when the payment was created (never one from
the request).

It stands for the provider's own site (GOV.UK Pay's payment pages): it knows nothing of kiban's
sessions and reads no cookie, and the page is reached only through the unguessable payment id
the portal was given. Test card numbers are listed in
:mod:`kiban.blocks.payments.adapters.fee_provider`. Bad details (a number that fails the Luhn
check, a past expiry) are shown on the page, naming the field, and change nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiban.blocks import payments
from kiban.platform import i18n
from kiban.platform.webkit import Lang, public
from kiban.web.templating import get_pages

router = APIRouter(prefix="/refpay", include_in_schema=False, dependencies=[Depends(public)])

_FIELD_MESSAGES: Final = {
    "card_number": ("カード番号が正しくありません。", "Enter a valid card number."),
    "expiry": (
        "有効期限を MM/YY で、期限内のものを入力してください。",
        "Enter the expiry date as MM/YY; the card must not have expired.",
    ),
    "cvc": (
        "セキュリティコード（3桁または4桁）を入力してください。",
        "Enter the card security code (3 or 4 digits).",
    ),
    "cardholder_name": ("カード名義を入力してください。", "Enter the name on the card."),
    "bank_code": ("金融機関コード（4桁）を入力してください。", "Enter the 4-digit bank code."),
    "account_number": ("口座番号（7桁）を入力してください。", "Enter the 7-digit account number."),
}


def _page(
    request: Request,
    lang: i18n.Language,
    payment: payments.ProviderPayment,
    *,
    field: str | None = None,
    typed: dict[str, str] | None = None,
    method: str = "card",
    status_code: int = 200,
) -> HTMLResponse:
    message = None
    if field is not None:
        ja, en = _FIELD_MESSAGES.get(field, ("入力が正しくありません。", "Check your details."))
        message = ja if lang == "ja" else en
    context: dict[str, Any] = {
        "payment": payment,
        "error": message,
        "error_field": field,
        "typed": typed or {},
        "method": method,
    }
    response = get_pages().render(
        request, lang, "refpay/pay.html", context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _missing(request: Request, lang: i18n.Language) -> HTMLResponse:
    return get_pages().render(request, lang, "refpay/missing.html", {}, status_code=404)


@router.get("/{payment_id}")
def pay_page(payment_id: str, request: Request, lang: Lang) -> Response:
    """The payment's amount and what it is for, and the card or bank-transfer form; a payment
    already final goes straight back to the service."""
    provider = payments.local_provider()
    try:
        payment = provider.get_payment(payment_id)
    except payments.PaymentRefused:
        return _missing(request, lang)
    if payment.state != "created":
        return RedirectResponse(payment.return_url, status_code=303)
    method = request.query_params.get("method", "card")
    return _page(
        request, lang, payment, method="bank_transfer" if method == "bank_transfer" else "card"
    )


@router.post("/{payment_id}")
def confirm(
    payment_id: str,
    request: Request,
    lang: Lang,
    method: Annotated[str, Form(max_length=16)] = "card",
    card_number: Annotated[str, Form(max_length=32)] = "",
    expiry: Annotated[str, Form(max_length=8)] = "",
    cvc: Annotated[str, Form(max_length=4)] = "",
    cardholder_name: Annotated[str, Form(max_length=100)] = "",
    bank_code: Annotated[str, Form(max_length=8)] = "",
    account_number: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Confirm the details: the payment succeeds or fails, and the applicant goes back to the
    service's return URL, which then asks the provider what happened."""
    provider = payments.local_provider()
    try:
        if method == "bank_transfer":
            payment = provider.confirm_bank_transfer(
                payment_id, bank_code=bank_code, account_number=account_number
            )
        else:
            payment = provider.confirm_card(
                payment_id, number=card_number, expiry=expiry, cvc=cvc, name=cardholder_name
            )
    except payments.PaymentRefused as refused:
        try:
            current = provider.get_payment(payment_id)
        except payments.PaymentRefused:
            return _missing(request, lang)
        typed = {"expiry": expiry, "cardholder_name": cardholder_name, "bank_code": bank_code}
        return _page(
            request,
            lang,
            current,
            field=refused.field,
            typed=typed,
            method="bank_transfer" if method == "bank_transfer" else "card",
            status_code=422,
        )
    return RedirectResponse(payment.return_url, status_code=303)
