"""The reader's pages through HTTP: the sign form, wrong and right PINs, refused requests."""

from __future__ import annotations

import base64
import re
import warnings
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.exceptions import StarletteDeprecationWarning

# As in tests/web/conftest.py: Starlette's one import-time warning about ``httpx2``.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from tests.cardreader.conftest import AUTH_PIN, CARD_NUMBER, SIGNING_PIN

SERVER = "http://127.0.0.1:8000"
READER = "http://127.0.0.1:8765"
RETURN_TO = f"{SERVER}/oidc/card-callback?flow=signin"
CHALLENGE = "q2Xv0aT1yXxYw3k9Zp4LmN7sD8fG6hJ5"
REQUEST_ID = "req-0001-abcdefgh"


@pytest.fixture
def reader(store: CardStore) -> TestClient:
    return TestClient(create_reader_app(store, SERVER), base_url=READER, follow_redirects=False)


def _query(**overrides: str) -> dict[str, str]:
    query = {
        "challenge": CHALLENGE,
        "request_id": REQUEST_ID,
        "return_to": RETURN_TO,
        "keys": "auth",
    }
    query.update(overrides)
    return query


def _form(reader: TestClient, **overrides: str) -> dict[str, str]:
    """The hidden fields of the sign form the reader serves for this request."""
    page = reader.get("/sign", params=_query(**overrides))
    assert page.status_code == 200, page.text
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify(certificate_b64: str, signature_b64: str, data: bytes) -> x509.Certificate:
    certificate = x509.load_der_x509_certificate(_b64(certificate_b64))
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(_b64(signature_b64), data, padding.PKCS1v15(), hashes.SHA256())
    return certificate


def test_the_form_in_japanese_and_english(reader: TestClient, card: str) -> None:
    page = reader.get("/sign", params=_query())
    assert page.status_code == 200
    assert page.headers["content-language"] == "ja"
    html = page.text
    assert '<html lang="ja">' in html
    assert "マイナンバーカードでサインイン" in html  # Signing in, not signing a document.
    assert "山田 太郎" in html
    assert "1234 5678 9012" in html
    assert '<label for="auth_pin">' in html
    assert 'inputmode="numeric"' in html
    assert 'autocomplete="off"' in html
    assert 'name="signing_pin"' not in html  # Only the keys asked for.
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    english = reader.get("/sign", params={**_query(), "lang": "en"})
    assert '<html lang="en">' in english.text
    assert "Sign in with your My Number card" in english.text
    assert "Nothing is signed on your behalf" in english.text
    assert "Authentication PIN (4 digits)" in english.text
    # The language switch keeps the request.
    assert "challenge=" + CHALLENGE in english.text


def test_a_wrong_pin_shows_the_tries_left(reader: TestClient, store: CardStore, card: str) -> None:
    form = _form(reader)
    answer = reader.post("/sign?lang=en", data={**form, "card_number": card, "auth_pin": "9999"})
    assert answer.status_code == 401
    assert 'role="alert"' in answer.text
    assert "2 more wrong tries will lock it" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert store.card(card).auth.tries_left == 2

    ja = reader.post("/sign", data={**form, "card_number": card, "auth_pin": "9999"})
    assert "あと1回間違えるとロックされます" in ja.text

    malformed = reader.post("/sign?lang=en", data={**form, "card_number": card, "auth_pin": "12"})
    assert malformed.status_code == 400
    assert "exactly 4 digits" in malformed.text
    assert store.card(card).auth.tries_left == 1  # A malformed PIN costs nothing.


def test_the_right_pin_redirects_with_a_verifiable_signature(
    reader: TestClient, store: CardStore, card: str
) -> None:
    form = _form(reader)
    answer = reader.post("/sign", data={**form, "card_number": card, "auth_pin": AUTH_PIN})
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"{SERVER}/oidc/card-callback?")
    fields = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert fields["flow"] == "signin"  # The return address's own query is kept.
    assert fields["request_id"] == REQUEST_ID
    assert set(fields) == {"flow", "request_id", "auth_certificate", "auth_signature"}
    assert all("=" not in fields[name] for name in ("auth_certificate", "auth_signature"))
    certificate = _verify(fields["auth_certificate"], fields["auth_signature"], CHALLENGE.encode())
    assert certificate.public_bytes(serialization.Encoding.DER) == store.certificate_der(
        card, "auth"
    )


def test_both_keys_when_the_signing_certificate_is_asked_for(reader: TestClient, card: str) -> None:
    form = _form(reader, keys="auth,signing")
    page = reader.get("/sign", params=_query(keys="auth,signing"))
    assert 'name="signing_pin"' in page.text
    assert 'autocapitalize="characters"' in page.text
    wrong = reader.post(
        "/sign?lang=en",
        data={**form, "card_number": card, "auth_pin": AUTH_PIN, "signing_pin": "WRONG1"},
    )
    assert wrong.status_code == 401
    assert "signing PIN is not correct" in wrong.text
    answer = reader.post(
        "/sign",
        data={**form, "card_number": card, "auth_pin": AUTH_PIN, "signing_pin": SIGNING_PIN},
    )
    assert answer.status_code == 303
    fields = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    _verify(fields["auth_certificate"], fields["auth_signature"], CHALLENGE.encode())
    _verify(fields["signing_certificate"], fields["signing_signature"], CHALLENGE.encode())


def test_a_document_is_signed_by_name_and_its_answer_posted(reader: TestClient, card: str) -> None:
    signing = {
        "keys": "auth,signing",
        "response_mode": "form_post",
        "title": "転出届",
        "reference": "K7Q2M-9XZ4H-R",
    }
    page = reader.get("/sign", params=_query(**signing, lang="en"))
    assert "Sign a document with your My Number card" in page.text
    assert "転出届" in page.text
    assert "K7Q2M-9XZ4H-R" in page.text
    form = _form(reader, **signing)
    answer = reader.post(
        "/sign?lang=en",
        data={**form, "card_number": card, "auth_pin": AUTH_PIN, "signing_pin": SIGNING_PIN},
    )
    # Not a redirect with the certificate in its URL: a page whose form posts it.
    assert answer.status_code == 200
    assert "location" not in answer.headers
    assert f'<form method="post" action="{RETURN_TO}">' in answer.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', answer.text))
    assert fields["request_id"] == REQUEST_ID
    _verify(fields["signing_certificate"], fields["signing_signature"], CHALLENGE.encode())
    # The title is bound to the form: changing it after the page was served is refused.
    tampered = reader.post(
        "/sign?lang=en",
        data={
            **form,
            "title": "別の文書",
            "card_number": card,
            "auth_pin": AUTH_PIN,
            "signing_pin": SIGNING_PIN,
        },
    )
    assert tampered.status_code == 400
    assert "signing_certificate" not in tampered.text


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/callback",
        "http://127.0.0.1:8000.evil.example/callback",
        "http://127.0.0.1:8000@evil.example/callback",
        "//evil.example/callback",
        "/oidc/card-callback",
        "http://127.0.0.1:8001/oidc/card-callback",
        "http://127.0.0.1:8000/ok\r\nSet-Cookie: x=y",
    ],
)
def test_a_return_address_off_the_server_is_refused(
    reader: TestClient, card: str, return_to: str
) -> None:
    page = reader.get("/sign", params={**_query(return_to=return_to), "lang": "en"})
    assert page.status_code == 400
    assert f"must be an address on {SERVER}" in page.text
    assert "<form" not in page.text

    # Posting it directly (with a token for a good request) does not redirect either.
    form = _form(reader)
    answer = reader.post(
        "/sign",
        data={**form, "return_to": return_to, "card_number": card, "auth_pin": AUTH_PIN},
    )
    assert answer.status_code == 400
    assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("challenge", "short"),
        ("challenge", "has spaces in it and is long enough"),
        ("request_id", "x"),
        ("request_id", "a/b/c/d/e/f"),
        ("keys", "signing"),
        ("keys", "auth,auth"),
        ("keys", "root"),
    ],
)
def test_malformed_requests_are_refused(reader: TestClient, field: str, value: str) -> None:
    page = reader.get("/sign", params=_query(**{field: value}))
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert "<form" not in page.text


def test_a_form_from_elsewhere_is_not_signed(
    reader: TestClient, store: CardStore, card: str
) -> None:
    form = _form(reader)
    # A token made for another request (another challenge) does not fit this one.
    other = _form(reader, challenge="another-challenge-0123456789")
    forged = reader.post(
        "/sign?lang=en",
        data={**form, "form_token": other["form_token"], "card_number": card, "auth_pin": AUTH_PIN},
    )
    assert forged.status_code == 400
    assert "did not come from this card reader" in forged.text
    missing = reader.post(
        "/sign", data={**form, "form_token": "", "card_number": card, "auth_pin": AUTH_PIN}
    )
    assert missing.status_code == 400
    # A browser posting from another site says so in Origin.
    cross_site = reader.post(
        "/sign?lang=en",
        data={**form, "card_number": card, "auth_pin": AUTH_PIN},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "sent from another site" in cross_site.text
    same_site = reader.post(
        "/sign",
        data={**form, "card_number": card, "auth_pin": AUTH_PIN},
        headers={"Origin": READER},
    )
    assert same_site.status_code == 303
    assert store.card(card).auth.tries_left == 3


def test_a_locked_card_says_so(reader: TestClient, store: CardStore, card: str) -> None:
    form = _form(reader)
    for _ in range(3):
        reader.post("/sign", data={**form, "card_number": card, "auth_pin": "0000"})
    page = reader.get("/sign", params={**_query(), "lang": "en"})
    assert "The authentication PIN of this card is locked" in page.text
    answer = reader.post(
        "/sign?lang=en", data={**_form(reader), "card_number": card, "auth_pin": AUTH_PIN}
    )
    assert answer.status_code == 403
    assert "Ask your municipal office to unlock it" in answer.text


def test_unknown_card_and_no_card(reader: TestClient, card: str) -> None:
    form = _form(reader)
    unknown = reader.post(
        "/sign?lang=en", data={**form, "card_number": "999999999999", "auth_pin": AUTH_PIN}
    )
    assert unknown.status_code == 404
    assert "not in this card reader" in unknown.text
    none = reader.post("/sign?lang=en", data={**form, "auth_pin": AUTH_PIN})
    assert none.status_code == 400
    assert "Choose a card" in none.text


def test_an_empty_reader_explains_and_offers_cancel(reader: TestClient) -> None:
    page = reader.get("/sign", params={**_query(), "lang": "en"})
    assert page.status_code == 200
    assert "There are no cards in this reader yet" in page.text
    cancel = f"{SERVER}/oidc/card-callback?" + urlencode(
        {"flow": "signin", "request_id": REQUEST_ID, "error": "cancelled"}
    )
    assert cancel.replace("&", "&amp;") in page.text


def test_health_and_index(reader: TestClient, card: str) -> None:
    health = reader.get("/health")
    assert health.json() == {"status": "ok", "cards": 1, "server": SERVER}
    index = reader.get("/?lang=en")
    assert index.status_code == 200
    assert CARD_NUMBER in index.text
    assert "3 of 3 tries left" in index.text
    assert reader.get("/static/localapp.css").status_code == 200


def test_only_loopback_host_names_are_answered(reader: TestClient, card: str) -> None:
    # A site whose name resolves to 127.0.0.1 (DNS rebinding) would be same-origin with the
    # reader under its own name; the reader does not answer to that name.
    rebound = reader.get("/sign", params=_query(), headers={"Host": "evil.example:8765"})
    assert rebound.status_code == 400
    assert "<form" not in rebound.text
    assert reader.get("/health", headers={"Host": "localhost:8765"}).status_code == 200
