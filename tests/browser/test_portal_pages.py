"""My page, the inbox, "who used my data" and consent to companies in a real browser, in
Japanese and English: a resident signs in with the card, reads a notice, sees which agencies
received their data, gives a consent, pauses and revokes it — by keyboard, and every page
passes axe-core."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.agencies.wiring import enrol_through_mesh, register_reference_agencies
from kiban.blocks import address, identity, mesh, notifications, residents
from kiban.kernel import clock
from kiban.platform import events
from kiban.platform.db import get_engine

from . import test_signin
from .conftest import assert_accessible
from .test_signin import AUTH_PIN, Servers

# The card sign-in's servers and browser page, shared with the sign-in tests.
servers = test_signin.servers
signin_page = test_signin.signin_page

pytestmark = pytest.mark.browser

TEMPLATE = "tests.browser_notice"

TEXT = {
    "ja": {
        "renew": "署名用電子証明書の更新のしかた",
        "subject": "転出届を受け付けました",
        "body": "2026年11月26日に受け付けました。",
        "agency": "日本年金機構",
        "bank": "きばん銀行",
        "granted": "同意を記録しました。",
        "paused": "一時停止中",
        "revoked": "撤回済み",
        "error": "提供する情報を選んでください。",
    },
    "en": {
        "renew": "How to renew your certificate for signing",
        "subject": "We received your moving-out notice",
        "body": "Received on November 26, 2026.",
        "agency": "Japan Pension Service",
        "bank": "Kiban Bank",
        "granted": "Your consent was recorded.",
        "paused": "Paused",
        "revoked": "Revoked by you",
        "error": "Choose the data to share.",
    },
}


def prepare(session: Session, servers: Servers) -> None:
    """Two notices, exchanges with every government agency, and a move within the town that
    revoked the signing certificate."""
    person_id = identity.get_card_by_number(session, servers.card_number).person_id
    notifications.register_template(
        TEMPLATE,
        subject_ja="{what}を受け付けました",
        subject_en="We received your {what_en}",
        body_ja="{day}に受け付けました。",
        body_en="Received on {day}.",
        params={"what": str, "what_en": str, "day": date},
    )
    for what, what_en in (("転居届", "change of address"), ("転出届", "moving-out notice")):
        notifications.do_send_notice(
            session,
            person_id,
            TEMPLATE,
            {"what": what, "what_en": what_en, "day": date(2026, 11, 26)},
            actor="system:test",
            link="/portal/",
        )
    register_reference_agencies(session)
    enrol_through_mesh(session, [person_id], seed=1)
    town = address.find_town(session, "131016", "丸の内")
    residents.move_within(
        session,
        person_id,
        residents.MoveWithinCreate(
            moved_on=clock.today_jst(),
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番2号"
            ),
        ),
        actor="official:test",
    )
    session.commit()
    events.deliver_pending(get_engine())


def sign_in(page: Any, servers: Servers, lang: str) -> None:
    page.goto(f"/portal/?lang={lang}")
    page.click("form[action$='/sign'] button")
    page.wait_for_selector("#auth_pin")
    page.check(f"#card-{servers.card_number}")
    page.fill("#auth_pin", AUTH_PIN)
    page.click("button[type='submit']")
    page.wait_for_selector("button[value='approve']")
    page.click("button[value='approve']")
    page.wait_for_selector("h1")
    assert page.url.startswith(f"{servers.kiban}/portal/")


def press(page: Any, selector: str) -> None:
    """Move the focus to ``selector`` and press Enter, as a keyboard user would."""
    page.focus(selector)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_portal_pages_by_keyboard(
    signin_page: Any, servers: Servers, session: Session, lang: str
) -> None:
    prepare(session, servers)
    text = TEXT[lang]
    page = signin_page
    sign_in(page, servers, lang)

    # My page: the card status says why the signing certificate was revoked and how to renew it.
    assert page.get_attribute("html", "lang") == lang
    assert text["renew"] in page.inner_text("#renew-signing")
    assert page.locator(".portal-nav a[href='/portal/inbox']").count() == 1
    assert_accessible(page)

    # The inbox: both notices unread; opening the newest changes nothing until the resident
    # marks it read (a form, never the GET of the page).
    press(page, ".portal-nav a[href='/portal/inbox']")
    page.wait_for_selector("table")
    # The moving-house notices may add their own (the signing certificate was revoked).
    unread = page.locator("tr.unread").count()
    assert unread >= 2
    assert_accessible(page)
    page.locator("a.inbox__subject", has_text=text["subject"]).focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.wait_for_selector(".notice__body")
    assert text["subject"] in page.inner_text("h1")
    assert text["body"] in page.inner_text(".notice__body")
    assert_accessible(page)
    press(page, f"main a[href='/portal/inbox?lang={lang}']")
    page.wait_for_selector("table")
    assert page.locator("tr.unread").count() == unread
    page.locator("a.inbox__subject", has_text=text["subject"]).focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    press(page, "form[action*='/read'] button")
    page.wait_for_selector(".notice__body")
    assert page.locator("form[action*='/read']").count() == 0
    press(page, f"main a[href='/portal/inbox?lang={lang}']")
    page.wait_for_selector("table")
    assert page.locator("tr.unread").count() == unread - 1

    # Who used my data: the agencies by name, newest first.
    press(page, ".portal-nav a[href='/portal/records']")
    page.wait_for_selector("table")
    assert text["agency"] in page.inner_text("main")
    assert_accessible(page)

    # Consent: a wrong form first (no data chosen), then a good one, pause and revoke.
    press(page, ".portal-nav a[href='/portal/consents']")
    page.wait_for_selector("#company")
    assert_accessible(page)
    page.select_option("#company", mesh_company(session, "bank"))
    page.focus("#item-address")
    page.keyboard.press("Space")  # Unticks the address, the one item ticked by default.
    press(page, "form.form button[type='submit']")
    page.wait_for_selector(".error-summary")
    assert text["error"] in page.inner_text(".error-summary")
    assert_accessible(page)

    page.focus("#item-address")
    page.keyboard.press("Space")
    press(page, "form.form button[type='submit']")
    page.wait_for_selector("[role='status']")
    assert text["granted"] in page.inner_text("[role='status']")
    assert text["bank"] in page.inner_text("table")
    assert_accessible(page)

    press(page, "form[action*='/pause'] button")
    page.wait_for_selector("form[action*='/resume']")
    assert text["paused"] in page.inner_text("table")
    assert_accessible(page)
    press(page, "form[action*='/revoke'] button")
    page.wait_for_selector("[role='status']")
    assert text["revoked"] in page.inner_text("table")
    assert page.locator("form[action*='/revoke']").count() == 0
    assert_accessible(page)

    session.rollback()
    [consent] = mesh.list_consents(
        session, identity.get_card_by_number(session, servers.card_number).person_id
    )
    assert consent.status == "revoked"
    assert consent.valid_until == clock.today_jst() + timedelta(days=365)
    session.rollback()


def mesh_company(session: Session, name: str) -> str:
    from kiban.agencies import AGENCIES  # noqa: PLC0415

    session.rollback()
    subsystem = AGENCIES[name].subsystem
    assert subsystem in {s.xroad_id for s in mesh.list_subsystems(session)}
    session.rollback()
    return subsystem
