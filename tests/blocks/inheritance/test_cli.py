"""``kiban heirs compute``: the issue's JSON shape, and bilingual errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kiban.cli import app

runner = CliRunner()

ISSUE_EXAMPLE = {
    "decedent": "A",
    "people": [
        {"id": "A", "born_on": "1940-01-01", "died_on": "2026-03-01"},
        {"id": "B", "born_on": "1945-05-05"},
        {"id": "C", "born_on": "1970-01-01"},
        {"id": "X", "born_on": "1972-01-01", "died_on": "2026-03-01"},
    ],
    "relations": [
        {"type": "spouse", "a": "A", "b": "B"},
        {"type": "child", "parent": "A", "child": "C", "adopted_on": None},
        {"type": "child", "parent": "A", "child": "X", "adopted_on": None},
    ],
    "renounced": [],
    "disqualified": [],
    "disinherited": [],
    "simultaneous_deaths": [["A", "X"]],
    "unborn": [{"id": "F", "parent": "A", "born_alive": True}],
}


def _run(tmp_path: Path, content: str) -> tuple[int, str, str]:
    source = tmp_path / "family.json"
    source.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["heirs", "compute", "--input", str(source)])
    return result.exit_code, result.stdout, result.stderr


def test_the_issue_example(tmp_path: Path) -> None:
    code, stdout, _ = _run(tmp_path, json.dumps(ISSUE_EXAMPLE))
    assert code == 0
    assert json.loads(stdout) == {
        "heirs": [
            {"id": "B", "share": "1/2", "articles": ["890", "900(1)"]},
            {"id": "C", "share": "1/4", "articles": ["887(1)", "900(1)", "900(4)"]},
            {"id": "F", "share": "1/4", "articles": ["886(1)", "887(1)", "900(1)", "900(4)"]},
        ],
        "none": False,
    }


def test_unknown_person_is_named_in_both_languages_with_status_2(tmp_path: Path) -> None:
    family = json.loads(json.dumps(ISSUE_EXAMPLE))
    family["renounced"] = ["Z"]
    code, stdout, stderr = _run(tmp_path, json.dumps(family))
    assert code == 2
    assert stdout == ""
    assert "(renounced[0])" in stderr
    assert "unknown person id 'Z'" in stderr
    assert "people にいない人です" in stderr


def test_not_json_is_refused_with_status_2(tmp_path: Path) -> None:
    code, _, stderr = _run(tmp_path, "{not json")
    assert code == 2
    assert "(--input)" in stderr
    assert "JSON" in stderr


def test_missing_file_is_refused_with_status_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["heirs", "compute", "--input", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "入力ファイルを読めません" in result.stderr
