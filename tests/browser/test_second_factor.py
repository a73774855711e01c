"""Officials sign in without a card reader (ADR 0019), in a real browser: after signing in with
the card, an official adds a passkey (Chromium's virtual authenticator, driven over the DevTools
protocol) and an authenticator app; signs out; signs in again with the passkey only, then with
a TOTP code, and reaches the office. Every new page is checked by axe-core in both languages.

WebAuthn refuses IP addresses as relying party ids, so kiban is served as ``localhost`` here
(the card reader stays on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import Engine, select

from kiban.blocks import address
from kiban.cardreader.app import create_reader_app
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import AUTH_PIN, ReaderCard
from tests.live import free_port, serving
from tests.office_support import new_official

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "second-factor"
LG = "131016"
NAME = ("千代田", "三郎")


@dataclass
class Servers:
    kiban: str
    reader: str
    card: ReaderCard
    account: str
    name: str
    engine: Engine


@pytest.fixture
def servers(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    kiban_port, reader_port = free_port(), free_port()
    kiban_url = f"http://localhost:{kiban_port}"
    reader_url = f"http://127.0.0.1:{reader_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_CARD_READER_URL", reader_url)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with serving(create_app(), "kiban", kiban_port) as served:
        kiban = served.replace("127.0.0.1", "localhost")
        with transaction(engine) as session:
            address.load_registry(session, lg_codes=[LG])
            principal, card = new_official(
                session, LG, "approval", tmp_path / "cards", family_name=NAME[0], given_name=NAME[1]
            )
        with serving(create_reader_app(card.store, kiban), "card-reader", reader_port) as reader:
            yield Servers(kiban, reader, card, str(principal.account_id), principal.name, engine)


@pytest.fixture
def context(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
    yield context
    context.close()


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _press(page: Any, selector: str, key: str = "Enter") -> None:
    page.focus(selector)
    page.keyboard.press(key)


def _choose(page: Any, servers: Servers) -> None:
    choice = f"input[data-organisation='{LG}'][data-role='approval']"
    page.wait_for_selector(choice)
    _press(page, choice, "Space")
    _press(page, "form[action*='/office/choose'] button[type='submit']")
    page.wait_for_url(lambda url: urlsplit(url).path == "/office")
    assert servers.name in page.inner_text("main")


def _sign_in_with_card(page: Any, servers: Servers, lang: str) -> None:
    page.goto(f"/office/login?next=/office&lang={lang}")
    _press(page, "#sign-in-with-card")
    page.wait_for_selector("form[action$='/sign'] button")
    _press(page, "form[action$='/sign'] button")
    page.wait_for_selector("#auth_pin")
    _press(page, f"#card-{servers.card.card_number}", "Space")
    page.focus("#auth_pin")
    page.keyboard.type(AUTH_PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("button[value='approve']")
    _press(page, "button[value='approve']")
    _choose(page, servers)


def _sign_out(page: Any) -> None:
    page.goto("/office")
    _press(page, "form[action='/office/logout'] button")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def _methods(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "staff:office:sign_in")
        )
        return [str(entry.data.get("method")) for entry in entries]


def _step_ups(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "staff:office:step_up")
        )
        return [str(entry.data.get("method")) for entry in entries]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_an_official_signs_in_with_a_passkey_and_with_an_app(
    context: Any, servers: Servers, lang: str
) -> None:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    # With the card, the official adds a passkey, named by them.
    _sign_in_with_card(page, servers, lang)
    _press(page, "a[href^='/office/factors']")
    page.wait_for_selector("#key-name")
    assert page.is_hidden("[data-webauthn-unavailable]")  # This browser has WebAuthn.
    assert_accessible(page)
    _shot(page, lang, "01-factors")
    page.fill("#key-name", "青いキー")
    _press(page, "#add-key")
    page.wait_for_url("**done=added*")
    assert "青いキー" in page.inner_text("table.table")
    assert_accessible(page)
    _shot(page, lang, "02-key-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    # And an authenticator app: the key shown once, confirmed by a first code.
    _press(page, "form[action^='/office/factors/totp?'] button")
    page.wait_for_selector("#totp-secret")
    assert page.locator("figure.qr svg").count() == 1
    assert_accessible(page)
    _shot(page, lang, "03-totp")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
    _press(page, "#code")
    page.wait_for_url("**done=totp*")
    assert_accessible(page)
    _sign_out(page)

    # Without a card reader: the passkey names its account (no account id typed).
    page.goto(f"/office/login?next=/office&lang={lang}")
    _press(page, "#sign-in-without-card")
    page.wait_for_selector("#sign-in-with-key")
    assert_accessible(page)
    _shot(page, lang, "04-sign-in-without-card")
    _press(page, "#sign-in-with-key")
    page.wait_for_url(lambda url: urlsplit(url).path == "/office/choose")
    assert_accessible(page)
    _choose(page, servers)
    assert_accessible(page)
    _shot(page, lang, "05-office-by-passkey")
    # Before a sensitive action, the key confirms it is still the official (step-up).
    with page.expect_navigation():
        _press(page, "#webauthn-step-up button")
    assert _step_ups(servers.engine) == ["webauthn"]
    _sign_out(page)

    # A wrong code is refused, on an accessible page; the app's next code signs in.
    page.goto(f"/office/login/factor?lang={lang}")
    page.fill("#totp-account", servers.account)
    page.fill("#totp-code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    _press(page, "#totp-code")
    page.wait_for_selector(".error-summary")
    assert_accessible(page)
    _shot(page, lang, "06-wrong-code")
    with clock.travel(timedelta(seconds=30)):  # The next step's code (each is used once).
        page.fill("#totp-code", pyotp.TOTP(secret).at(clock.now()))
        _press(page, "#totp-code")
        page.wait_for_url(lambda url: urlsplit(url).path == "/office/choose")
        _choose(page, servers)
    assert _methods(servers.engine) == ["card", "webauthn", "totp"]
