"""The portal signs residents in through kiban's own OpenID provider, with the card."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import identity, residents
from kiban.platform import i18n
from kiban.platform.settings import get_settings

from .conftest import TestClient
from .oidc_support import ReaderCard, card_in_reader, path_of, sign_in_through_pages

ISSUER = "http://testserver"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


def test_my_page_needs_a_card_sign_in(http: TestClient) -> None:
    response = http.get("/portal/")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login?next=/portal/"


def test_sign_in_lands_on_my_page(http: TestClient, card: ReaderCard, session: Session) -> None:
    login = http.get("/portal/login?next=/portal/")
    assert login.status_code == 303
    assert login.headers["location"].startswith("/oidc/authorize?")

    back = sign_in_through_pages(http, card, login.headers["location"])
    assert back.startswith(f"{ISSUER}/portal/callback?")
    landed = http.get(path_of(back))
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == "/portal/"

    page = http.get("/portal/")
    assert page.status_code == 200, page.text
    assert "山田\u3000花子" in page.text
    assert "ヤマダ" in page.text
    assert "1982年2月3日（水）" in page.text  # Days as residents read them, with the weekday.
    held = identity.get_card_by_number(session, card.card_number)
    assert i18n.format_day("ja", held.expires_on) in page.text
    assert "世帯主" in page.text
    # The portal registered itself as a first-party client on first use.
    portal = identity.get_client(session, identity.PORTAL_CLIENT_ID)
    assert portal.first_party
    assert portal.redirect_uris == [f"{ISSUER}/portal/callback"]

    session.rollback()  # SQLite: let the server write (logout revokes the session's row).
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    assert http.post("/portal/logout", data={"csrf_token": csrf.group(1)}).status_code == 303
    assert http.get("/portal/").status_code == 303


def test_declining_keeps_the_resident_out(http: TestClient, card: ReaderCard) -> None:
    login = http.get("/portal/login")
    back = sign_in_through_pages(http, card, login.headers["location"], decision="deny")

    answer = http.get(path_of(back))

    assert answer.status_code == 403
    assert http.get("/portal/").status_code == 303


def test_a_callback_without_the_login_cookie_is_refused(http: TestClient, card: ReaderCard) -> None:
    login = http.get("/portal/login")
    back = sign_in_through_pages(http, card, login.headers["location"])
    http.cookies.delete("kiban_portal_login", path="/portal")

    answer = http.get(path_of(back))

    assert answer.status_code == 400
    assert http.get("/portal/").status_code == 303
