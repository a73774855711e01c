"""The holder wallet against a real kiban: receive an offer, present to the shop, decline, the
log, and what the wallet's file keeps (sealed under the PIN)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import credentials, residents
from kiban.platform.settings import get_settings
from kiban.wallet import WalletStore, WrongWalletPin
from kiban.wallet.app import create_wallet_app
from tests.blocks.credentials.conftest import TestClient

PIN = "246813"


@pytest.fixture
def store(tmp_path: Path) -> WalletStore:
    return WalletStore(tmp_path / "wallet")


@pytest.fixture
def wallet(store: WalletStore, client: TestClient) -> Iterator[TestClient]:
    app = create_wallet_app(store, get_settings().base_url, http=client)
    with TestClient(app, base_url="http://127.0.0.1:8766") as wallet_client:
        yield wallet_client


def _token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None, page
    return found[1]


def _set_up(wallet: TestClient) -> None:
    page = wallet.get("/?lang=en")
    assert "Choose a PIN for your wallet" in page.text
    done = wallet.post(
        "/setup",
        data={"form_token": _token(page.text), "pin": PIN, "pin_again": PIN},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def _offer(session: Session, person: residents.PersonRead) -> credentials.Offer:
    made = credentials.offer_credential(
        session, person_id=person.id, credential_type="resident", actor="official:test"
    )
    session.commit()
    return made


def _receive(wallet: TestClient, offer: credentials.Offer, **changes: str) -> Any:
    page = wallet.get("/receive", params={"offer": offer.offer_uri, "lang": "en"})
    assert page.status_code == 200
    assert unescape(page.text).count(offer.offer_uri) == 1
    return wallet.post(
        "/receive?lang=en",
        data={
            "form_token": _token(page.text),
            "offer": offer.offer_uri,
            "tx_code": offer.tx_code,
            "pin": PIN,
            **changes,
        },
        follow_redirects=False,
    )


def _shop_link(client: TestClient) -> tuple[str, str]:
    started = client.post("/verifiers/shop/checks?lang=en", follow_redirects=False)
    check_path = started.headers["location"]
    page = client.get(check_path)
    link = re.search(r'<textarea id="wallet-link"[^>]*>([^<]+)</textarea>', page.text)
    assert link is not None
    return check_path, unescape(link[1])


def test_a_resident_receives_and_shows_age_over_20_to_the_shop(
    client: TestClient,
    wallet: TestClient,
    session: Session,
    resident: residents.PersonRead,
    store: WalletStore,
) -> None:
    _set_up(wallet)
    offer = _offer(session, resident)
    wrong = _receive(wallet, offer, tx_code="000000" if offer.tx_code != "000000" else "111111")
    assert wrong.status_code == 422
    assert "The transaction code is wrong" in wrong.text
    # The wrong code was counted; the offer is still good for the right one.
    received = _receive(wallet, offer)
    assert received.status_code == 303, received.text
    (held,) = store.credentials()
    assert held.credential_type == "resident"
    # The file holds no claim and no private key in the clear.
    kept = store.path.read_text(encoding="utf-8")
    for secret in ("花子", "1982", '"d"', "age_over_20"):
        assert secret not in kept
    with pytest.raises(WrongWalletPin):
        store.open("999999", held.id)

    check_path, link = _shop_link(client)
    asked = wallet.get("/present", params={"link": link, "lang": "en"})
    assert asked.status_code == 200, asked.text
    assert "Sakura Liquor Store (reference verifier)" in asked.text
    assert "we confirm only that you are 20 or older" in asked.text
    # Exactly the asked claims are offered, and nothing else.
    assert re.findall(r'name="claims" value="([^"]+)"', asked.text) == ["age_over_20"]
    bad_pin = wallet.post(
        "/present?lang=en",
        data={
            "form_token": _token(asked.text),
            "link": link,
            "action": "send",
            "credential_id": held.id,
            "claims": ["age_over_20"],
            "pin": "999999",
        },
    )
    assert bad_pin.status_code == 422
    assert "The PIN is wrong." in bad_pin.text
    sent = wallet.post(
        "/present?lang=en",
        data={
            "form_token": _token(asked.text),
            "link": link,
            "action": "send",
            "credential_id": held.id,
            # A forged form adds the birth date: the wallet sends only claims asked for.
            "claims": ["age_over_20", "birthdate"],
            "pin": PIN,
        },
    )
    assert sent.status_code == 200, sent.text
    assert "accepted your credential" in sent.text
    shop = client.get(check_path)
    assert "Aged 20 or over" in shop.text
    assert "1982" not in shop.text
    (entry,) = store.presentations()
    assert (entry.verifier, entry.claims, entry.outcome) == ("shop", ("age_over_20",), "verified")
    assert entry.labels("en") == ("Aged 20 or over",)
    home = wallet.get("/?lang=en")
    assert "Sakura Liquor Store" in home.text
    assert "Accepted" in home.text


def test_declining_tells_the_verifier_and_sends_nothing(
    client: TestClient,
    wallet: TestClient,
    session: Session,
    resident: residents.PersonRead,
    store: WalletStore,
) -> None:
    _set_up(wallet)
    assert _receive(wallet, _offer(session, resident)).status_code == 303
    check_path, link = _shop_link(client)
    asked = wallet.get("/present", params={"link": link, "lang": "en"})
    declined = wallet.post(
        "/present?lang=en",
        data={"form_token": _token(asked.text), "link": link, "action": "decline"},
    )
    assert declined.status_code == 200
    assert "You declined" in declined.text
    shop = client.get(check_path)
    assert "The holder declined to present the credential." in shop.text
    (entry,) = store.presentations()
    assert (entry.claims, entry.outcome, entry.reason) == ((), "declined", "access_denied")
    # The request is used up: opening it again in the wallet says so.
    again = wallet.get("/present", params={"link": link, "lang": "en"})
    assert "has been answered or has expired" in again.text


def test_the_wallet_refuses_links_elsewhere_and_foreign_forms(
    wallet: TestClient, store: WalletStore
) -> None:
    _set_up(wallet)
    elsewhere = "openid4vp://?" + "client_id=x&request_uri=https%3A%2F%2Fevil.example%2Fr"
    page = wallet.get("/present", params={"link": elsewhere, "lang": "en"})
    assert page.status_code == 422
    assert "opens requests served by" in page.text
    offer = "openid-credential-offer://?credential_offer=" + json.dumps(
        {"credential_issuer": "https://evil.example", "credential_configuration_ids": ["x"],
         "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code":
                    {"pre-authorized_code": "c"}}}
    )  # fmt: skip
    form = wallet.get("/receive?lang=en")
    refused = wallet.post(
        "/receive?lang=en",
        data={"form_token": _token(form.text), "offer": offer, "tx_code": "123456", "pin": PIN},
    )
    assert refused.status_code == 422
    assert "receives credentials from" in refused.text
    foreign = wallet.post(
        "/receive?lang=en",
        data={"form_token": _token(form.text), "offer": offer, "tx_code": "1", "pin": PIN},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert store.credentials() == []
