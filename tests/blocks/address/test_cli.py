"""``kiban address load`` and ``kiban address stats`` (the Typer app, before it is registered)."""

from __future__ import annotations

from typer.testing import CliRunner

from kiban.cli.address import app


def test_load_then_stats(database_url: str) -> None:
    runner = CliRunner()

    first = runner.invoke(app, ["load", "--lg-code", "131016", "--lg-code", "011011"])
    again = runner.invoke(app, ["load", "--lg-code", "131016"])
    stats = runner.invoke(app, ["stats"])

    assert first.exit_code == 0, first.output
    assert "2 prefectures, 2 municipalities" in first.output
    assert again.exit_code == 0, again.output
    assert "0 prefectures, 0 municipalities, 0 towns added" in again.output
    assert stats.output.startswith("2 municipalities, ")


def test_bad_prefecture_exits_non_zero(database_url: str) -> None:
    result = CliRunner().invoke(app, ["load", "--pref", "49"])

    assert result.exit_code == 1
