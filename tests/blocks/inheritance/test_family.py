"""Bad families are refused with an error naming the field, in Japanese and English."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kiban.blocks.inheritance import InvalidFamily, heirs_from_json, parse_family
from tests.blocks.inheritance.casebook import child, family, person, spouse


def _base() -> dict[str, Any]:
    return family(
        [person("W", "1945-01-01"), person("C", "1970-01-01"), person("G", "1995-01-01")],
        [spouse("A", "W"), child("A", "C"), child("C", "G")],
    )


def _error(raw: Any) -> InvalidFamily:
    with pytest.raises(InvalidFamily) as caught:
        heirs_from_json(raw)
    error = caught.value
    assert error.code == "inheritance.invalid_family"
    assert error.status == 422
    assert error.message_ja
    assert error.message_en
    assert error.message_ja != error.message_en
    return error


def test_the_base_family_is_valid() -> None:
    assert parse_family(_base()).decedent == "A"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda f: f.update(decedent="Z"), "decedent", "not in people"),
        (lambda f: f["people"][0].update(died_on=None), "people[0].died_on", "no died_on"),
        (lambda f: f["relations"][1].update(child="Z"), "relations[1].child", "unknown person"),
        (lambda f: f["relations"][0].update(b="Q"), "relations[0].b", "unknown person"),
        (lambda f: f["renounced"].append("Q"), "renounced[0]", "unknown person"),
        (lambda f: f["disqualified"].append("A"), "disqualified[0]", "not their own heir"),
        (lambda f: f["relations"].append(child("G", "A")), "relations[3].child", "own ancestor"),
        (lambda f: f["relations"].append(child("C", "C")), "relations[3].child", "own child"),
        (lambda f: f["people"][1].update(born_on="1945-13-01"), "people[1].born_on", "date"),
        (lambda f: f["people"][1].update(died_on="1900-01-01"), "people[1].died_on", "before"),
        (lambda f: f["people"][1].update(age=80), "people[1].age", "unknown field"),
        (lambda f: f.update(heirs=[]), "heirs", "unknown field"),
        (lambda f: f["relations"].append({"type": "cousin"}), "relations[3].type", "spouse"),
        (lambda f: f["people"].append(person("W", "1950-01-01")), "people[4].id", "duplicate"),
        (
            lambda f: f["relations"].append(child("A", "G", "1990-01-01")),
            "relations[3].adopted_on",
            "before the child was born",
        ),
        (
            lambda f: f["simultaneous_deaths"].append(["A", "W"]),
            "simultaneous_deaths[0][1]",
            "no died_on",
        ),
        (
            lambda f: f["unborn"].append({"id": "C", "parent": "A", "born_alive": True}),
            "unborn[0].id",
            "born before",
        ),
        (
            lambda f: f["unborn"].append({"id": "U", "parent": "A", "born_alive": "yes"}),
            "unborn[0].born_alive",
            "true or false",
        ),
    ],
)
def test_error_names_the_field(change: Any, field: str, words: str) -> None:
    raw = copy.deepcopy(_base())
    change(raw)
    error = _error(raw)
    assert error.field == field
    assert words in error.message_en


def test_two_living_spouses_are_refused() -> None:
    raw = _base()
    raw["people"].append(person("V", "1950-01-01"))
    raw["relations"].append(spouse("A", "V"))
    assert _error(raw).field == "relations[3]"
    raw["relations"][3]["divorced_on"] = "1990-01-01"
    assert parse_family(raw).decedent == "A"


def test_a_sibling_cannot_be_disinherited() -> None:
    raw = family(
        [person("F", "1910-01-01", "1980-01-01"), person("B", "1943-01-01")],
        [child("F", "A"), child("F", "B")],
        disinherited=["B"],
    )
    error = _error(raw)
    assert error.field == "disinherited[0]"
    assert "892" in error.message_en


def test_a_missing_birth_date_the_proviso_needs_is_named() -> None:
    raw = family(
        [person("S", "1960-01-01", "2000-01-01"), {"id": "G"}, person("C", "1965-01-01")],
        [child("A", "S", "1990-01-01"), child("S", "G"), child("A", "C")],
    )
    error = _error(raw)
    assert error.field == "people[2].born_on"
    assert "887(2)" in error.message_en


def test_a_missing_birth_date_is_fine_where_no_adoption_needs_it() -> None:
    raw = family([{"id": "C"}, {"id": "G"}], [child("A", "C"), child("C", "G")])
    assert heirs_from_json(raw).as_json() == {
        "heirs": [{"id": "C", "share": "1/1", "articles": ["887(1)"]}],
        "none": False,
    }


def test_not_an_object_is_refused() -> None:
    assert _error([1, 2]).field == ""


def test_a_missing_birth_date_off_the_path_is_not_asked_for() -> None:
    # A cousin without a birth date, child of an uncle adopted by the grandfather, plays no part
    # in whether the grandfather is the decedent's ascendant.
    raw = family(
        [
            person("F", "1910-01-01", "1980-01-01"),
            person("GF", "1885-01-01"),
            person("U", "1920-01-01"),
            {"id": "X"},
        ],
        [child("F", "A"), child("GF", "F"), child("GF", "U", "1950-01-01"), child("U", "X")],
    )
    assert heirs_from_json(raw).as_json() == {
        "heirs": [{"id": "GF", "share": "1/1", "articles": ["889(1)(1)"]}],
        "none": False,
    }
