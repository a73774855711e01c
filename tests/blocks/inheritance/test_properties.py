"""Properties of the heirs engine over random families (hypothesis)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.blocks.inheritance import InvalidFamily, heirs_from_json

DEATH = "2025-04-01"
BEFORE = "2010-01-01"
AFTER = "2025-09-01"

BLOOD = ["alive", "alive", "alive", "dead", "renounced", "disqualified", "together"]
CHILD = [*BLOOD, "disinherited"]
ANCESTOR = ["alive", "dead", "dead", "renounced", "disqualified", "disinherited"]


@dataclass
class Built:
    raw: dict[str, Any]
    # For each person, the people who can inherit only through them (their descendants).
    below: dict[str, set[str]] = field(default_factory=dict)
    # Heads of representable lines: children, grandchildren, siblings, nephews and nieces.
    line_heads: list[str] = field(default_factory=list)
    spouse: str | None = None


class _Builder:
    def __init__(self) -> None:
        self.raw: dict[str, Any] = {
            "decedent": "A",
            "people": [{"id": "A", "born_on": "1940-01-01", "died_on": DEATH}],
            "relations": [],
            "renounced": [],
            "disqualified": [],
            "disinherited": [],
            "simultaneous_deaths": [],
            "unborn": [],
        }
        self.count = 0
        self.built = Built(self.raw)

    def add(self, status: str, born: str, prefix: str) -> str:
        self.count += 1
        person_id = f"{prefix}{self.count}"
        before = BEFORE if born < BEFORE else "2024-01-01"  # ISO dates compare as text.
        died = {"dead": before, "together": DEATH}.get(status)
        if status == "alive" and self.count % 5 == 0:
            died = AFTER  # Died after the decedent: still an heir.
        self.raw["people"].append({"id": person_id, "born_on": born, "died_on": died})
        if status in ("renounced", "disqualified", "disinherited"):
            self.raw[status].append(person_id)
        if status == "together":
            self.raw["simultaneous_deaths"].append(["A", person_id])
        self.built.below[person_id] = set()
        return person_id

    def link(self, parent: str, kid: str, adopted_on: str | None = None) -> None:
        self.raw["relations"].append(
            {"type": "child", "parent": parent, "child": kid, "adopted_on": adopted_on}
        )


@st.composite
def families(draw: st.DrawFn, *, with_spouse: bool | None = None) -> Built:
    builder = _Builder()
    built = builder.built
    has_spouse = draw(st.booleans()) if with_spouse is None else with_spouse
    if has_spouse:
        status = draw(st.sampled_from(["alive", "alive", "dead", "renounced", "disqualified"]))
        built.spouse = builder.add(status, "1945-01-01", "W")
        builder.raw["relations"].append({"type": "spouse", "a": "A", "b": built.spouse})

    parents = []
    for _ in range(draw(st.integers(0, 2))):
        parent = builder.add(draw(st.sampled_from(ANCESTOR[:-1])), "1912-01-01", "P")
        builder.link(parent, "A")
        parents.append(parent)
        for _ in range(draw(st.integers(0, 2))):
            grand = builder.add(draw(st.sampled_from(ANCESTOR[:-1])), "1885-01-01", "GP")
            builder.link(grand, parent)

    for _ in range(draw(st.integers(0, 3))):
        sibling = builder.add(draw(st.sampled_from(BLOOD)), "1942-01-01", "S")
        built.line_heads.append(sibling)
        half = not parents or draw(st.booleans())
        sibling_parents = parents[:1] if half else parents
        if not sibling_parents:
            continue
        for parent in sibling_parents:
            builder.link(parent, sibling)
        for _ in range(draw(st.integers(0, 2))):
            nephew = builder.add(draw(st.sampled_from(BLOOD[:-1])), "1970-01-01", "N")
            builder.link(sibling, nephew)
            built.below[sibling].add(nephew)
            built.line_heads.append(nephew)
            if draw(st.booleans()):
                grand_nephew = builder.add("alive", "1995-01-01", "GN")
                builder.link(nephew, grand_nephew)
                built.below[sibling].add(grand_nephew)
                built.below[nephew].add(grand_nephew)

    for _ in range(draw(st.integers(0, 3))):
        kid = builder.add(draw(st.sampled_from(CHILD)), "1968-01-01", "C")
        built.line_heads.append(kid)
        adopted = draw(st.sampled_from([None, None, "1960-01-01", "2000-01-01"]))
        if adopted == "1960-01-01":
            adopted = "1990-01-01"  # Never before the adoptee's birth.
        builder.link("A", kid, adopted)
        for _ in range(draw(st.integers(0, 2))):
            grandchild = builder.add(draw(st.sampled_from(CHILD)), "1995-01-01", "G")
            builder.link(kid, grandchild)
            built.below[kid].add(grandchild)
            built.line_heads.append(grandchild)
            if draw(st.booleans()):
                great = builder.add(draw(st.sampled_from(CHILD)), "2015-01-01", "GG")
                builder.link(grandchild, great)
                built.below[kid].add(great)
                built.below[grandchild].add(great)
    return built


def _shares(raw: dict[str, Any]) -> dict[str, Fraction]:
    answer = heirs_from_json(raw).as_json()
    assert answer["none"] == (not answer["heirs"])
    return {heir["id"]: Fraction(heir["share"]) for heir in answer["heirs"]}


@settings(max_examples=300, deadline=None)
@given(families())
def test_shares_are_positive_reduced_fractions_summing_to_one(built: Built) -> None:
    answer = heirs_from_json(built.raw).as_json()
    for heir in answer["heirs"]:
        numerator, denominator = (int(part) for part in heir["share"].split("/"))
        assert numerator > 0
        assert denominator > 0
        assert math.gcd(numerator, denominator) == 1
        assert heir["articles"]
    shares = [Fraction(heir["share"]) for heir in answer["heirs"]]
    if shares:
        assert sum(shares) == 1
    ids = [heir["id"] for heir in answer["heirs"]]
    assert len(ids) == len(set(ids))


@settings(max_examples=300, deadline=None)
@given(families())
def test_no_heir_died_before_or_with_the_decedent(built: Built) -> None:
    died = {p["id"]: p["died_on"] for p in built.raw["people"]}
    for heir in _shares(built.raw):
        assert died[heir] is None or died[heir] > DEATH


@settings(max_examples=300, deadline=None)
@given(families(), st.data())
def test_a_renouncers_line_gets_nothing(built: Built, data: st.DataObject) -> None:
    raw = copy.deepcopy(built.raw)
    renouncer = data.draw(st.sampled_from(built.line_heads)) if built.line_heads else None
    if renouncer is not None:
        for status in ("disqualified", "disinherited"):
            if renouncer in raw[status]:
                raw[status].remove(renouncer)
        if renouncer not in raw["renounced"]:
            raw["renounced"].append(renouncer)
    heirs = set(_shares(raw))
    for person in raw["renounced"]:
        assert person not in heirs
        assert not (built.below.get(person, set()) & heirs)


@settings(max_examples=300, deadline=None)
@given(families(with_spouse=False))
def test_adding_a_spouse_never_raises_a_blood_relatives_share(built: Built) -> None:
    without = _shares(built.raw)
    raw = copy.deepcopy(built.raw)
    raw["people"].append({"id": "SPOUSE", "born_on": "1945-01-01", "died_on": None})
    raw["relations"].append({"type": "spouse", "a": "A", "b": "SPOUSE"})
    with_spouse = _shares(raw)
    assert "SPOUSE" in with_spouse
    for heir, share in with_spouse.items():
        if heir != "SPOUSE":
            assert share <= without[heir]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.just("2030-01-01"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


@settings(max_examples=300, deadline=None)
@given(families(), st.data())
def test_any_damaged_family_gets_an_answer_or_an_error_naming_a_field(
    built: Built, data: st.DataObject
) -> None:
    raw = copy.deepcopy(built.raw)
    path = data.draw(st.sampled_from(_paths(raw)[1:]))
    replacement = data.draw(JSON_VALUES)
    target = raw
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    error: InvalidFamily | None = None
    answer: dict[str, Any] = {"heirs": []}
    try:
        answer = heirs_from_json(raw).as_json()
    except InvalidFamily as raised:
        error = raised
    if error is not None:
        assert error.field is not None
        assert error.message_ja
        assert error.message_en
    shares = [Fraction(heir["share"]) for heir in answer["heirs"]]
    assert sum(shares) == (1 if shares else 0)
