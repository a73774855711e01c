"""Pairwise subjects and sectors (OpenID Connect Core §8.1, issue 13 item 9): a client gets
another's ``sub`` only through a sector the operator approved that lists every one of its
redirect URIs; two unrelated clients never share a ``sub``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.platform.settings import get_settings
from tests.staff_support import admin_key

from .conftest import TestClient
from .oidc_support import (
    ReaderCard,
    Rp,
    card_in_reader,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)

ISSUER = "http://testserver"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def operator_key(http: TestClient) -> str:
    """A key of kiban's operator administrator, who approves sectors and registers clients."""
    return admin_key()


@pytest.fixture
def operator(operator_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {operator_key}"}


@pytest.fixture
def card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


def sub_of(http: TestClient, card: ReaderCard, rp: Rp) -> str:
    """The ``sub`` of the ID token ``rp`` receives when the resident signs in to it."""
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    keys = KeySet.import_key_set(http.get("/oidc/jwks").json())
    claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["RS256", "ES256"]).claims
    return str(claims["sub"])


def client_body(redirect_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "テスト",
        "purpose": "テストのため",
        "scopes": ["openid"],
        "redirect_uris": [redirect_uri],
        **extra,
    }


def refused(http: TestClient, operator: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/api/v1/identity/clients", json=body, headers=operator)
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_a_sector_is_taken_only_when_the_operator_approved_it_for_the_redirect_uris(
    http: TestClient, operator_key: str, operator: dict[str, str], card: ReaderCard
) -> None:
    shop = register_rp(http, operator_key, name="例示商店", scopes=["openid"])
    # The probe: a stranger names the shop's sector to be given the shop's subjects.
    stolen = refused(
        http, operator, client_body("https://evil.example/cb", sector_identifier="rp.example")
    )
    assert stolen["code"] == "identity.client_invalid"
    assert stolen["field"] == "sector_identifier"
    loopback = refused(
        http, operator, client_body("http://127.0.0.1:9001/cb", sector_identifier="127.0.0.1")
    )
    assert loopback["field"] == "sector_identifier"
    elsewhere = refused(
        http,
        operator,
        client_body(
            "https://evil.example/cb", sector_identifier_uri="https://evil.example/sector.json"
        ),
    )
    assert elsewhere["field"] == "sector_identifier_uri"

    # The shop's owner shows the operator both of its sites; the operator approves the sector.
    approved = http.post(
        "/api/v1/identity/sectors",
        json={
            "sector_identifier": "rp.example",
            "name": "例示商店株式会社",
            "redirect_uris": ["https://rp.example/callback", "https://app.rp.example/cb"],
        },
        headers=operator,
    )
    assert approved.status_code == 201, approved.text
    document_uri = approved.json()["sector_identifier_uri"]
    assert document_uri == f"{ISSUER}/oidc/sectors/rp.example"
    assert http.get("/oidc/sectors/rp.example").json() == [
        "https://rp.example/callback",
        "https://app.rp.example/cb",
    ]
    assert http.get("/oidc/sectors/nowhere.example").status_code == 404
    again = http.post("/api/v1/identity/sectors", json=approved.json() | {}, headers=operator)
    assert again.status_code == 422  # Read-only fields are not input.

    # Still no: the stranger's redirect URI is not in the sector's document.
    unlisted = refused(
        http, operator, client_body("https://evil.example/cb", sector_identifier="rp.example")
    )
    assert unlisted["field"] == "redirect_uris"
    assert "https://evil.example/cb" in unlisted["message"]

    # The shop's app, listed, joins by the document's URI and sees the shop's subject.
    created = http.post(
        "/api/v1/identity/clients",
        json=client_body("https://app.rp.example/cb", sector_identifier_uri=document_uri),
        headers=operator,
    )
    assert created.status_code == 201, created.text
    assert created.json()["sector_identifier"] == "rp.example"
    assert created.json()["sector_identifier_uri"] == document_uri
    app = Rp(
        created.json()["client_id"],
        created.json()["client_secret"],
        "https://app.rp.example/cb",
        ["openid"],
    )
    assert sub_of(http, card, app) == sub_of(http, card, shop)

    # The sector cannot drop a URI a client of it is registered with.
    shrink = http.put(
        "/api/v1/identity/sectors/rp.example",
        json={"name": "例示商店株式会社", "redirect_uris": ["https://rp.example/callback"]},
        headers=operator,
    )
    assert shrink.status_code == 422
    assert shrink.json()["error"]["field"] == "redirect_uris"
    listed = http.get("/api/v1/identity/sectors/rp.example", headers=operator).json()
    # The shop is in the sector by its redirect URIs' host, the app by approval.
    assert listed["clients"] == sorted([app.client_id, shop.client_id])
    assert http.get("/api/v1/identity/sectors").status_code == 401


def test_two_unrelated_clients_never_share_a_sub(
    http: TestClient, operator_key: str, operator: dict[str, str], card: ReaderCard
) -> None:
    shop = register_rp(http, operator_key, name="例示商店", scopes=["openid"])
    books = register_rp(
        http,
        operator_key,
        name="本屋",
        scopes=["openid"],
        redirect_uri="https://books.example/cb",
    )
    # Two native apps on the loopback host: the host says nothing about who runs them.
    first_app = register_rp(
        http,
        operator_key,
        name="アプリ一",
        scopes=["openid"],
        redirect_uri="http://127.0.0.1:9001/cb",
    )
    second_app = register_rp(
        http,
        operator_key,
        name="アプリ二",
        scopes=["openid"],
        redirect_uri="http://127.0.0.1:9002/cb",
    )

    subs = [sub_of(http, card, rp) for rp in (shop, books, first_app, second_app)]

    assert len(set(subs)) == len(subs)
    assert str(card.person_id) not in subs
    sectors = {
        http.get(f"/api/v1/identity/clients/{rp.client_id}", headers=operator).json()[
            "sector_identifier"
        ]
        for rp in (first_app, second_app)
    }
    assert sectors == {f"client:{first_app.client_id}", f"client:{second_app.client_id}"}
