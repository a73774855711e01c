"""``kiban ids check``: the kind, the verdict, the rule that failed, and the exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiban.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ids", "check", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("123456789018", "my_number"),
        ("1234-5678-9018", "my_number"),
        ("4011001098993", "corporate_number"),
        ("１３１０１６", "lg_code"),
    ],
)
def test_valid_identifier_prints_kind_and_exits_zero(value: str, kind: str) -> None:
    code, output = run(value)
    assert code == 0
    assert output == f"{kind}: valid\n"


def test_check_digit_mismatch_says_found_and_expected_digit() -> None:
    code, output = run("3011001098993", "--lang", "en")
    assert code == 1
    assert output.startswith("corporate_number: invalid — ")
    assert "check digit of the corporate number is 3, expected 4" in output


def test_message_is_japanese_by_default() -> None:
    code, output = run("3011001098993")
    assert code == 1
    assert "corporate_number: invalid — 法人番号の検査用数字が3ですが、正しくは4です" in output


def test_wrong_length_names_the_rule() -> None:
    code, output = run("1234567", "--lang", "en")
    assert code == 1
    assert output.startswith("unknown: invalid — ")
    assert "7 digits" in output


def test_not_digits_names_the_rule() -> None:
    code, output = run("12345678901X", "--lang", "en")
    assert code == 1
    assert "only digits" in output


def test_my_number_is_not_echoed() -> None:
    for args in (["123456789017"], ["123456789017", "--format", "json"]):
        code, output = run(*args)
        assert code == 1
        assert "12345678901" not in output


def test_json_for_a_valid_identifier() -> None:
    code, output = run("4011001098993", "--format", "json")
    assert code == 0
    assert json.loads(output) == {
        "kind": "corporate_number",
        "valid": True,
        "value": "4011001098993",
        "error": None,
    }


def test_json_for_a_check_digit_mismatch() -> None:
    code, output = run("123456789017", "--format", "json", "--lang", "en")
    assert code == 1
    body = json.loads(output)
    assert body["kind"] == "my_number"
    assert body["valid"] is False
    assert body["value"] == "****-****-9017"
    error = body["error"]
    assert error["code"] == "kiban.identifier.check_digit_mismatch"
    assert error["rule"] == "check_digit_mismatch"
    assert error["field"] == "value"
    assert (error["actual"], error["expected"]) == (7, 8)
    assert "is 7, expected 8" in error["message"]


def test_json_for_a_value_of_no_known_kind() -> None:
    code, output = run("abc", "--format", "json")
    assert code == 1
    body = json.loads(output)
    assert body["kind"] is None
    assert body["error"]["rule"] == "not_digits"


def test_unknown_format_is_a_usage_error() -> None:
    code, _ = run("131016", "--format", "xml")
    assert code == 2


def test_installed_command(tmp_path: Path) -> None:
    kiban = Path(sys.executable).parent / "kiban"
    valid = subprocess.run(
        [str(kiban), "ids", "check", "4011001098993"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ,
        check=False,
        timeout=60,
    )
    assert (valid.returncode, valid.stdout) == (0, "corporate_number: valid\n")

    invalid = subprocess.run(
        [str(kiban), "ids", "check", "131015", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ,
        check=False,
        timeout=60,
    )
    assert invalid.returncode == 1
    body = json.loads(invalid.stdout)
    assert (body["kind"], body["valid"], body["error"]["expected"]) == ("lg_code", False, 6)
