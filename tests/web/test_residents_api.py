"""The resident register over HTTP: documented shapes, the field at fault, nothing written on
bad input, and the office pages for officials."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.blocks import address, residents
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.office_support import office_sign_in, official_with_card
from tests.staff_support import municipality_key


@pytest.fixture
def seeded(client: TestClient, engine: Engine) -> list[residents.PersonRead]:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=11)
    with transaction(engine) as session:
        return residents.list_people(session, limit=100)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator_token(client: TestClient) -> str:
    """A Chiyoda (131016) service key with the approval role (the shared operator token no
    longer acts: see test_the_operator_token_no_longer_acts)."""
    return municipality_key("131016", "approval")


def test_every_residents_route_needs_the_operator_token(
    client: TestClient, seeded: list[residents.PersonRead]
) -> None:
    assert client.get("/api/v1/residents").status_code == 401
    assert client.get(f"/api/v1/residents/{seeded[0].id}/certificate").status_code == 401


def test_list_read_and_certificate(
    client: TestClient, operator_token: str, seeded: list[residents.PersonRead]
) -> None:
    listed = client.get(
        "/api/v1/residents?municipality=131016&limit=3", headers=_auth(operator_token)
    )
    assert listed.status_code == 200
    body = listed.json()
    assert len(body) == 3
    assert "individual_number" not in listed.text
    person = body[0]
    one = client.get(f"/api/v1/residents/{person['id']}", headers=_auth(operator_token)).json()
    assert one == person
    certificate = client.get(
        f"/api/v1/residents/{person['id']}/certificate?household=true",
        headers=_auth(operator_token),
    ).json()
    assert certificate["issuer"] == "東京都千代田区"
    assert certificate["address"]["text"].startswith("東京都千代田区")
    assert any(e["relationship"] == "世帯主" for e in certificate["entries"])
    assert all(e["individual_number"] is None for e in certificate["entries"])


def test_register_then_move_within_over_http(
    client: TestClient, operator_token: str, engine: Engine, seeded: list[residents.PersonRead]
) -> None:
    with transaction(engine) as session:
        towns = address.list_towns(session, "131016")
    town = next(t for t in towns if not t.has_chome)
    payload: dict[str, Any] = {
        "family_name": "田中",
        "given_name": "一郎",
        "family_name_kana": "タナカ",
        "given_name_kana": "イチロウ",
        "birth_date": "1990-01-02",
        "sex": "male",
        "address": {"town_id": str(town.id), "block_number": "1番1号"},
        "effective_on": "2024-04-01",
    }
    created = client.post("/api/v1/residents", json=payload, headers=_auth(operator_token))
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    moved = client.post(
        f"/api/v1/residents/{person_id}/move-within",
        json={
            "moved_on": "2025-01-01",
            "address": {
                "town_id": str(towns[1].id),
                "chome": 1 if towns[1].has_chome else None,
                "block_number": "2-2",
            },
        },
        headers=_auth(operator_token),
    )
    assert moved.status_code == 200, moved.text
    history = client.get(
        f"/api/v1/residents/{person_id}/history", headers=_auth(operator_token)
    ).json()
    assert [v["reason"] for v in history] == ["registered", "move_within"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"birth_date": "2999-01-01"}, 422, "birth_date"),
        ({"birth_date": "1990-02-30"}, 422, "body.birth_date"),
        ({"family_name_kana": "tanaka"}, 422, "body.family_name_kana"),
        ({"address": {"town_id": str(uuid.uuid4()), "block_number": "1"}}, 422, "address.town_id"),
        ({"sex": "unknown"}, 422, "body.sex"),
    ],
)
def test_bad_registration_names_the_field_and_writes_nothing(
    client: TestClient,
    operator_token: str,
    seeded: list[residents.PersonRead],
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    town_id = seeded[0].address.town_id
    payload: dict[str, Any] = {
        "family_name": "田中",
        "given_name": "一郎",
        "family_name_kana": "タナカ",
        "given_name_kana": "イチロウ",
        "birth_date": "1990-01-02",
        "sex": "male",
        "address": {"town_id": str(town_id), "block_number": "1番1号"},
        "effective_on": "2024-04-01",
    } | change
    answer = client.post("/api/v1/residents?lang=en", json=payload, headers=_auth(operator_token))
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["field"] == field
    summary = client.get("/api/v1/residents?limit=1000", headers=_auth(operator_token)).json()
    assert len(summary) == len(seeded)


def test_move_for_a_deceased_person_is_a_conflict(
    client: TestClient, operator_token: str, seeded: list[residents.PersonRead]
) -> None:
    person = seeded[0]
    died = client.post(
        f"/api/v1/residents/{person.id}/death",
        json={"died_on": "2025-05-05"},
        headers=_auth(operator_token),
    )
    assert died.status_code == 200
    moved = client.post(
        f"/api/v1/residents/{person.id}/move-out?lang=en",
        json={"moved_on": "2025-06-01", "destination": "大阪府"},
        headers=_auth(operator_token),
    )
    assert moved.status_code == 409
    error = moved.json()["error"]
    assert error == {
        "code": "residents.wrong_status",
        "message": "This person is deceased.",
        "field": "person_id",
    }


def test_office_pages_list_residents_and_print_a_certificate(
    client: TestClient,
    engine: Engine,
    seeded: list[residents.PersonRead],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()
    assert client.get("/office/residents", follow_redirects=False).status_code == 303
    with transaction(engine) as session:
        _, card = official_with_card(session, seeded[1], "131016", "counter", tmp_path / "cards")
    office_sign_in(client, card, "131016", "counter")
    page = client.get("/office/residents?municipality=131016&lang=en")
    assert page.status_code == 200
    assert "東京都千代田区" in page.text
    assert seeded[0].family_name in page.text
    certificate = client.get(f"/office/residents/{seeded[0].id}/certificate?household=true")
    assert certificate.status_code == 200
    assert "住民票の写し" in certificate.text
    assert seeded[0].address.text in certificate.text


def test_the_operator_token_no_longer_acts(
    client: TestClient, seeded: list[residents.PersonRead], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "test-operator-token-0123456789"  # noqa: S105 - a test value.
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", token)
    get_settings.cache_clear()
    answer = client.get("/api/v1/residents?municipality=131016", headers=_auth(token))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "staff.operator_token_retired"


def test_an_official_of_another_municipality_is_refused_every_read_and_write(
    client: TestClient, seeded: list[residents.PersonRead]
) -> None:
    sapporo = _auth(municipality_key("011011", "approval"))
    person = seeded[0]
    assert person.address.lg_code == "131016"
    for method, path, body in [
        ("GET", "/api/v1/residents?municipality=131016", None),
        ("GET", f"/api/v1/residents/{person.id}", None),
        ("GET", f"/api/v1/residents/{person.id}/history", None),
        ("GET", f"/api/v1/residents/{person.id}/certificate", None),
        ("POST", f"/api/v1/residents/{person.id}/death", {"died_on": "2025-05-05"}),
        (
            "POST",
            f"/api/v1/residents/{person.id}/move-out",
            {"moved_on": "2025-06-01", "destination": "大阪府"},
        ),
    ]:
        answer = client.request(method, path, json=body, headers=sapporo)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "staff.other_organisation"
    # Nothing was written.
    own = _auth(municipality_key("131016", "audit"))
    assert client.get(f"/api/v1/residents/{person.id}", headers=own).json()["status"] == "resident"
    # The audit role reads but does not write.
    refused = client.post(
        f"/api/v1/residents/{person.id}/death", json={"died_on": "2025-05-05"}, headers=own
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "staff.not_permitted"
