"""Paying the fee for a certificate of residence (住民票の写し) in a real browser, in Japanese
and English: the resident starts the request, is sent to the reference payment provider's page,
a declined test card brings them back told that nothing was charged, a good card brings them
back to the receipt of payment, and only then the card reader signs the request. By keyboard;
every page passes axe-core; screenshots are kept under var/screenshots/fees/<lang>/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import payments
from kiban.blocks.payments.models import PaymentsPosting

from . import test_signin
from .conftest import assert_accessible
from .test_portal_pages import press, sign_in
from .test_signin import AUTH_PIN, SIGNING_PIN, Servers

servers = test_signin.servers
signin_page = test_signin.signin_page

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "fees"
GOOD_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"
TEXT = {
    "ja": {
        "declined": "カードが承認されませんでした",
        "receipt": "支払の受領",
        "pay": "300円を支払う",
    },
    "en": {
        "declined": "Your card was declined",
        "receipt": "Receipt of payment",
        "pay": "Pay ¥300",
    },
}


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _card(page: Any, number: str) -> None:
    page.wait_for_selector("#card_number")
    page.fill("#card_number", number)
    page.fill("#expiry", "12/39")
    page.fill("#cardholder_name", "TARO YAMADA")
    page.fill("#cvc", "123")
    press(page, "form.form button[type='submit']")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pay_for_a_certificate_declined_then_paid_then_signed(
    signin_page: Any, servers: Servers, session: Session, lang: str
) -> None:
    text = TEXT[lang]
    page = signin_page
    sign_in(page, servers, lang)
    page.goto(f"/portal/procedures/residence_certificate?lang={lang}")
    page.wait_for_selector("h1")
    assert "300" in page.inner_text("main")
    assert_accessible(page)
    press(page, "form[action*='/start'] button")

    # The review: the register's facts and the fee; no signing before paying.
    page.wait_for_selector("#fee-title")
    assert text["pay"] in page.inner_text("form[action*='/pay?'] button")
    assert page.query_selector("form[action$='/sign']") is None
    assert_accessible(page)
    _shot(page, lang, "01-review-unpaid")

    # The provider's page: a bad number is refused on the page, naming the field.
    press(page, "form[action*='/pay?'] button")
    page.wait_for_selector("#card_number")
    assert "/refpay/rp_" in page.url
    assert_accessible(page)
    _shot(page, lang, "02-provider")
    _card(page, "4444333322221112")
    page.wait_for_selector("#card_number-error")
    assert page.get_attribute("#card_number", "aria-invalid") == "true"
    assert_accessible(page)

    # A declined card: back in the portal, told; nothing booked.
    _card(page, DECLINED_CARD)
    page.wait_for_selector("#fee-failed-title")
    assert text["declined"] in page.inner_text("main")
    assert "/portal/applications/" in page.url
    assert_accessible(page)
    _shot(page, lang, "03-declined")

    # A good card: the receipt of payment, and the card reader's button.
    press(page, "form[action*='/pay?'] button")
    _card(page, GOOD_CARD)
    page.wait_for_selector("#fee-receipt")
    receipt = page.inner_text("#fee-receipt")
    assert text["receipt"] in receipt
    assert "1111" in receipt
    assert page.query_selector("form[action$='/sign'] button") is not None
    assert_accessible(page)
    _shot(page, lang, "04-paid")
    # Coming back again (a reload of the return) books nothing twice.
    page.goto(page.url.replace("/review", "/paid"))
    page.wait_for_selector("#fee-receipt")
    session.expire_all()
    postings = session.scalar(
        select(func.count()).select_from(PaymentsPosting).where(PaymentsPosting.fee_id.is_not(None))
    )
    assert postings == 2
    assert payments.ledger_total(session) == 0
    session.rollback()  # Let go of the database before the server writes again.

    # Signing with the card submits the paid request.
    press(page, "form[action$='/sign'] button")
    page.wait_for_selector("#signing_pin")
    page.check(f"#card-{servers.card_number}")
    page.fill("#auth_pin", AUTH_PIN)
    page.fill("#signing_pin", SIGNING_PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("form[method='post'] button")
    press(page, "form[method='post'] button")
    page.wait_for_selector(".reference")
    _shot(page, lang, "05-submitted")
