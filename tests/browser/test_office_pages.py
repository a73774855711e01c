"""The office's resident pages in a real browser: accessible, printable, usable by keyboard.

The official's session is started directly (the card sign-in itself runs in the browser in
tests/browser/test_moving_journey.py)."""

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

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "office"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_resident_list_and_certificate_by_keyboard(page: Any, engine: Engine, lang: str) -> None:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    page.goto(f"/office/residents?municipality=131016&lang={lang}")
    assert "/office/login" in page.url
    with transaction(engine) as session:
        official = make_official(session, "131016", "counter", name="千代田\u3000窓口")
        cookie, _ = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(official.account_id),
            data={"organisation": "131016", "role": "counter"},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies([{"name": OFFICE_COOKIE, "value": cookie, "url": f"{origin}/"}])
    page.goto(f"/office/residents?municipality=131016&lang={lang}")
    page.wait_for_selector("table.table")
    assert "/office/residents" in page.url
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"residents-{lang}.png"), full_page=True)

    link = page.locator("table.table a").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("article.certificate")
    assert page.inner_text("h1").count("住民票の写し") == 1  # Not doubled.
    certificate = page.inner_text("article.certificate")
    assert "東京都千代田区" in certificate
    previous = "Former address" if lang == "en" else "前住所"
    assert previous in certificate
    assert "東京都千代田区長" in certificate  # The issuer, as the standard layout signs it.
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"certificate-{lang}.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.is_visible(".site-nav")
    page.emulate_media(media="screen")

    # The office home names the official, the office and the role, and offers the step-up.
    page.goto(f"/office?lang={lang}")
    assert "千代田\u3000窓口" in page.inner_text("main")
    assert page.locator("a[href*='step_up=true']").count() == 1
    # The municipality by its name, not its code.
    assert ("東京都千代田区" if lang == "ja" else "Chiyoda-ku, Tokyo") in page.inner_text("main")
    assert "131016" not in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / f"home-{lang}.png"), full_page=True)
