"""The receiving account and "my payments" in a real browser, in Japanese and English: a
resident signs in with the card, registers an account with a name the bank does not know (the
bank's answer shows by the holder-name field), corrects it, and sees the payment to come — by
keyboard, and every page passes axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.agencies import AGENCIES, bank
from kiban.agencies.wiring import register_reference_agencies
from kiban.blocks import identity, mesh, payments

from . import test_signin
from .conftest import assert_accessible
from .test_portal_pages import press, sign_in
from .test_signin import Servers

servers = test_signin.servers
signin_page = test_signin.signin_page

pytestmark = pytest.mark.browser

TEXT = {
    "ja": {
        "mismatch": "一致しません",
        "confirmed": "金融機関が口座を確認しました",
        "due": "支払予定",
    },
    "en": {"mismatch": "does not match", "confirmed": "The bank confirmed", "due": "To be paid"},
}


def prepare(session: Session, servers: Servers) -> None:
    """The Zengin list, the reference bank holding the resident's account, and a benefit owed."""
    person_id = identity.get_card_by_number(session, servers.card_number).person_id
    payments.do_load_banks(session, actor="test")
    register_reference_agencies(session)
    bank.open_account(
        session,
        mesh.agency_code(session, AGENCIES["bank"].subsystem, person_id),
        bank_code="0005",
        branch_code="001",
        account_number="7654321",
        holder_kana="ｻﾄｳ ﾐｻｷ",
    )
    payments.do_add_obligations(
        session,
        [
            payments.ObligationCreate(
                programme="special-flat-2026",
                period="2026",
                person_id=person_id,
                amount=100_000,
                payer="131016",
                reason="特別定額給付金",
            )
        ],
        actor="test",
    )
    session.commit()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_register_the_account_and_see_my_payments(
    signin_page: Any, servers: Servers, session: Session, lang: str
) -> None:
    prepare(session, servers)
    text = TEXT[lang]
    page = signin_page
    sign_in(page, servers, lang)

    press(page, ".portal-nav a[href='/portal/payments']")
    page.wait_for_selector("h1")
    assert text["due"] in page.inner_text("table")
    assert_accessible(page)

    press(page, "main a[href^='/portal/payments/account']")
    page.wait_for_selector("#bank_code")
    assert_accessible(page)
    page.select_option("#bank_code", "0005")
    page.fill("#branch_code", "001")
    page.fill("#account_number", "7654321")
    page.fill("#holder_kana", "サトウ ミサ")
    press(page, "form.form button[type='submit']")
    page.wait_for_selector(".error-summary")
    assert text["mismatch"] in page.inner_text("#holder_kana-error")
    assert page.get_attribute("#holder_kana", "aria-invalid") == "true"
    assert_accessible(page)

    page.fill("#holder_kana", "さとう みさき")
    press(page, "form.form button[type='submit']")
    page.wait_for_selector("[role='status']")
    assert text["confirmed"] in page.inner_text("[role='status']")
    assert "ｻﾄｳ ﾐｻｷ" in page.inner_text("main")
    assert_accessible(page)
