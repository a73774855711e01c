"""The death's pages in a real browser, in Japanese and English, each checked by axe-core: the
bereaved's おくやみ page with the procedures and deadlines and the heirs chart downloaded by
keyboard, and the office's page with the same list and the family behind the heirs.

The death itself is made in the database (the physician's certificate, the 死亡届 signed with
the card and accepted: the HTTP journey is tests/life_events/test_death.py); the sessions are
started directly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.agencies import physician
from kiban.blocks import mesh, procedures
from kiban.kernel import clock
from kiban.life_events import death
from kiban.platform import events, sessions
from kiban.platform.db import transaction
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.life_events.journey import (
    OLD_LG,
    _known_to_every_government_agency,
    act_as_official,
    build_family,
    sign_and_submit,
)
from tests.staff_support import make_official
from tests.web.portal_support import RESIDENT_COOKIE, resident_cookie

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "death"


def _accepted_death(engine: Engine, tmp_path: Path) -> tuple[Any, str]:
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
        _known_to_every_government_agency(session, family.spouse)
        physician.certify_death(
            session,
            family.spouse.id,
            died_at=clock.now() - timedelta(hours=3),
            place_kind="hospital",
            place="東京都千代田区丸の内1-1-1 きばん病院",
            cause="illness",
            physician="医師 一郎",
            address=family.spouse.address.text,
        )
        actor = f"person:{family.applicant.id}"
        app = death.start_death_notice(
            session, filer=family.applicant.id, deceased=family.spouse.id, actor=actor
        )
        app = procedures.do_save_draft(
            session, app.id, {"capacity": "同居の親族"}, expected_version=app.version, actor=actor
        )
        app = sign_and_submit(session, family, app)
        act_as_official(session, app.id, "accept", OLD_LG)
    for _ in range(3):
        events.deliver_pending(engine)
        with transaction(engine) as session:
            mesh.deliver_due(session)
    return family, str(app.id)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_bereaved_and_the_office_pages(
    page: Any, engine: Engine, tmp_path: Path, lang: str
) -> None:
    family, application_id = _accepted_death(engine, tmp_path)
    page.goto(f"/?lang={lang}")
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies(
        [
            {
                "name": RESIDENT_COOKIE,
                "value": resident_cookie(engine, family.applicant.id),
                "url": f"{origin}/",
            }
        ]
    )
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)

    page.goto(f"/portal/okuyami/{application_id}?lang={lang}")
    page.wait_for_selector("table.table")
    assert "年金受給権者死亡届" in page.inner_text("main")
    assert "引越太郎" in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=str(folder / "okuyami.png"), full_page=True)
    # The chart is downloaded by keyboard: a POST with the session's token.
    button = page.locator("form button").first
    button.focus()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = folder / "heirs-chart.pdf"
    download.value.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    page.goto(f"/portal/death?lang={lang}")
    assert_accessible(page)
    page.screenshot(path=str(folder / "death-start.png"), full_page=True)

    with transaction(engine) as session:
        official = make_official(session, OLD_LG, "counter", name="千代田\u3000窓口")
        cookie, _ = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(official.account_id),
            data={"organisation": OLD_LG, "role": "counter"},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
    page.context.add_cookies([{"name": OFFICE_COOKIE, "value": cookie, "url": f"{origin}/"}])
    page.goto(f"/office/deaths/{application_id}?lang={lang}")
    page.wait_for_selector("textarea#family")
    assert "年金受給権者死亡届" in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=str(folder / "office-death.png"), full_page=True)
