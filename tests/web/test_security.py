"""Security headers on every route's answers, and the refusal of cross-site unsafe requests
that carry a kiban cookie (walking every route of ``create_app()``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiban.platform.security import SAFE_METHODS
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie
from tests.web.test_route_inventory import RouteInfo, _concrete, inventory

# Public documents whose handlers choose to let them be cached (no personal data).
CACHEABLE = {"/oidc/jwks", "/api/v1/mesh/consent/jwks"}
STATIC = "/static/kiban.css"


@pytest.fixture
def anonymous(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _routes() -> list[RouteInfo]:
    return [row for row in inventory(create_app()) if row.path != "/static"]


def _check_headers(path: str, headers: object) -> None:
    assert hasattr(headers, "get")
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, path
    assert "object-src 'none'" in csp, path
    if path != "/docs":
        assert "'unsafe-inline'" not in csp, path
        assert "script-src 'self';" in csp, path
    assert headers.get("x-frame-options") == "DENY", path
    assert headers.get("x-content-type-options") == "nosniff", path
    assert headers.get("referrer-policy") == "no-referrer", path
    assert "strict-transport-security" not in headers, path  # Served over plain HTTP here.
    if path in CACHEABLE or path.startswith("/static/"):
        assert "no-store" not in headers.get("cache-control", ""), path
    else:
        assert headers.get("cache-control") == "no-store", path


def test_every_route_answers_with_the_security_headers(
    anonymous: TestClient, session: Session
) -> None:
    person = register(session)
    signed_in = resident_cookie(None, person.id)
    seen = 0
    for row in _routes():
        path = _concrete(row.path)
        for method in row.methods:
            if method == "HEAD":
                continue
            for cookies in ({}, {RESIDENT_COOKIE: signed_in}):
                anonymous.cookies.clear()
                for name, value in cookies.items():
                    anonymous.cookies.set(name, value)
                answer = anonymous.request(method, path)
                _check_headers(path, answer.headers)
                seen += 1
    assert seen > 100
    _check_headers(STATIC, anonymous.get(STATIC).headers)


def test_hsts_when_served_over_https(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIBAN_BASE_URL", "https://kiban.example.jp")
    get_settings.cache_clear()
    with TestClient(create_app(), base_url="https://kiban.example.jp") as client:
        for path in ("/", "/portal/", "/api/v1/residents", STATIC):
            assert (
                client.get(path, follow_redirects=False)
                .headers["strict-transport-security"]
                .startswith("max-age=31536000")
            ), path


def test_every_unsafe_route_refuses_a_cross_site_request_with_a_session_cookie(
    anonymous: TestClient, session: Session
) -> None:
    person = register(session)
    anonymous.cookies.set(RESIDENT_COOKIE, resident_cookie(None, person.id))
    anonymous.cookies.set("kiban_office", "x")
    checked = 0
    for row in _routes():
        if row.path == "/oidc/authorize":  # Relying parties may post it cross-site.
            continue
        for method in row.methods:
            if method in SAFE_METHODS:
                continue
            path = _concrete(row.path)
            for headers in (
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site"},
                {"Origin": "https://evil.example"},
                {"Origin": "null"},
            ):
                answer = anonymous.request(method, path, headers=headers, data={"x": "1"})
                assert answer.status_code == 403, (method, path, headers)
                assert answer.json()["error"]["code"] == "kiban.cross_site"
                _check_headers(path, answer.headers)
            checked += 1
    assert checked > 30


def test_same_origin_and_cookieless_requests_pass_the_origin_check(
    anonymous: TestClient, session: Session
) -> None:
    person = register(session)
    cookie = resident_cookie(None, person.id)
    # No kiban cookie (an API client with a bearer token, or a relying party's back channel):
    # the browser headers do not matter.
    assert anonymous.post("/oidc/token", headers={"Origin": "https://rp.example"}).status_code in (
        400,
        401,
    )
    # The language cookie carries no authority.
    anonymous.cookies.set("kiban_lang", "en")
    assert (
        anonymous.post("/oidc/token", headers={"Sec-Fetch-Site": "cross-site"}).status_code != 403
    )
    anonymous.cookies.set(RESIDENT_COOKIE, cookie)
    for headers in (
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://testserver"},
        {"Origin": "http://127.0.0.1:8000"},  # KIBAN_BASE_URL's origin.
        {},  # Names no origin: not a browser; the form token still applies.
    ):
        answer = anonymous.post("/portal/logout", headers=headers)
        assert answer.status_code == 403, headers
        assert answer.json()["error"]["code"] == "kiban.csrf_failed"  # Past the origin check.
    # A relying party may post the authorization request from its own page.
    posted = anonymous.post(
        "/oidc/authorize", headers={"Sec-Fetch-Site": "cross-site"}, data={"client_id": "x"}
    )
    assert posted.status_code != 403 or "cross_site" not in posted.text
