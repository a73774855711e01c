"""The pages work under their Content-Security-Policy (no bypass): the browser reports no
violation on the landing page, the portal's pages and the office's sign-in, and forms still post
(the mark-as-read form, then sign-out)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import notifications
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie

pytestmark = pytest.mark.browser

TEMPLATE = "tests.csp_notice"

PAGES = [
    "/",
    "/portal/",
    "/portal/inbox",
    "/portal/records",
    "/portal/consents",
    "/portal/business",
    "/portal/procedures",
    "/office/login",
]


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A page that keeps the Content-Security-Policy (no bypass, unlike the other tests)."""
    context = browser.new_context(base_url=live_server, locale="ja-JP")
    page = context.new_page()
    yield page
    context.close()


def test_no_page_breaks_its_content_security_policy(
    page: Any, live_server: str, session: Session
) -> None:
    notifications.register_template(
        TEMPLATE,
        subject_ja="お知らせ",
        subject_en="A notice",
        body_ja="本文",
        body_en="Body",
        params={},
    )
    person = register(session)
    notice = notifications.do_send_notice(session, person.id, TEMPLATE, {}, actor="system:test")
    session.commit()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.context.add_cookies(
        [
            {
                "name": RESIDENT_COOKIE,
                "value": resident_cookie(None, person.id),
                "domain": urlsplit(live_server).hostname,
                "path": "/",
            }
        ]
    )
    for path in PAGES:
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    page.goto(f"/portal/inbox/{notice.id}")
    page.click("form[action*='/read'] button")
    page.wait_for_load_state()
    assert page.locator("form[action*='/read']").count() == 0
    page.goto("/portal/")
    page.click("form[action='/portal/logout'] button")
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/"
    assert violations == []
