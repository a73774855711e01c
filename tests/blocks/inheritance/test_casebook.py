"""The casebook: the engine answers every case exactly, and ``kiban heirs compute`` does too."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiban.blocks.inheritance import heirs_from_json
from kiban.cli import app
from tests.blocks.inheritance.casebook import CASES, Case

runner = CliRunner()


def test_the_casebook_is_large_and_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_engine_answers_the_case(case: Case) -> None:
    assert heirs_from_json(case.family).as_json() == case.expected, case.title


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_expected_shares_add_up_to_one(case: Case) -> None:
    # Guards the casebook itself against a slip in a hand-written share.
    shares = [Fraction(heir["share"]) for heir in case.expected["heirs"]]
    assert sum(shares) == (1 if shares else 0)


CLI_CASES = [
    "spouse_and_three_children",
    "son_in_law_adoptee_child_born_before_adoption",
    "only_child_renounces_parent_takes",
    "nephew_of_full_sibling_and_half_sibling",
    "unborn_child_born_alive",
    "no_relatives",
]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_prints_the_casebook_answer(name: str, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == name)
    source = tmp_path / "family.json"
    source.write_text(json.dumps(case.family, ensure_ascii=False), encoding="utf-8")

    result = runner.invoke(app, ["heirs", "compute", "--input", str(source)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == case.expected
