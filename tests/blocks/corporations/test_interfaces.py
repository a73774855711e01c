"""The corporate registry over HTTP and from the CLI, and ``kiban seed`` with corporations."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kiban.blocks import address
from kiban.cli import app
from tests.blocks.corporations.conftest import NUMBER, corporation_create

runner = CliRunner()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _body(towns: dict[str, address.TownRead], **changes: Any) -> dict[str, Any]:
    return corporation_create(towns).model_dump(mode="json") | changes


def test_register_list_and_read_over_http(
    client: TestClient, operator_token: str, towns: dict[str, address.TownRead]
) -> None:
    assert client.get("/api/v1/corporations").status_code == 401
    assert client.post("/api/v1/corporations", json=_body(towns)).status_code == 401

    created = client.post("/api/v1/corporations", json=_body(towns), headers=_auth(operator_token))
    assert created.status_code == 201, created.text
    assert created.json()["corporate_number"] == NUMBER
    assert created.json()["representative"]["name"] == "山田　太郎"

    listed = client.get("/api/v1/corporations?municipality=131016", headers=_auth(operator_token))
    assert listed.json() == [created.json()]
    one = client.get(f"/api/v1/corporations/{NUMBER}", headers=_auth(operator_token))
    assert one.json() == created.json()

    again = client.post("/api/v1/corporations", json=_body(towns), headers=_auth(operator_token))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "corporations.exists"


def test_http_errors_name_the_field(
    client: TestClient, operator_token: str, towns: dict[str, address.TownRead]
) -> None:
    bad = client.post(
        "/api/v1/corporations",
        json=_body(towns, corporate_number="4011001098994"),
        headers=_auth(operator_token) | {"Accept-Language": "en"},
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "kiban.identifier.check_digit_mismatch"
    assert error["field"] == "corporate_number"
    assert "check digit" in error["message"]

    kana = client.post(
        "/api/v1/corporations",
        json=_body(towns, name_kana="きばん"),
        headers=_auth(operator_token),
    )
    assert kana.status_code == 422
    assert kana.json()["error"]["field"] == "body.name_kana"

    missing = client.get("/api/v1/corporations/7660487647593", headers=_auth(operator_token))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "corporations.not_found"
    assert client.get("/api/v1/corporations", headers=_auth(operator_token)).json() == []


def test_cli_add_list_show(towns: dict[str, address.TownRead]) -> None:
    added = runner.invoke(
        app,
        [
            "corporations",
            "add",
            "--number",
            NUMBER,
            "--name",
            "株式会社基盤テック",
            "--kana",
            "キバンテック",
            "--municipality",
            "131016",
            "--town",
            "丸の内",
            "--chome",
            "1",
            "--block",
            "1-1",
            "--representative",
            "山田　太郎",
            "--representative-municipality",
            "131016",
            "--representative-town",
            "九段北",
            "--representative-chome",
            "2",
            "--representative-block",
            "2-3",
            "--format",
            "json",
        ],
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["head_office"]["text"] == "東京都千代田区丸の内一丁目1番1号"

    listed = runner.invoke(app, ["corporations", "list", "--format", "json"])
    assert [c["corporate_number"] for c in json.loads(listed.stdout)] == [NUMBER]
    shown = runner.invoke(app, ["corporations", "show", NUMBER])
    assert shown.exit_code == 0
    assert "株式会社基盤テック" in shown.stdout

    wrong = runner.invoke(app, ["corporations", "show", "4011001098994"])
    assert wrong.exit_code == 1
    assert "corporate_number" in wrong.output


def test_seed_registers_corporations_represented_by_residents(database_url: str) -> None:
    seeded = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "5"])
    assert seeded.exit_code == 0, seeded.output
    assert "registered 5 corporations" in seeded.output

    listed = runner.invoke(app, ["corporations", "list", "--format", "json"])
    companies = json.loads(listed.stdout)
    people = json.loads(
        runner.invoke(app, ["residents", "list", "--limit", "100", "--format", "json"]).stdout
    )
    residents_by_name = {f"{p['family_name']}\u3000{p['given_name']}": p for p in people}
    assert len(companies) == 5
    for company in companies:
        person = residents_by_name[company["representative"]["name"]]
        assert company["representative"]["address"]["text"] == person["address"]["text"]
