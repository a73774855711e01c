"""The office's staff pages in a real browser, walked by an administrator of 千代田区: the list,
adding an official found in the register, a role in a department, ending it after confirming, a
service account with its key shown once, emergency access, and a form's error — each page with
zero axe-core violations, in Japanese and English, with screenshots.

The administrator's session is started directly, its card just presented (the card sign-in
itself runs in the browser in tests/browser/test_moving_journey.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.blocks import residents
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.staff_support import make_official

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "office-staff"
CHIYODA = "131016"


def _shot(page: Any, name: str, lang: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}.png"), full_page=True)


def _sign_in(page: Any, engine: Engine) -> list[residents.PersonRead]:
    """An administrator of 千代田区 signed in (and a counter clerk); returns two residents of
    千代田区 who are not staff."""
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        people = residents.list_people(session, lg_code=CHIYODA, limit=5)
        admin = make_official(session, CHIYODA, "administrator", name="管理\u3000太郎")
        make_official(session, CHIYODA, "counter", name="窓口\u3000次郎")
        cookie, _ = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(admin.account_id),
            data={"organisation": CHIYODA, "role": "administrator"},
            idle=timedelta(minutes=30),
            absolute=timedelta(hours=1),
            user_agent=None,
            source=None,
            actor="system:test",
        )
    page.goto("/office/login")
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies([{"name": OFFICE_COOKIE, "value": cookie, "url": f"{origin}/"}])
    return people[:2]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_an_administrator_walks_the_staff_pages(page: Any, engine: Engine, lang: str) -> None:
    newcomer, resident = _sign_in(page, engine)
    en = lang == "en"

    # The office home links to the staff pages; the list shows the clerk with their role.
    page.goto(f"/office?lang={lang}")
    page.click("a[href^='/office/staff']")
    page.wait_for_selector("h1")
    main = page.inner_text("main")
    assert "窓口\u3000次郎" in main
    assert ("Counter" if en else "窓口") in main
    assert_accessible(page)
    _shot(page, "list", lang)

    # Adding an official: the name is searched (by keyboard), the person chosen, the role given.
    page.click("a[href^='/office/staff/new']")
    page.fill("#query", newcomer.full_name.replace("\u3000", " "))
    page.focus("#query")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=person]")
    assert newcomer.full_name in page.inner_text("main")
    assert_accessible(page)
    _shot(page, "search", lang)
    page.select_option("#role", "counter")
    page.select_option("#department", "citizens")
    page.click("form[action^='/office/staff/new?'] button[type=submit]")
    page.wait_for_selector("[role=status]")
    done = page.inner_text("[role=status]")
    assert newcomer.full_name in done
    assert ("Citizens" if en else "市民課") in done
    assert_accessible(page)

    # A second role in 福祉課, then ended after confirming.
    page.select_option("#role", "review")
    page.select_option("#department", "welfare")
    page.click("form[action*='/grant'] button[type=submit]")
    page.wait_for_selector("[role=status]")
    assert ("Welfare" if en else "福祉課") in page.inner_text("[role=status]")
    _shot(page, "account", lang)
    page.locator("form[action*='/revoke'] button").nth(1).click()
    page.wait_for_selector("input[name=confirmed]", state="attached")
    assert newcomer.full_name in page.inner_text("main")
    assert_accessible(page)
    _shot(page, "confirm", lang)
    page.click("form button[type=submit]")
    page.wait_for_selector("[role=status]")
    assert ("no longer holds" if en else "終了しました") in page.inner_text("[role=status]")
    assert_accessible(page)

    # A form's error names the field.
    page.goto(f"/office/staff?lang={lang}")
    page.click("form[action^='/office/staff/services'] button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.locator(".error-summary a[href='#name']").count() == 1
    assert_accessible(page)
    _shot(page, "error", lang)

    # A service account and its key, shown once.
    page.fill("#name", "住記連携システム")
    page.select_option("#role", "counter")
    page.click("form[action^='/office/staff/services'] button[type=submit]")
    page.wait_for_selector("[role=status]")
    page.check("input[value='procedures.tasks.read']")
    page.click("form[action$='/keys?lang=" + lang + "'] button[type=submit]")
    page.wait_for_selector("#new-key")
    assert page.inner_text("#new-key").startswith("kiban_sk_")
    assert_accessible(page)
    _shot(page, "key", lang)
    # Shown once: the account's page does not show it again.
    page.goto(page.url.replace("/keys?", "?"))
    page.wait_for_selector("h1")
    assert page.locator("#new-key").count() == 0

    # Emergency access to a resident's record, told to the resident.
    page.goto(f"/office/staff/emergency?lang={lang}")
    page.fill("#person", str(resident.id))
    page.fill("#reason", "災害時の安否確認のため")
    page.click("form[action^='/office/staff/emergency'] button[type=submit]")
    page.wait_for_selector("[role=status]")
    assert resident.full_name in page.inner_text("[role=status]")
    assert "災害時の安否確認のため" in page.inner_text("table")
    assert_accessible(page)
    _shot(page, "emergency", lang)
