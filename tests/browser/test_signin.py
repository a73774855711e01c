"""Sign-in with the card in a real browser: the portal sends the resident to kiban's sign-in
page, on to the virtual card reader (a server of its own) for the PIN, back for consent, and
lands on the resident's page. Every page passes axe-core and is used by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into
from kiban.platform.settings import get_settings
from tests.live import free_port, serving

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

AUTH_PIN = "4321"
SIGNING_PIN = "SIGN2026"


@dataclass
class Servers:
    kiban: str
    reader: str
    card_number: str
    cards: Path


@pytest.fixture
def servers(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    """kiban and the card reader on two loopback ports, and a resident whose card is in the
    reader."""
    kiban_port, reader_port = free_port(), free_port()
    kiban_url, reader_url = f"http://127.0.0.1:{kiban_port}", f"http://127.0.0.1:{reader_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_CARD_READER_URL", reader_url)
    get_settings.cache_clear()

    address.load_registry(session, lg_codes=["131016"])
    town = address.find_town(session, "131016", "丸の内")
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="佐藤",
            given_name="美咲",
            family_name_kana="サトウ",
            given_name_kana="ミサキ",
            birth_date=date(1990, 10, 1),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="1番1号"
            ),
            effective_on=date(2021, 4, 1),
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
        serving(create_reader_app(store, kiban), "card-reader", reader_port) as reader,
    ):
        yield Servers(
            kiban=kiban,
            reader=reader,
            card_number=card.card_number,
            cards=tmp_path / "cards",
        )


@pytest.fixture
def signin_page(browser: Any, servers: Servers) -> Iterator[Any]:
    # The reader's Content-Security-Policy forbids every script, axe-core's too; bypassing it
    # in the test browser lets axe check the reader's pages.
    context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_resident_signs_in_to_the_portal_with_the_card(
    signin_page: Any, servers: Servers, lang: str
) -> None:
    page = signin_page
    page.goto(f"/portal/?lang={lang}")

    # kiban's sign-in page: what the portal asks for and how the card sign-in works.
    page.wait_for_selector("form[action$='/sign'] button")
    assert "/oidc/signin/" in page.url
    assert page.get_attribute("html", "lang") == lang
    assert_accessible(page)
    page.focus("form[action$='/sign'] button")
    page.keyboard.press("Enter")

    # The card reader: choose the card, type the PIN.
    page.wait_for_selector("#auth_pin")
    assert page.url.startswith(f"{servers.reader}/sign?")
    assert_accessible(page)
    page.focus(f"#card-{servers.card_number}")
    page.keyboard.press("Space")
    page.focus("#auth_pin")
    page.keyboard.type(AUTH_PIN)
    page.keyboard.press("Enter")

    # Back at kiban: consent, item by item.
    page.wait_for_selector("button[value='approve']")
    assert "/oidc/consent/" in page.url
    assert "佐藤\u3000美咲" in page.inner_text("main")
    assert page.is_checked("#scope-name")
    assert_accessible(page)
    page.focus("button[value='approve']")
    page.keyboard.press("Enter")

    # My page.
    page.wait_for_selector("h1")
    assert page.url == f"{servers.kiban}/portal/?lang={lang}"
    assert page.get_attribute("html", "lang") == lang
    assert "佐藤\u3000美咲" in page.inner_text("main")
    born = "1990年10月1日" if lang == "ja" else "1 October 1990"
    assert born in page.inner_text("main")
    assert_accessible(page)


def test_a_wrong_pin_is_reported_and_the_page_stays_accessible(
    signin_page: Any, servers: Servers
) -> None:
    page = signin_page
    page.goto("/portal/login")
    page.click("form[action$='/sign'] button")
    page.wait_for_selector("#auth_pin")
    page.check(f"#card-{servers.card_number}")
    page.fill("#auth_pin", "0000")
    page.click("button[type='submit']")

    page.wait_for_selector(".error-summary")
    assert page.url.startswith(servers.reader)
    assert "2" in page.inner_text(".error-summary")
    assert_accessible(page)


def test_three_wrong_pins_lock_the_card_and_the_lock_survives_a_reader_restart(
    signin_page: Any, servers: Servers
) -> None:
    page = signin_page
    page.goto("/portal/login?lang=en")
    page.click("form[action$='/sign'] button")
    page.wait_for_selector("#auth_pin")
    sign_url = page.url
    for _ in range(3):
        page.check(f"#card-{servers.card_number}")
        page.fill("#auth_pin", "0000")
        page.click("button[type='submit']")
        page.wait_for_selector(".error-summary")
    assert "locked" in page.inner_text(".error-summary")

    # The right PIN no longer helps.
    page.check(f"#card-{servers.card_number}")
    page.fill("#auth_pin", AUTH_PIN)
    page.click("button[type='submit']")
    page.wait_for_selector(".error-summary")
    assert page.url.startswith(servers.reader)
    assert "locked" in page.inner_text(".error-summary")

    # A new reader process over the same card directory: the card is still locked.
    with serving(
        create_reader_app(CardStore(servers.cards), servers.kiban), "card-reader-restarted"
    ) as restarted:
        page.goto(sign_url.replace(servers.reader, restarted))
        page.wait_for_selector("#auth_pin")
        assert "locked" in page.inner_text("form")
        assert_accessible(page)
        page.check(f"#card-{servers.card_number}")
        page.fill("#auth_pin", AUTH_PIN)
        page.click("button[type='submit']")
        page.wait_for_selector(".error-summary")
        assert page.url.startswith(restarted)
        assert "locked" in page.inner_text(".error-summary")
