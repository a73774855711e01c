"""Consent over HTTP: the person lists, gives, pauses, resumes and revokes their consents with
an access token of a real card sign-in to My page; a relying party's token is refused."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import address, identity, mesh, residents
from kiban.kernel import clock
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import (
    ReaderCard,
    Rp,
    card_in_reader,
    exchange,
    query_of,
    register_rp,
    sign_in_through_pages,
)
from tests.blocks.mesh.consent_support import BANK, register_companies
from tests.staff_support import admin_key

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "test-operator-token-consent"  # noqa: S105 - a test fixture value.
ISSUER = "http://testserver"
CHIYODA = "131016"


def register(session: Session, family: str, given: str, kana: tuple[str, str]) -> Any:
    address.load_registry(session, lg_codes=[CHIYODA])
    town = address.find_town(session, CHIYODA, "丸の内")
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name=family,
            given_name=given,
            family_name_kana=kana[0],
            given_name_kana=kana[1],
            birth_date=date(1982, 2, 3),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
            ),
            household=residents.HouseholdChoice(household_id=None, relationship="世帯主"),
            effective_on=date(2020, 4, 1),
        ),
        actor="official:test",
    )
    session.commit()
    return person


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


@pytest.fixture
def card(session: Session, tmp_path: Path) -> ReaderCard:
    register_companies(session)
    person = register(session, "山田", "花子", ("ヤマダ", "ハナコ"))
    return card_in_reader(session, person, tmp_path / "cards")


def portal_token(http: TestClient, session: Session, card: ReaderCard) -> str:
    """A sign-in to My page (the first-party client) with the card, then the token request."""
    client = identity.ensure_portal_client(session)
    session.commit()
    rp = Rp(client.client_id, None, client.redirect_uris[0], ["openid"])
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def consent_body(**overrides: Any) -> dict[str, Any]:
    today = clock.today_jst()
    body: dict[str, Any] = {
        "company": BANK,
        "purpose": {"code": "account_opening", "text": "口座開設時の本人確認のため"},
        "items": ["name", "address"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=90)).isoformat(),
        "fetch_type": "periodic",
        "frequency": {"unit": "month", "value": 1},
        "data_life_days": 30,
    }
    body.update(overrides)
    return body


def test_the_key_set_is_public_and_verifies_a_granted_artefact(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    token = portal_token(http, session, card)
    granted = http.post("/api/v1/mesh/consents", json=consent_body(), headers=bearer(token))
    assert granted.status_code == 201, granted.text
    keys = http.get("/api/v1/mesh/consent/jwks")
    assert keys.status_code == 200
    content = mesh.verify_artefact(granted.json()["jws"], keys.json())
    assert content["person"] == str(card.person_id)
    assert content["company"] == BANK


def test_only_a_my_page_access_token_opens_the_api(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    missing = http.get("/api/v1/mesh/consents")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "identity.my_page_token_required"
    wrong = http.get("/api/v1/mesh/consents", headers=bearer("not-a-token"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "identity.my_page_token_invalid"

    # A shop the resident signed in to must not give consents in the resident's name.
    shop: Rp = register_rp(http, admin_key(), name="例示商店", scopes=["openid", "name"])
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(shop.authorize_params())
    )
    shop_token = exchange(http, shop, query_of(location)["code"]).json()["access_token"]
    refused = http.post("/api/v1/mesh/consents", json=consent_body(), headers=bearer(shop_token))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "identity.my_page_token_invalid"
    assert mesh.list_consents(session, card.person_id) == []


def test_grant_list_pause_resume_revoke_and_the_company_is_refused_at_once(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    me = bearer(portal_token(http, session, card))
    assert http.get("/api/v1/mesh/consents", headers=me).json() == []

    granted = http.post("/api/v1/mesh/consents", json=consent_body(), headers=me)
    assert granted.status_code == 201, granted.text
    consent_id = granted.json()["id"]
    assert granted.json()["status"] == "active"
    listed = http.get("/api/v1/mesh/consents", headers=me).json()
    assert [item["id"] for item in listed] == [consent_id]

    def company_fetch() -> str:
        session.rollback()
        try:
            allowed = mesh.check_consent(
                session, person_id=card.person_id, company=BANK, items=["name"]
            )
        except mesh.ConsentNotActive as error:
            session.rollback()
            return error.code
        session.commit()
        return str(allowed)

    paused = http.post(f"/api/v1/mesh/consents/{consent_id}/pause", headers=me)
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    assert company_fetch() == "mesh.consent_not_active"

    resumed = http.post(f"/api/v1/mesh/consents/{consent_id}/resume", headers=me)
    assert resumed.json()["status"] == "active"
    assert company_fetch() == consent_id

    revoked = http.post(f"/api/v1/mesh/consents/{consent_id}/revoke", headers=me)
    assert revoked.json()["status"] == "revoked"
    assert company_fetch() == "mesh.consent_not_active"

    again = http.post(f"/api/v1/mesh/consents/{consent_id}/resume", headers=me)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "mesh.consent_status_conflict"

    detail = http.get(f"/api/v1/mesh/consents/{consent_id}", headers=me).json()
    assert [entry["status"] for entry in detail["history"]] == [
        "active",
        "paused",
        "active",
        "revoked",
    ]
    assert {entry["actor"] for entry in detail["history"]} == {f"person:{card.person_id}"}
    assert mesh.verify_status_chain(session, uuid.UUID(consent_id)) == []


def test_bad_input_names_the_field_and_others_consents_are_not_found(
    http: TestClient, session: Session, card: ReaderCard
) -> None:
    me = bearer(portal_token(http, session, card))
    bad = http.post(
        "/api/v1/mesh/consents",
        json=consent_body(company="JP/GOV/00001/pension"),
        headers=me,
    )
    assert bad.status_code == 422
    assert "company" in str(bad.json()["error"]["field"])
    no_frequency = http.post("/api/v1/mesh/consents", json=consent_body(frequency=None), headers=me)
    assert no_frequency.status_code == 422
    # The probe: a company that is not registered, an item that does not exist.
    ghost = http.post(
        "/api/v1/mesh/consents",
        json=consent_body(company="JP/COM/9999999999999/ghost"),
        headers=me,
    )
    assert ghost.status_code == 422, ghost.text
    assert ghost.json()["error"]["code"] == "mesh.consent_invalid"
    assert ghost.json()["error"]["field"] == "company"
    invented = http.post(
        "/api/v1/mesh/consents", json=consent_body(items=["name", "soul"]), headers=me
    )
    assert invented.status_code == 422, invented.text
    assert invented.json()["error"]["field"] == "items"
    assert "soul" in invented.json()["error"]["message"]
    assert http.get("/api/v1/mesh/consents", headers=me).json() == []

    someone_else = mesh.grant_consent(
        session,
        person_id=uuid.uuid4(),
        company=BANK,
        purpose_code="account_opening",
        purpose_text="x",
        items=["name"],
        valid_from=date(2026, 1, 1),
        valid_until=date(2030, 1, 1),
        data_life_days=1,
        actor="person:other",
    )
    session.commit()
    hidden = http.get(f"/api/v1/mesh/consents/{someone_else.id}", headers=me)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "mesh.consent_not_found"
    revoke = http.post(f"/api/v1/mesh/consents/{someone_else.id}/revoke", headers=me)
    assert revoke.status_code == 404
    assert mesh.get_consent(session, someone_else.id).status == "active"
