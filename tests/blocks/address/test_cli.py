"""``kiban address load`` and ``kiban address stats`` (the Typer app, before it is registered)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kiban.cli.address import app


def test_load_then_stats(database_url: str) -> None:
    runner = CliRunner()

    first = runner.invoke(app, ["load", "--lg-code", "131016", "--lg-code", "011011"])
    again = runner.invoke(app, ["load", "--lg-code", "131016"])
    stats = runner.invoke(app, ["stats"])

    assert first.exit_code == 0, first.output
    assert "2 prefectures, 2 municipalities" in first.output
    assert "towns with coordinates" in first.output
    assert again.exit_code == 0, again.output
    assert "0 prefectures, 0 municipalities, 0 towns added" in again.output
    assert stats.output.startswith("2 municipalities, ")


def test_bad_prefecture_exits_non_zero(database_url: str) -> None:
    result = CliRunner().invoke(app, ["load", "--pref", "49"])

    assert result.exit_code == 1


def test_load_abr_reports_what_it_did_and_names_a_missing_column(database_url: str) -> None:
    runner = CliRunner()
    fixtures = Path(__file__).parent / "fixtures"

    first = runner.invoke(app, ["load-abr", "--kind", "town", str(fixtures / "mt_town_sample.csv")])
    again = runner.invoke(app, ["load-abr", "--kind", "town", str(fixtures / "mt_town_sample.csv")])
    change = runner.invoke(
        app, ["load-abr", "--kind", "town", str(fixtures / "mt_town_change.csv")]
    )
    bad = runner.invoke(
        app, ["load-abr", "--kind", "town", str(fixtures / "mt_town_missing_column.csv")]
    )

    assert first.exit_code == 0, first.output
    assert "5 lines of town: 5 added, 0 updated, 0 unchanged, 5 town versions kept" in first.output
    assert "0 added, 0 updated, 5 unchanged, 0 town versions kept" in again.output
    assert "3 town versions kept" in change.output
    assert bad.exit_code == 1
    assert "oaza_cho" in bad.output
