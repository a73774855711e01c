"""The wallet journey in a real browser (issue 17's done-when): a resident receives a
``resident`` credential (and a nurse's licence) into the wallet, shows ``age_over_20`` to the
shop, which receives that claim and nothing else, and the licence to the hospital; the licence
is then revoked and the hospital's next check refuses it.

kiban and the wallet run as two servers, as they would on a resident's computer. Every page of
the wallet and of the verifiers is checked with axe-core in Japanese and English and used by
keyboard; screenshots go to ``var/screenshots/wallet``. The licence is registered in the
qualifications registry and revoked there, as its authority would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import address, credentials, qualifications, residents
from kiban.platform import events
from kiban.platform.settings import get_settings
from kiban.wallet.app import create_wallet_app
from kiban.wallet.store import WalletStore
from tests.live import free_port, serving

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

PIN = "739146"
NURSE = "qualification-nurse"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "wallet"
TEXT = {
    "ja": {
        "shop": "さくら酒店",
        "age": "20歳以上",
        "yes": "はい",
        "verified": "確認できました",
        "accepted": "確認済み",
        "declined": "ご本人が提示を断りました。",
        "revoked": "証明書は失効しています。",
    },
    "en": {
        "shop": "Sakura Liquor Store",
        "age": "Aged 20 or over",
        "yes": "Yes",
        "verified": "Verified",
        "accepted": "Accepted",
        "declined": "The holder declined to present the credential.",
        "revoked": "The credential has been revoked.",
    },
}


@dataclass
class Servers:
    kiban: str
    wallet: str
    person: residents.PersonRead
    store: WalletStore


@pytest.fixture
def servers(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    kiban_port, wallet_port = free_port(), free_port()
    kiban_url, wallet_url = f"http://127.0.0.1:{kiban_port}", f"http://127.0.0.1:{wallet_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_WALLET_URL", wallet_url)
    get_settings.cache_clear()
    credentials.clear_status_cache()

    address.load_registry(session, lg_codes=["131016"])
    town = address.find_town(session, "131016", "丸の内")
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="高橋",
            given_name="由美",
            family_name_kana="タカハシ",
            given_name_kana="ユミ",
            birth_date=date(1991, 6, 15),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="3番1号"
            ),
            effective_on=date(2021, 4, 1),
        ),
        actor="official:test",
    )
    session.commit()
    store = WalletStore(tmp_path / "wallet")

    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with (
        serving(create_app(), "kiban", kiban_port) as kiban,
        serving(create_wallet_app(store, kiban), "wallet", wallet_port) as wallet,
    ):
        yield Servers(kiban=kiban, wallet=wallet, person=person, store=store)
    credentials.clear_status_cache()


@pytest.fixture
def browser_page(browser: Any, servers: Servers) -> Iterator[Any]:
    # The wallet's Content-Security-Policy forbids every script, axe-core's too.
    context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _checked(page: Any, lang: str, name: str) -> None:
    assert page.get_attribute("html", "lang") == lang
    assert_accessible(page)
    _shot(page, lang, name)


def _offer(session: Session, person: residents.PersonRead, kind: str) -> credentials.Offer:
    made = credentials.offer_credential(
        session, person_id=person.id, credential_type=kind, actor="official:test"
    )
    session.commit()
    return made


def _receive(page: Any, servers: Servers, offer: credentials.Offer, lang: str, name: str) -> None:
    """Paste the offer link from the inbox, type the code and the PIN, by keyboard."""
    page.goto(f"{servers.wallet}/receive?lang={lang}")
    _checked(page, lang, f"receive-{name}")
    page.focus("#offer")
    page.keyboard.insert_text(offer.offer_uri)
    page.keyboard.press("Tab")
    page.keyboard.type(offer.tx_code)
    page.keyboard.press("Tab")
    page.keyboard.type(PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#credentials")
    assert page.url.startswith(f"{servers.wallet}/?")


def _start_check(page: Any, servers: Servers, verifier: str, lang: str) -> str:
    """Start a check on the verifier's page by keyboard; the pending check's address."""
    page.goto(f"{servers.kiban}/verifiers/{verifier}?lang={lang}")
    _checked(page, lang, f"{verifier}")
    page.focus("form[action*='/checks'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#wallet-link")
    _checked(page, lang, f"{verifier}-check")
    return str(page.url)


def _present(page: Any, lang: str, name: str, *, decline: bool = False) -> None:
    """Follow the verifier's link into the wallet, see who asks and what, send or decline."""
    page.focus("a[href*='/present?']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#who-asks")
    _checked(page, lang, f"present-{name}")
    if decline:
        page.focus("button[value='decline']")
    else:
        page.focus("#pin")
        page.keyboard.type(PIN)
        page.focus("button[value='send']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1")
    _checked(page, lang, f"answered-{name}")


def _set_up(page: Any, servers: Servers, lang: str) -> None:
    """The wallet's first page: choose a PIN, by keyboard."""
    page.goto(f"{servers.wallet}/?lang={lang}")
    page.wait_for_selector("#pin_again")
    _checked(page, lang, "setup")
    page.focus("#pin")
    page.keyboard.type(PIN)
    page.keyboard.press("Tab")
    page.keyboard.type(PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector(".actions")
    _checked(page, lang, "empty")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_resident_shows_the_shop_only_age_over_20(
    browser_page: Any, servers: Servers, session: Session, lang: str
) -> None:
    page, words = browser_page, TEXT[lang]
    _set_up(page, servers, lang)

    # Receive the resident credential offered to the inbox.
    _receive(page, servers, _offer(session, servers.person, "resident"), lang, "resident")
    _checked(page, lang, "held")

    # The verifiers' list.
    page.goto(f"{servers.kiban}/verifiers/?lang={lang}")
    _checked(page, lang, "verifiers")

    # The shop asks for age_over_20; the wallet shows exactly that and who asks.
    check = _start_check(page, servers, "shop", lang)
    _present(page, lang, "shop")
    page.goto(check)
    page.wait_for_selector("#received")
    _checked(page, lang, "shop-verified")
    assert page.inner_text("#received dt") == words["age"]
    assert page.inner_text("#received dd") == words["yes"]
    body = page.inner_text("body")
    assert "1991" not in body
    assert "由美" not in body
    assert words["verified"] in body

    # A second check, declined: the shop sees that, and nothing else.
    check = _start_check(page, servers, "shop", lang)
    _present(page, lang, "shop-declined", decline=True)
    page.goto(check)
    page.wait_for_selector("[role=alert]")
    _checked(page, lang, "shop-declined-result")
    assert words["declined"] in page.inner_text("[role=alert]")

    # The wallet's log: both answers, to the shop.
    page.goto(f"{servers.wallet}/?lang={lang}")
    _checked(page, lang, "log")
    assert words["shop"] in page.inner_text("#log")
    assert words["accepted"] in page.inner_text("#log")
    page.goto(f"{servers.wallet}/present?lang={lang}")
    _checked(page, lang, "open")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_hospital_refuses_the_licence_once_it_is_revoked(
    browser_page: Any, servers: Servers, session: Session, engine: Engine, lang: str
) -> None:
    """The nurse's licence: registered in the qualifications registry, offered, shown to the
    hospital, then revoked by its authority in the registry, whose event revokes the credential;
    the hospital's next check refuses it."""
    page, words = browser_page, TEXT[lang]
    holder = qualifications.register_as_system(
        session,
        qualification="nurse",
        person_id=servers.person.id,
        registration_number="7700001" if lang == "ja" else "7700002",
        registered_on=date(2010, 4, 1),
        actor="official:test",
    )
    session.commit()
    _set_up(page, servers, lang)
    _receive(page, servers, _offer(session, servers.person, NURSE), lang, "licence")
    check = _start_check(page, servers, "hospital", lang)
    _present(page, lang, "hospital")
    page.goto(check)
    page.wait_for_selector("#received")
    _checked(page, lang, "hospital-verified")
    # The issuing authority revokes the licence; the hospital's next check refuses it.
    qualifications.change_as_system(
        session, holder.id, "revoked", reason="免許取消", actor="official:test"
    )
    session.commit()
    events.deliver_pending(engine)  # Through NATS in CI: the registry's event, delivered.
    check = _start_check(page, servers, "hospital", lang)
    _present(page, lang, "hospital-revoked")
    page.goto(check)
    page.wait_for_selector("[role=alert]")
    _checked(page, lang, "hospital-refused")
    assert words["revoked"] in page.inner_text("[role=alert]")
