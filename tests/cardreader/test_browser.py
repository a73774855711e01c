"""The reader's sign page in a real browser: by keyboard alone, accessible (axe-core, WCAG 2.2
AA) in Japanese and English, and the redirect to the server carries a verifiable signature."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from tests.browser import conftest as harness
from tests.cardreader.conftest import AUTH_PIN
from tests.live import serving

pytestmark = pytest.mark.browser

# The browser harness of tests/browser (Chromium, skipped without it outside CI).
browser = harness.browser

CHALLENGE = "browser-challenge-0123456789abcdef"


def _serve(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, for the duration of a test."""
    with serving(app, "card-reader-test") as url:
        yield url


@pytest.fixture
def callbacks() -> list[dict[str, str]]:
    return []


@pytest.fixture
def kiban_server(callbacks: list[dict[str, str]]) -> Iterator[str]:
    """A stand-in for kiban's card callback, recording what the reader sends."""
    app = FastAPI()

    @app.get("/oidc/card-callback")
    def callback(request: Request) -> HTMLResponse:
        callbacks.append(dict(request.query_params))
        return HTMLResponse("<!doctype html><title>ok</title><h1>ok</h1>")

    yield from _serve(app)


@pytest.fixture
def reader_url(store: CardStore, card: str, kiban_server: str) -> Iterator[str]:
    yield from _serve(create_reader_app(store, kiban_server))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_sign_by_keyboard(
    browser: Any,
    reader_url: str,
    kiban_server: str,
    callbacks: list[dict[str, str]],
    store: CardStore,
    card: str,
    lang: str,
) -> None:
    # axe-core is injected as a script, which the reader's CSP would block: bypass it for the
    # check only (the CSP itself is tested in test_app.py).
    context = browser.new_context(bypass_csp=True, locale="ja-JP")
    page = context.new_page()
    query = urlencode(
        {
            "challenge": CHALLENGE,
            "request_id": "browser-request-1",
            "return_to": f"{kiban_server}/oidc/card-callback",
            "keys": "auth",
            "lang": lang,
        }
    )
    page.goto(f"{reader_url}/sign?{query}")
    assert page.locator("html").get_attribute("lang") == lang
    harness.assert_accessible(page)

    # Keyboard only: the skip link first, then on to the PIN field.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#auth_pin")
    page.keyboard.type("9999")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    assert "2" in page.inner_text(".error-summary")
    assert page.get_attribute("#auth_pin", "aria-invalid") == "true"
    harness.assert_accessible(page)

    page.focus("#auth_pin")
    page.keyboard.type(AUTH_PIN)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{kiban_server}/**")
    fields = callbacks[-1]
    assert fields["request_id"] == "browser-request-1"

    def unpad(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    public_key = x509.load_der_x509_certificate(unpad(fields["auth_certificate"])).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        unpad(fields["auth_signature"]), CHALLENGE.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert store.card(card).auth.tries_left == 3
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_overview_and_refusal_pages_are_accessible(
    browser: Any, reader_url: str, lang: str
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{reader_url}/?lang={lang}")
    assert page.locator("table").count() == 1
    harness.assert_accessible(page)
    page.goto(f"{reader_url}/sign?challenge=x&lang={lang}")
    assert page.locator("[role=alert]").count() == 1
    harness.assert_accessible(page)
    context.close()
