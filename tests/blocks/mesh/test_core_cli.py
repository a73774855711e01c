"""``kiban mesh members|subsystems|services|grants|deliveries``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kiban.cli import app

runner = CliRunner()


def test_register_a_member_subsystem_service_and_grant(database_url: str) -> None:
    steps = [
        ["members", "add", "--class", "GOV", "--code", "00001", "--name", "年金機構"],
        ["members", "add", "--class", "MUN", "--code", "131016", "--name", "千代田区"],
        ["subsystems", "add", "JP/GOV/00001", "pension"],
        ["subsystems", "add", "JP/MUN/131016", "juki"],
        [
            "services",
            "add",
            "JP/GOV/00001/pension",
            "records",
            "--item",
            "benefit",
            "--url",
            "http://127.0.0.1:9/pension",
        ],
        ["services", "enable", "JP/GOV/00001/pension/records"],
        [
            "grants",
            "add",
            "--client",
            "JP/MUN/131016/juki",
            "--service",
            "JP/GOV/00001/pension/records",
            "--task",
            "年金給付の確認",
            "--legal-basis",
            "番号法 別表第二",
            "--item",
            "benefit",
        ],
    ]
    for step in steps:
        result = runner.invoke(app, ["mesh", *step])
        assert result.exit_code == 0, (step, result.output)
    enabled = json.loads(runner.invoke(app, ["mesh", "services", "enable", steps[5][2]]).output)
    assert enabled["enabled"] is True
    listing = runner.invoke(app, ["mesh", "grants", "list"])
    assert "年金給付の確認" in listing.output
    assert "JP/GOV/00001/pension" in runner.invoke(app, ["mesh", "subsystems", "list"]).output
    assert "千代田区" in runner.invoke(app, ["mesh", "members", "list"]).output
    assert "benefit" in runner.invoke(app, ["mesh", "services", "list"]).output
    again = runner.invoke(
        app, ["mesh", "members", "add", "--class", "GOV", "--code", "00001", "--name", "x"]
    )
    assert again.exit_code != 0
    assert "already registered" in again.output or "既に" in again.output
    assert runner.invoke(app, ["mesh", "deliveries", "retry"]).exit_code == 0
