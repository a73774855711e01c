"""The family of a deceased resident as the register knows it, for the legal-heir engine.

The register records households and each member's relationship (続柄) to the household head,
not a family tree; from it follow the deceased's spouse, children, parents and siblings when
they live in the same household. Whatever the register cannot know — children and parents
living elsewhere, earlier marriages, renunciations at the family court (相続放棄) — the office
adds or corrects on the family (kept in the 死亡届's outputs). :func:`compute` runs the
inheritance engine over it; :func:`chart` draws the 法定相続情報一覧図.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import inheritance, residents

DECEDENT: Final = "decedent"
SPOUSES: Final = ("妻", "夫")
HEAD: Final = "世帯主"
_SIBLINGS: Final = ("兄", "姉", "弟", "妹")


def _person(key: str, person: residents.PersonRead) -> dict[str, Any]:
    return {
        "id": key,
        "name": f"{person.family_name}{person.given_name}",
        "born_on": person.birth_date.isoformat(),
        "address": person.address.text,
        "sex": str(person.sex),
    }


def _roles(relationship: str) -> dict[str, tuple[str, ...]]:
    """For the deceased's relationship to the head: which relationships are their spouse,
    children, parents and siblings (relative to the same head)."""
    if relationship == HEAD:
        return {"spouse": SPOUSES, "child": ("子",), "parent": ("父", "母"), "sibling": _SIBLINGS}
    if relationship in SPOUSES:
        return {"spouse": (HEAD,), "child": ("子",), "parent": (), "sibling": ()}
    if relationship == "子":
        return {
            "spouse": ("子の妻", "子の夫"),
            "child": ("孫",),
            "parent": (HEAD, *SPOUSES),
            "sibling": ("子",),
        }
    if relationship in ("父", "母"):
        other = "母" if relationship == "父" else "父"
        return {"spouse": (other,), "child": (HEAD, *_SIBLINGS), "parent": (), "sibling": ()}
    return {"spouse": (), "child": (), "parent": (), "sibling": ()}


def family_from_register(session: Session, deceased: uuid.UUID, *, died_on: date) -> dict[str, Any]:
    """The family input of the inheritance engine (issue 18's JSON) from the deceased's
    household, read before the death is recorded. Household members only; a household with
    a spouse and children is read as the children being of both (the office corrects it)."""
    person = residents.get_person(session, deceased)
    people = [_person(DECEDENT, person) | {"died_on": died_on.isoformat()}]
    relations: list[dict[str, Any]] = []
    roles = _roles(person.relationship)
    members = [m for m in residents.get_household(session, person.household_id) if m.id != deceased]
    parents: list[str] = []
    siblings: list[str] = []
    for n, member in enumerate(members, start=1):
        key = f"p{n}"
        rel = member.relationship
        if rel in roles["spouse"]:
            relations.append({"type": "spouse", "a": DECEDENT, "b": key})
        elif rel in roles["child"]:
            relations.append({"type": "child", "parent": DECEDENT, "child": key})
        elif rel in roles["parent"]:
            relations.append({"type": "child", "parent": key, "child": DECEDENT})
            parents.append(key)
        elif rel in roles["sibling"]:
            siblings.append(key)
        else:
            continue
        people.append(_person(key, member))
    for sibling in siblings:  # Siblings share the deceased's known parents.
        relations.extend({"type": "child", "parent": p, "child": sibling} for p in parents)
    return {
        "decedent": DECEDENT,
        "people": people,
        "relations": relations,
        "renounced": [],
        "disqualified": [],
        "disinherited": [],
        "simultaneous_deaths": [],
        "unborn": [],
    }


def compute(family: dict[str, Any]) -> tuple[inheritance.HeirsResult, inheritance.Family]:
    """The heirs of ``family`` (``inheritance.invalid_family`` naming the field at fault)."""
    parsed = inheritance.parse_family(family)
    return inheritance.compute_heirs(parsed), parsed


def chart(family: dict[str, Any], *, kind: str, made_on: date) -> bytes:
    """The 法定相続情報一覧図 as SVG (``kind="svg"``) or PDF bytes."""
    result, parsed = compute(family)
    if kind == "svg":
        return inheritance.chart_svg(result, parsed, made_on=made_on).encode("utf-8")
    return inheritance.chart_pdf(result, parsed, made_on=made_on)


def heirs_table(family: dict[str, Any]) -> list[dict[str, str]]:
    """The heirs of ``family`` for a page: name, share (``1/2`` and ``2分の1``), articles."""
    result, parsed = compute(family)
    names = {key: person.name or key for key, person in parsed.people.items()}
    return [
        {
            "name": names.get(heir.id, heir.id),
            "share": inheritance.format_share(heir.share),
            "share_ja": inheritance.share_ja(heir.share),
            "articles": "、".join(heir.articles),
        }
        for heir in result.heirs
    ]
