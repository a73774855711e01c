"""The portal's benefits page in a real browser, in Japanese and English: a resident signed in
with the card finds the pushed flat payment, declines it by keyboard, and both states pass
axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import benefits, identity
from kiban.kernel import clock

from . import test_signin
from .conftest import assert_accessible
from .test_portal_pages import press, sign_in
from .test_signin import Servers

servers = test_signin.servers
signin_page = test_signin.signin_page

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "benefits"
TEXT = {
    "ja": {"title": "特別定額給付金", "declined": "給付を辞退しました。"},
    "en": {
        "title": "Special flat-rate cash payment",
        "declined": "You have declined the benefit. It will not be paid.",
    },
}


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_benefits_page_by_keyboard(
    signin_page: Any, servers: Servers, session: Session, lang: str
) -> None:
    person_id = identity.get_card_by_number(session, servers.card_number).person_id
    for programme in benefits.SHIPPED:
        benefits.do_define_programme(session, programme, actor="system:test")
    benefits.do_run_programme(session, "flat-payment", clock.today_jst(), actor="system:test")
    session.commit()
    (mine,) = benefits.list_determinations_of(session, person_id)
    session.rollback()

    page = signin_page
    sign_in(page, servers, lang)
    press(page, ".portal-nav a[href='/portal/benefits']")
    page.wait_for_selector(f"#benefit-{mine.id}")
    assert TEXT[lang]["title"] in page.inner_text("main")
    assert "100,000" in page.inner_text(f"#benefit-{mine.id}")
    assert_accessible(page)
    _shot(page, lang, "open")

    press(page, f"form[action^='/portal/benefits/{mine.id}/decline'] button")
    page.wait_for_selector("[role='status']")
    assert TEXT[lang]["declined"] in page.inner_text("[role='status']")
    assert page.locator(f"form[action^='/portal/benefits/{mine.id}/decline']").count() == 0
    assert_accessible(page)
    _shot(page, lang, "declined")
    session.expire_all()
    assert benefits.list_determinations_of(session, person_id)[0].status == "declined"
