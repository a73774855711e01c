"""Issue 13, items 6, 7, 8, 12 and 15: bounded paging, strict dates, the text rules, one body
limit, and authentication before validation; and 405/OPTIONS naming every method."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.blocks import residents
from kiban.platform.body_limit import MAX_BODY_BYTES
from kiban.platform.db import transaction
from tests.staff_support import admin_key, bearer, municipality_key

HUGE = "99999999999999999999"


@pytest.fixture
def headers(client: TestClient) -> dict[str, str]:
    """A Chiyoda (131016) service key with the approval role: it may read and write the
    register and read the registration tasks there (the shared operator token is retired)."""
    return bearer(municipality_key("131016", "approval"))


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    """A key of kiban's operator administrator (the corporate register is national)."""
    return bearer(admin_key())


@pytest.fixture
def person(client: TestClient, engine: Engine) -> residents.PersonRead:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=11)
    with transaction(engine) as session:
        return residents.list_people(session, limit=1)[0]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/residents?offset={HUGE}",
        f"/api/v1/corporations?offset={HUGE}",
        f"/api/v1/registration/tasks?offset={HUGE}",
        f"/api/v1/residents?offset={2**63}",
    ],
)
def test_a_huge_offset_is_refused_naming_it(
    client: TestClient, request: pytest.FixtureRequest, path: str
) -> None:
    caller = "admin_headers" if path.startswith("/api/v1/corporations") else "headers"
    answer = client.get(path, headers=request.getfixturevalue(caller))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "query.offset"


def test_every_paging_parameter_is_bounded_in_the_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("offset", "limit", "before"):
                    schema = parameter["schema"]
                    bounded = schema.get("anyOf", [schema])[0]
                    assert "maximum" in bounded, (path, parameter["name"])


@pytest.mark.parametrize("died_on", [0, 1_700_000_000, "2026-01-01T00:00:00", "20260101"])
def test_a_date_is_an_iso_string(
    client: TestClient,
    headers: dict[str, str],
    person: residents.PersonRead,
    engine: Engine,
    died_on: object,
) -> None:
    answer = client.post(
        f"/api/v1/residents/{person.id}/death", json={"died_on": died_on}, headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "body.died_on"
    with transaction(engine) as session:
        assert residents.get_person(session, person.id).died_on is None


def _registration(family_name: str, building: str | None = None) -> dict[str, object]:
    address: dict[str, object] = {"text": "東京都千代田区霞が関1-3-1"}
    if building is not None:
        address["building"] = building
    return {
        "family_name": family_name,
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": "1990-04-01",
        "sex": "female",
        "address": address,
        "effective_on": "2026-04-01",
    }


@pytest.mark.parametrize(
    ("family_name", "building", "field"),
    [
        ("山\x00田", None, "body.family_name"),
        ("山田\u202e", None, "body.family_name"),
        ("\u200b山田", None, "body.family_name"),
        ("山田\u2066", None, "body.family_name"),
        ("山田", "ビル\x1b[31m", "body.address.building"),
        ("山田", "ビル\u200d", "body.address.building"),
    ],
)
def test_names_and_addresses_follow_the_text_rules(
    client: TestClient,
    headers: dict[str, str],
    person: residents.PersonRead,
    engine: Engine,
    family_name: str,
    building: str | None,
    field: str,
) -> None:
    with transaction(engine) as session:
        before = len(residents.list_people(session, limit=1000))
    answer = client.post(
        "/api/v1/residents", json=_registration(family_name, building), headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    with transaction(engine) as session:
        assert len(residents.list_people(session, limit=1000)) == before


def test_a_name_is_stored_in_nfc(
    client: TestClient, headers: dict[str, str], person: residents.PersonRead
) -> None:
    answer = client.post("/api/v1/residents", json=_registration("カ\u3099ス"), headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["family_name"] == "ガス"


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, headers: dict[str, str]
) -> None:
    big = b'{"family_name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    answer = client.post(
        "/api/v1/residents",
        content=big,
        headers={**headers, "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "kiban.body_too_large"

    def chunks() -> Iterator[bytes]:
        yield b'{"family_name": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536

    streamed = client.post(
        "/api/v1/residents",
        content=chunks(),
        headers={**headers, "content-type": "application/json"},
    )
    assert streamed.status_code == 413


def test_a_task_data_payload_is_bounded(client: TestClient, headers: dict[str, str]) -> None:
    application = "00000000-0000-4000-8000-000000000001"
    answer = client.post(
        f"/api/v1/registration/tasks/{application}/complete",
        json={
            "action": "approve",
            "official": "official:x",
            "expected_version": 1,
            "data": {"note": "x" * 20_000},
        },
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "body.data"


@pytest.mark.parametrize("body", ["{not json", '{"died_on": 0}', "[]"])
def test_authentication_comes_before_validation(
    client: TestClient, person: residents.PersonRead, body: str
) -> None:
    answer = client.post(
        f"/api/v1/residents/{person.id}/death",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_method_a_path_lacks_is_405_and_options_lists_them_all(
    client: TestClient, headers: dict[str, str]
) -> None:
    births = client.get("/api/v1/residents/births", headers=headers)
    assert births.status_code == 405
    assert births.headers["allow"] == "OPTIONS, POST"
    options = client.options("/api/v1/residents")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_an_undeclared_query_parameter_is_refused_after_authentication(
    client: TestClient, headers: dict[str, str]
) -> None:
    answer = client.get("/api/v1/residents?limit=1&offest=5", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "query.offest"
    assert client.get("/api/v1/residents?offest=5").status_code == 401
    assert client.get("/api/v1/residents?limit=1&lang=en", headers=headers).status_code == 200
