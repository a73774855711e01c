"""The public-fund receiving account (公金受取口座) and "my payments" in the portal.

``/portal/payments`` lists the resident's payments (expected, paid, returned) and shows the
account in force; ``/portal/payments/account`` registers or changes it: bank from the Zengin
list, branch code, type, number and the holder name in kana. The bank is asked through the mesh
before the account is active; its answer (name mismatch, no such account, closed) is shown by
the field at fault, and the refused version is kept, so the person sees what was tried. The
forms work without JavaScript and carry the portal's CSRF token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kiban.blocks import notifications, payments
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import CSRF_FIELD, check_csrf, csrf_token
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/payments", include_in_schema=False)

PAYMENTS_PAGE: Final = "/portal/payments"
ACCOUNT_PAGE: Final = "/portal/payments/account"
SignedIn = Annotated[Resident, Depends(require_resident)]
FIELDS: Final = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


STATE_LABELS: Final = {
    "expected": _("To be paid"),
    "paid": _("Paid"),
    "returned": _("Returned by the bank: check your account"),
    "held": _("On hold"),
}
TYPE_LABELS: Final = {
    "ordinary": _("Ordinary (普通)"),
    "current": _("Current (当座)"),
    "savings": _("Savings (貯蓄)"),
}
# The bank's answers, as the field at fault shows them.
REFUSALS: Final = {
    "name_mismatch": (
        "holder_kana",
        "口座名義が金融機関の登録と一致しません。通帳やキャッシュカードの表記を確認してください。",
        "The holder name does not match the bank's records. Check how it is written on your "
        "passbook or cash card.",
    ),
    "no_such_account": (
        "account_number",
        "この口座は金融機関にありません。支店番号と口座番号を確認してください。",
        "The bank has no such account. Check the branch and account numbers.",
    ),
    "closed": (
        "account_number",
        "この口座は解約されています。別の口座を登録してください。",
        "This account is closed. Please register another account.",
    ),
}


def _masked(number: str) -> str:
    return "•" * (len(number) - 3) + number[-3:]


def _account_view(account: payments.AccountRead | None, t: Any) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "bank": f"{account.bank_name} ({account.bank_code})",
        "branch": f"{account.branch_name} ({account.branch_code})",
        "type": t.gettext(TYPE_LABELS[account.account_type]),
        "number": _masked(account.account_number),
        "holder": account.holder_kana,
        "version": account.version,
    }


@router.get("")
def my_payments(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> HTMLResponse:
    """The resident's payments and the receiving account in force."""
    t = i18n.translations(lang)
    rows = [
        {
            "programme": p.programme,
            "period": p.period,
            "amount": f"{p.amount:,}",
            "reason": p.reason,
            "state": p.state,
            "state_label": t.gettext(STATE_LABELS[p.state]),
        }
        for p in payments.list_payments(session, resident.person_id)
    ]
    return get_pages().render(
        request,
        lang,
        "portal/payments.html",
        {
            "payments": rows,
            "account": _account_view(payments.get_active_account(session, resident.person_id), t),
            "done": request.query_params.get("done"),
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
    )


def _form_page(
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
    current = payments.get_active_account(session, resident.person_id)
    values: dict[str, Any] = {
        "bank_code": current.bank_code if current else "",
        "branch_code": current.branch_code if current else "",
        "account_type": current.account_type if current else "ordinary",
        "account_number": current.account_number if current else "",
        "holder_kana": current.holder_kana if current else "",
    }
    if form:
        values.update(form)
    return get_pages().render(
        request,
        lang,
        "portal/payment_account.html",
        {
            "account": _account_view(current, t),
            "banks": payments.list_banks(session),
            "types": [(code, t.gettext(label)) for code, label in TYPE_LABELS.items()],
            "values": values,
            "error": error.message(lang) if error else None,
            "error_field": error.field if error else None,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
        status_code=status_code,
    )


@router.get("/account")
def account_form(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> HTMLResponse:
    """The form to register or change the receiving account."""
    return _form_page(request, lang, session, resident)


def _parse(form: Mapping[str, str]) -> payments.AccountCreate:
    try:
        return payments.AccountCreate(**{k: v for k, v in form.items() if k in FIELDS})
    except ValidationError as error:
        field = str(error.errors()[0]["loc"][0]) if error.errors() else "bank_code"
        messages = {
            "bank_code": ("金融機関を選んでください。", "Choose a bank."),
            "branch_code": (
                "支店番号を3桁の数字で入力してください。",
                "Enter the 3-digit branch number.",
            ),
            "account_type": ("預金種目を選んでください。", "Choose the account type."),
            "account_number": (
                "口座番号を7桁以内の数字で入力してください。",
                "Enter the account number (up to 7 digits).",
            ),
            "holder_kana": ("口座名義をカナで入力してください。", "Enter the holder name in kana."),
        }
        ja, en = messages.get(field, messages["bank_code"])
        raise ValidationFailed(ja, en, field=field) from None


@router.post("/account")
async def register_account(
    request: Request, lang: Lang, session: DbSession, resident: SignedIn
) -> Response:
    """Register or change the account; active once the bank confirms it through the mesh."""
    submitted = await request.form()
    form = {key: str(submitted.get(key) or "").strip() for key in FIELDS}
    try:
        check_csrf(request, _text(submitted.get(CSRF_FIELD)))
        made = payments.do_register_account(
            session, resident.person_id, _parse(form), actor=resident.actor
        )
    except KibanError as error:
        session.rollback()
        return _form_page(
            request, lang, session, resident, form=form, error=error, status_code=error.status
        )
    if made.status != "active" and made.verification in REFUSALS:
        # The refused version stays on record (committed with this request); the page says why.
        field, ja, en = REFUSALS[made.verification]
        refusal = ValidationFailed(ja, en, field=field)
        return _form_page(
            request, lang, session, resident, form=form, error=refusal, status_code=422
        )
    return RedirectResponse(f"{PAYMENTS_PAGE}?done=registered&lang={lang}", status_code=303)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
