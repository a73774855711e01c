"""The application as a user meets it: landing page, language, health, office sign-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import kiban
from kiban.platform import migrate
from kiban.platform.webkit import LANGUAGE_COOKIE
from kiban.web import create_app
from kiban.web.office.session import OFFICE_COOKIE


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', html)
    assert match, "no <html lang> attribute"
    return match.group(1)


def stat(html: str, label: str) -> str:
    """The number shown under ``label`` in the country summary."""
    match = re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>([^<]*)</dd>", html)
    assert match, f"no {label!r} figure on the page"
    return match.group(1)


# --- Landing page -----------------------------------------------------------------------------


def test_landing_page_is_japanese_by_default(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "ja"
    html = response.text
    assert html_lang(html) == "ja"
    assert "<h1>国・地方デジタル共通基盤</h1>" in html
    assert stat(html, "市区町村数") == "0"
    assert stat(html, "世帯数") == "0"
    assert stat(html, "住民数") == "0"
    assert kiban.__version__ in html
    assert "SQLite" in html or "PostgreSQL" in html
    assert "プロセス内" in html or "NATS JetStream" in html


def test_landing_page_in_english(client: TestClient) -> None:
    html = client.get("/?lang=en").text

    assert html_lang(html) == "en"
    assert "<h1>National–local common digital infrastructure</h1>" in html
    assert stat(html, "Municipalities") == "0"
    assert stat(html, "Households") == "0"
    assert stat(html, "Residents") == "0"
    assert "Skip to main content" in html
    # Residents find My page from the landing page.
    assert '<a class="button button--start" href="/portal/?lang=en">' in html


def test_every_page_has_the_layout(client: TestClient) -> None:
    for path in ("/", "/office/login"):
        html = client.get(path).text
        assert '<a class="skip-link" href="#main">' in html
        assert '<main id="main"' in html
        assert '<span class="brand__mark" lang="ja">基盤</span>' in html
        assert 'href="/static/kiban.css"' in html
        assert f'<a href="{path}?lang=en" hreflang="en" lang="en">English</a>' in html
        assert f'<a href="{path}?lang=ja" hreflang="ja" lang="ja" aria-current="true">' in html
        assert "<footer" in html


def test_language_switch_keeps_other_query_parameters(client: TestClient) -> None:
    html = client.get("/office/login?next=/office").text

    assert 'href="/office/login?next=%2Foffice&amp;lang=en" hreflang="en"' in html


def test_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/kiban.css")

    assert response.status_code == 200
    assert ":focus-visible" in response.text
    assert "@media print" in response.text


# --- Language negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, ja;q=0.8", "ja"),
        ("fr-FR, en;q=0.5", "en"),
        ("fr-FR", "ja"),
        ("", "ja"),
    ],
)
def test_accept_language_is_honoured(
    client: TestClient, accept_language: str, expected: str
) -> None:
    response = client.get("/", headers={"Accept-Language": accept_language})

    assert html_lang(response.text) == expected


def test_choosing_a_language_is_remembered_in_a_cookie(client: TestClient) -> None:
    first = client.get("/?lang=en", headers={"Accept-Language": "ja"})
    assert first.cookies.get(LANGUAGE_COOKIE) == "en"

    later = client.get("/", headers={"Accept-Language": "ja"})

    assert html_lang(later.text) == "en"


def test_query_beats_cookie_and_cookie_beats_header(client: TestClient) -> None:
    client.cookies.set(LANGUAGE_COOKIE, "en")

    assert html_lang(client.get("/", headers={"Accept-Language": "ja"}).text) == "en"
    assert html_lang(client.get("/?lang=ja").text) == "ja"


def test_an_unknown_language_falls_back(client: TestClient) -> None:
    response = client.get("/?lang=xx", headers={"Accept-Language": "en"})

    assert html_lang(response.text) == "en"
    assert LANGUAGE_COOKIE not in response.cookies


# --- Health and OpenAPI -----------------------------------------------------------------------


def test_health_reports_version_and_schema_revision(client: TestClient, database_url: str) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == kiban.__version__
    assert body["database"]["reachable"] is True
    assert body["database"]["backend"] == database_url.split(":", 1)[0].split("+", 1)[0]
    assert body["database"]["revision"] == migrate.current(database_url)
    assert body["database"]["revision"]


def test_health_says_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kiban.platform.settings import get_settings  # noqa: PLC0415

    monkeypatch.setenv("KIBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'kiban.db'}")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["database"] == {
        "reachable": False,
        "backend": "sqlite",
        "revision": None,
    }


def test_openapi_document_and_docs(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "Kiban API"
    assert document["info"]["version"] == kiban.__version__
    assert "/health" in document["paths"]

    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


# --- Office sign-in ---------------------------------------------------------------------------


def test_office_redirects_to_sign_in(client: TestClient) -> None:
    response = client.get("/office", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/office/login?next=/office"


def test_a_forged_office_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set(OFFICE_COOKIE, "eyJuYW1lIjoib3BlcmF0b3IifQ.forged.signature")

    response = client.get("/office", follow_redirects=False)

    assert response.status_code == 303
