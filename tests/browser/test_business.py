"""Business accounts in a real browser: a representative signs in to the portal with the card,
applies for the prime account by signing in the card reader (both PINs), and invites a member.
Every page passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address, corporations, residents
from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into
from kiban.platform.settings import get_settings
from tests.live import free_port, serving

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

AUTH_PIN = "2468"
SIGNING_PIN = "PRIME2026"
NUMBER = "4011001098993"


@dataclass
class Servers:
    kiban: str
    card_number: str


@pytest.fixture
def servers(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    """kiban and the card reader on loopback ports; the representative of a company (a
    resident) has a card in the reader."""
    kiban_port, reader_port = free_port(), free_port()
    kiban_url = f"http://127.0.0.1:{kiban_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_CARD_READER_URL", f"http://127.0.0.1:{reader_port}")
    get_settings.cache_clear()

    address.load_registry(session, lg_codes=["131016"])
    town = address.find_town(session, "131016", "丸の内")
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="高橋",
            given_name="健一",
            family_name_kana="タカハシ",
            given_name_kana="ケンイチ",
            birth_date=date(1975, 3, 3),
            sex=residents.Sex.MALE,
            address=residents.AddressInput(town_id=town.id, chome=2, block_number="4番5号"),
            effective_on=date(2010, 4, 1),
        ),
        actor="official:test",
    )
    corporations.register_corporation(
        session,
        corporations.CorporationCreate(
            corporate_number=NUMBER,
            name="株式会社丸の内商事",
            name_kana="マルノウチショウジ",
            head_office=corporations.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
            representative=corporations.RepresentativeInput(
                name="高橋　健一",
                address=corporations.AddressInput(town_id=town.id, chome=2, block_number="4-5"),
            ),
        ),
        actor="official:test",
    )
    store = CardStore(tmp_path / "cards")
    card = issue_into(
        session, store, person.id, auth_pin=AUTH_PIN, signing_pin=SIGNING_PIN, actor="official:test"
    )
    session.commit()

    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with (
        serving(create_app(), "kiban", kiban_port) as kiban,
        serving(create_reader_app(store, kiban), "card-reader", reader_port),
    ):
        yield Servers(kiban=kiban, card_number=card.card_number)


@pytest.fixture
def business_page(browser: Any, servers: Servers) -> Iterator[Any]:
    # The reader's Content-Security-Policy forbids every script, axe-core's too.
    context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _in_reader(page: Any, servers: Servers, *, signing: bool) -> None:
    page.wait_for_selector("#auth_pin")
    page.check(f"#card-{servers.card_number}")
    page.fill("#auth_pin", AUTH_PIN)
    if signing:
        page.fill("#signing_pin", SIGNING_PIN)
    page.click("button[type='submit']")
    if signing:
        # The signature (and the certificate's personal data) goes back in a form's body.
        page.wait_for_selector("form[method='post'] button")
        assert "signing_certificate" not in page.url
        page.click("form[method='post'] button")
        assert "signing_certificate" not in page.url


def test_the_representative_applies_and_invites_in_the_browser(
    business_page: Any, servers: Servers
) -> None:
    page = business_page
    # Sign in to the portal with the card, asking for the business page.
    page.goto("/portal/login?next=/portal/business")
    page.click("form[action$='/sign'] button")
    _in_reader(page, servers, signing=False)
    page.wait_for_selector("button[value='approve']")
    page.click("button[value='approve']")
    page.wait_for_selector("#corporate_number")
    assert page.url.startswith(f"{servers.kiban}/portal/business")
    assert_accessible(page)

    # Apply for the prime account: the reader asks for both PINs and signs.
    page.fill("#corporate_number", NUMBER)
    page.fill("#email", "kenichi@example.jp")
    page.focus("#email")
    page.keyboard.press("Enter")
    page.wait_for_selector("form[action$='/sign'] button")
    assert NUMBER in page.inner_text("main")
    assert_accessible(page)
    page.click("form[action$='/sign'] button")
    _in_reader(page, servers, signing=True)
    page.wait_for_selector(f"#members-{NUMBER}")
    assert "株式会社丸の内商事" in page.inner_text("main")
    assert_accessible(page)

    # Invite a member; the one-time code is shown.
    page.fill(f"#invite-name-{NUMBER}", "佐藤　一郎")
    page.fill(f"#invite-email-{NUMBER}", "ichiro@example.jp")
    page.fill(f"#invite-role-{NUMBER}", "経理担当")
    page.click(f"form[action^='/portal/business/{NUMBER}/members'] button")
    page.wait_for_selector("#invitation-code")
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", page.inner_text("#invitation-code"))
    assert_accessible(page)

    # In English too.
    page.goto("/portal/business?lang=en")
    assert "Business accounts" in page.inner_text("h1")
    assert_accessible(page)
