"""The qualifications registry's office pages in a real browser: accessible in Japanese and
English, and a suspension taken by keyboard through its confirmation page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.blocks import qualifications, residents
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.staff_support import make_official

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "office"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_registry_pages_are_accessible_and_work_by_keyboard(
    page: Any, engine: Engine, lang: str
) -> None:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code="131016", limit=1)[0]
        holder = qualifications.register_as_system(
            session,
            qualification="nurse",
            person_id=person.id,
            registration_number="0512345",
            registered_on=date(2012, 4, 1),
            actor="system:test",
        )
        official = make_official(session, "agency:mhlw", "qualifications", name="厚労\u3000職員")
        cookie, _ = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(official.account_id),
            data={"organisation": "agency:mhlw", "role": "qualifications"},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
    page.goto(f"/office?lang={lang}")
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies([{"name": OFFICE_COOKIE, "value": cookie, "url": f"{origin}/"}])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"/office/qualifications?lang={lang}")
    page.wait_for_selector("table.table")
    assert person.full_name in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / f"qualifications-{lang}.png"), full_page=True)

    page.goto(f"/office/qualifications/new?lang={lang}")
    assert_accessible(page)

    page.goto(f"/office/qualifications/{holder.id}?lang={lang}")
    assert "0512345" in page.inner_text("main")
    assert_accessible(page)
    reason = page.locator("#suspended-reason")
    reason.focus()
    page.keyboard.type("業務停止1月")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=confirmed]", state="attached")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / f"qualification-confirm-{lang}.png"), full_page=True)
    page.locator("form button[type=submit]").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice--success")
    assert ("停止中" if lang == "ja" else "Suspended") in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / f"qualification-{lang}.png"), full_page=True)
