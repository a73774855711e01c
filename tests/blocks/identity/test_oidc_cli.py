"""``kiban oidc client add|list`` and ``kiban oidc sector approve|list``: registering relying
parties and approving sectors from the operator's terminal."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kiban.cli import app

runner = CliRunner()


def test_add_then_list(database_url: str) -> None:
    added = runner.invoke(
        app,
        [
            "oidc",
            "client",
            "add",
            "--name",
            "例示商店",
            "--purpose",
            "年齢確認",
            "--scope",
            "birthdate",
            "--redirect-uri",
            "https://shop.example/cb",
        ],
    )
    assert added.exit_code == 0, added.output
    created = json.loads(added.stdout)
    assert created["scopes"] == ["openid", "birthdate"]
    assert created["client_secret"]

    listed = runner.invoke(app, ["oidc", "client", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    clients = json.loads(listed.stdout)
    assert [c["client_id"] for c in clients] == [created["client_id"]]
    assert created["client_secret"] not in listed.stdout
    table = runner.invoke(app, ["oidc", "client", "list"])
    assert created["client_id"][:8] in table.stdout


def _add(*options: str) -> list[str]:
    return ["oidc", "client", "add", "--name", "x", "--purpose", "y", *options]


def test_bad_registrations_name_the_field(database_url: str) -> None:
    unknown_scope = runner.invoke(
        app,
        _add("--scope", "individual_number", "--redirect-uri", "https://shop.example/cb"),
    )
    assert unknown_scope.exit_code == 1
    assert "scopes" in unknown_scope.output
    insecure = runner.invoke(
        app,
        _add("--scope", "name", "--redirect-uri", "http://shop.example/cb"),
    )
    assert insecure.exit_code == 1
    assert "redirect_uris" in insecure.output
    public = runner.invoke(
        app,
        _add(
            "--scope", "name", "--redirect-uri", "http://127.0.0.1:9000/cb", "--auth-method", "none"
        ),
    )
    assert public.exit_code == 0, public.output
    assert json.loads(public.stdout)["client_secret"] is None


def test_a_sector_is_approved_before_a_client_joins_it(database_url: str) -> None:
    joining = _add(
        "--scope",
        "name",
        "--redirect-uri",
        "https://app.shop.example/cb",
        "--sector-identifier",
        "shop.example",
    )
    refused = runner.invoke(app, joining)
    assert refused.exit_code == 1
    assert "sector_identifier" in refused.output

    approved = runner.invoke(
        app,
        [
            "oidc",
            "sector",
            "approve",
            "--sector-identifier",
            "shop.example",
            "--name",
            "例示商店株式会社",
            "--redirect-uri",
            "https://shop.example/cb",
            "--redirect-uri",
            "https://app.shop.example/cb",
        ],
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["sector_identifier_uri"].endswith(
        "/oidc/sectors/shop.example"
    )
    joined = runner.invoke(app, joining)
    assert joined.exit_code == 0, joined.output
    assert json.loads(joined.stdout)["sector_identifier"] == "shop.example"
    listed = json.loads(runner.invoke(app, ["oidc", "sector", "list"]).stdout)
    assert listed[0]["clients"] == [json.loads(joined.stdout)["client_id"]]
