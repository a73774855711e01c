"""``/docs`` offline: Swagger UI comes from this server (no request leaves it), the page has a
language, and axe-core finds nothing against WCAG 2.2 AA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "docs"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_docs_render_offline_and_are_accessible(page: Any, live_server: str, lang: str) -> None:
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        # Offline: every request to another host fails, as without a network.
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"/docs?lang={lang}")
    page.wait_for_selector(".opblock", timeout=30_000)  # The operations are drawn...
    page.wait_for_selector(".json-schema-2020-12", timeout=30_000)  # ...and the schemas.
    assert elsewhere == []
    assert page.get_attribute("html", "lang") == lang
    assert "Kiban API" in page.inner_text("main")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"docs-{lang}.png"))
    assert_accessible(page)

    # An operation opened: its parameters and responses pass too.
    page.click("#operations-residents-list_residents_api_v1_residents_get .opblock-summary-control")
    page.wait_for_selector(".parameters", timeout=30_000)
    assert_accessible(page)
