"""The pages in a real browser: accessibility (axe-core, WCAG 2.2 AA) and keyboard use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import assert_accessible

pytestmark = pytest.mark.browser


def focused(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const el = document.activeElement; return {expression}; }}")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_landing_page_is_accessible(page: Any, lang: str) -> None:
    page.goto(f"/?lang={lang}")

    assert page.get_attribute("html", "lang") == lang
    assert_accessible(page)


def test_office_login_page_is_accessible(page: Any) -> None:
    page.goto("/office")  # Redirects to the sign-in page.

    assert "/office/login" in page.url
    assert_accessible(page)


def test_office_login_error_is_accessible(page: Any) -> None:
    # A sign-in that comes back without its state (expired, or not started here).
    page.goto("/office/callback?state=forged&code=x&lang=en")
    page.wait_for_selector(".error-summary")

    assert_accessible(page)


def test_first_tab_reaches_the_skip_link_and_enter_moves_to_main(page: Any) -> None:
    page.goto("/")

    page.keyboard.press("Tab")
    assert focused(page, "el.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()

    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'")
    assert page.url.endswith("#main")


def test_language_switch_works_by_keyboard(page: Any) -> None:
    page.goto("/")
    assert page.get_attribute("html", "lang") == "ja"

    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page, "el.getAttribute('hreflang')") == "en":
            break
    else:
        pytest.fail("the English link is not reachable by Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "National–local common digital infrastructure"
    # The choice sticks: the next page, without ?lang=, is in English too.
    page.goto("/office/login")
    assert page.get_attribute("html", "lang") == "en"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (360, 740)])
def test_landing_page_fits_the_screen(page: Any, tmp_path: Path, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")

    page.screenshot(path=str(tmp_path / f"landing-{width}.png"), full_page=True)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px wide"
