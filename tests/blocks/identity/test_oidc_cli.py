"""``kiban oidc client add|list``: registering relying parties from the operator's terminal."""

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
