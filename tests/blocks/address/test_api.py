"""``/api/v1/address/normalize``: public, documented, one address or a bounded batch."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.index import invalidate_index
from kiban.blocks.address.schemas import MAX_BATCH
from kiban.web import create_app

with warnings.catch_warnings():
    # The same import-time warning tests/web/conftest.py explains.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

URL = "/api/v1/address/normalize"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    invalidate_index()
    with TestClient(create_app()) as client:
        yield client
    invalidate_index()


@pytest.fixture
def loaded(session: Session) -> None:
    address.load_registry(session, lg_codes=["131016"])
    session.commit()


def test_one_address_is_normalized_without_sign_in(client: TestClient, loaded: None) -> None:
    response = client.get(URL, params={"q": "東京都千代田区霞が関１－３－１ 合同庁舎4号館"})

    assert response.status_code == 200, response.text
    body = response.json()
    address.NormalizeResult.model_validate(body)  # The documented response model.
    assert body["match_level"] == "machiaza_detail"
    assert body["structured_address"]["oaza_cho"] == "霞が関"
    assert body["structured_address"]["chome"] == "一丁目"
    assert body["ids"]["lg_code"] == "131016"
    assert "合同庁舎4号館" in body["unmatched_address"]
    assert body["coordinates"]["lat"] == pytest.approx(35.674, abs=0.01)


def test_a_batch_answers_every_line_in_order(client: TestClient, loaded: None) -> None:
    lines = ["千代田区丸の内1-9-1", "", "まったく住所ではない", "東京都千代田区霞が関2丁目"]

    response = client.post(URL, json=lines)

    assert response.status_code == 200, response.text
    results = response.json()
    for result in results:
        address.NormalizeResult.model_validate(result)
    assert [r["input"] for r in results] == lines
    assert results[0]["structured_address"]["oaza_cho"] == "丸の内"
    assert results[1]["match_level"] == "unknown"
    assert results[1]["error"]
    assert results[2]["match_level"] == "unknown"
    assert results[3]["structured_address"]["chome"] == "二丁目"


def test_too_many_addresses_are_refused_naming_the_body(client: TestClient, loaded: None) -> None:
    response = client.post(URL, json=["千代田区丸の内"] * (MAX_BATCH + 1))

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("address.batch_too_large", "body")
    assert str(MAX_BATCH) in error["message"]


@pytest.mark.parametrize(
    ("request_args", "field"),
    [
        ({"method": "GET", "url": URL}, "query.q"),
        ({"method": "GET", "url": URL, "params": {"q": ""}}, "query.q"),
        ({"method": "POST", "url": URL, "json": {"q": "丸の内"}}, "body"),
        ({"method": "POST", "url": URL, "json": ["x" * 2001]}, "body.0"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, loaded: None, request_args: dict[str, object], field: str
) -> None:
    response = client.request(**request_args)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_an_empty_registry_says_what_to_run(client: TestClient) -> None:
    response = client.get(URL, params={"q": "千代田区丸の内"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "address.registry_empty"
    assert "kiban address load" in error["message"]


def test_the_endpoints_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    path = spec["paths"][URL]

    for method in ("get", "post"):
        operation = path[method]
        assert operation["summary"]
        assert operation["description"]
        assert {"200", "409", "422"} <= set(operation["responses"])
        assert operation["responses"]["200"]["content"]["application/json"]["example"]
    assert path["get"]["parameters"][0]["name"] == "q"
    body = path["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["maxItems"] == MAX_BATCH


def test_an_ambiguous_address_answers_candidates(client: TestClient, session: Session) -> None:
    address.load_registry(session, lg_codes=["132063", "342084"])  # 府中市, 東京都 and 広島県
    session.commit()

    body = client.get(URL, params={"q": "府中市"}).json()

    assert body["match_level"] == "unknown"
    assert [(c["pref"], c["city"]) for c in body["candidates"]] == [
        ("東京都", "府中市"),
        ("広島県", "府中市"),
    ]
    spec = client.get("/openapi.json").json()
    result = spec["components"]["schemas"]["NormalizeResult"]["properties"]["candidates"]
    assert result["description"]
    assert "Candidate" in spec["components"]["schemas"]
