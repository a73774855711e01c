"""``kiban benefits programmes``, ``preview``, ``run`` and ``define``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kiban.cli import app
from tests.blocks.benefits.conftest import Country

runner = CliRunner()


def test_programmes_preview_and_a_repeated_run(country: Country) -> None:
    listed = runner.invoke(app, ["benefits", "programmes", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    codes = [p["code"] for p in json.loads(listed.stdout)]
    assert codes == ["child-allowance", "exempt-household", "flat-payment"]

    preview = runner.invoke(
        app,
        ["benefits", "preview", "flat-payment", "--base-date", "2026-12-01", "--format", "json"],
    )
    assert preview.exit_code == 0, preview.output
    counted = json.loads(preview.stdout)
    assert (counted["recipients"], counted["total_yen"]) == (3, 700_000)
    assert all("name" not in sample for sample in counted["sample"])

    first = runner.invoke(app, ["benefits", "run", "flat-payment", "--base-date", "2026-12-01"])
    assert first.exit_code == 0, first.output
    assert "3 determinations (3 new), 700,000 yen" in first.output
    again = runner.invoke(app, ["benefits", "run", "flat-payment", "--base-date", "2026-12-01"])
    assert "3 determinations (0 new), 700,000 yen" in again.output


def test_bad_input_names_the_field(tmp_path: Path, country: Country) -> None:
    result = runner.invoke(app, ["benefits", "run", "flat-payment", "--base-date", "12/01"])
    assert result.exit_code == 1
    assert "(base_date)" in result.output
    unknown = runner.invoke(app, ["benefits", "run", "nothing", "--base-date", "2026-12-01"])
    assert unknown.exit_code == 1
    assert "(programme)" in unknown.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"code": "x1", "eligible": {"kind": "age", "min": 5, "below": 1}}))
    defined = runner.invoke(app, ["benefits", "define", str(bad)])
    assert defined.exit_code == 1
    assert "title_ja" in defined.output or "eligible" in defined.output
