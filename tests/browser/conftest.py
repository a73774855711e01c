"""Browser harness: the real app under uvicorn, driven by Debian's Chromium through Playwright.

Browser tests are marked ``browser``. Without Chromium or axe-core they are skipped, except in
CI (``CI`` set), where a missing tool fails them so that CI cannot go green without them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiban.web import create_app
from tests.live import serving

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """A headless Chromium. Playwright gives each launch a fresh temporary user data dir."""
    if not (CHROMIUM.exists() or shutil.which("chromium")):
        _missing("Chromium is not installed (apt-get install chromium)")
    if not AXE.exists():
        _missing("axe-core is not installed (npm ci)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _missing("the playwright package is not installed")
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(database_url: str) -> Iterator[str]:
    """The real app served by uvicorn on a free loopback port, on the test database."""
    with serving(create_app(), "kiban-live-server") as url:
        yield url


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies) whose relative URLs go to the server.

    The pages' Content-Security-Policy forbids inline scripts, axe-core's injection too; the
    test browser bypasses it so that axe can run (tests/browser/test_csp.py keeps it)."""
    context = browser.new_context(base_url=live_server, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def assert_accessible(page: Any) -> None:
    """Fail, listing each violation, unless axe-core finds nothing against WCAG 2.2 AA."""
    # Judge the page as it is shown: after its stylesheets and fonts are in (a page reached by a
    # form post may still be loading them when its first element appears).
    page.wait_for_load_state("load")
    page.evaluate("async () => { await document.fonts.ready; }")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    violations = result["violations"]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for violation in violations:
            targets = [
                json.dumps(node["target"], ensure_ascii=False) for node in violation["nodes"]
            ]
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']}; "
                f"targets: {', '.join(targets)}"
            )
        pytest.fail("\n".join(lines))
