"""The office's resident pages in a real browser: signed in by keyboard, accessible, printable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.blocks import residents
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "office"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_resident_list_and_certificate_by_keyboard(page: Any, engine: Engine, lang: str) -> None:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    # Sign in by keyboard alone: the form's first field, the token, then Enter.
    page.goto(f"/office/residents?municipality=131016&lang={lang}")
    assert "/office/login" in page.url
    page.focus("#token")
    page.keyboard.type(get_settings().operator_token)
    page.keyboard.press("Enter")
    page.wait_for_selector("table.table")
    assert "/office/residents" in page.url
    assert_accessible(page)

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
