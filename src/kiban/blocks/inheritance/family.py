"""A family as data: reading and checking the JSON the heirs engine takes.

The shape (issue 18)::

    {"decedent": "A",
     "people": [{"id": "A", "born_on": "1940-01-01", "died_on": "2026-03-01",
                 "name": "山田太郎", "address": "東京都…", "sex": "male"}, ...],
     "relations": [{"type": "spouse", "a": "A", "b": "B", "divorced_on": null},
                   {"type": "child", "parent": "A", "child": "C", "adopted_on": null}],
     "renounced": [], "disqualified": [], "disinherited": [],
     "simultaneous_deaths": [["A", "X"]],
     "unborn": [{"id": "F", "parent": "A", "born_alive": true}]}

``name``, ``address`` and ``sex`` are optional and only used by the diagram. A ``child``
relation with ``adopted_on`` is an adoption; without it, a birth. Every error names the field at
fault (``people[2].born_on``, ``relations[0].child``) in Japanese and English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from kiban.blocks.inheritance.errors import InvalidFamily

Sex = Literal["male", "female"]

_TOP_KEYS = {
    "decedent",
    "people",
    "relations",
    "renounced",
    "disqualified",
    "disinherited",
    "simultaneous_deaths",
    "unborn",
}
_PERSON_KEYS = {"id", "name", "born_on", "died_on", "address", "sex"}
_SPOUSE_KEYS = {"type", "a", "b", "divorced_on"}
_CHILD_KEYS = {"type", "parent", "child", "adopted_on"}
_UNBORN_KEYS = {"id", "parent", "born_alive"}


@dataclass(frozen=True)
class Person:
    """One person of the family. ``in_womb`` marks a child conceived but not yet born when the
    decedent died (民法886条); such a child exists for the engine only if born alive."""

    id: str
    born_on: date | None = None
    died_on: date | None = None
    name: str | None = None
    address: str | None = None
    sex: Sex | None = None
    in_womb: bool = False


@dataclass(frozen=True)
class ChildLink:
    """``parent`` → ``child`` by birth, or by adoption on ``adopted_on``."""

    parent: str
    child: str
    adopted_on: date | None = None


@dataclass(frozen=True)
class Marriage:
    a: str
    b: str
    divorced_on: date | None = None


@dataclass(frozen=True)
class Family:
    """A checked family. ``people`` keeps the input order (the engine's tie-breaker)."""

    decedent: str
    people: Mapping[str, Person]
    links: tuple[ChildLink, ...]
    marriages: tuple[Marriage, ...]
    renounced: frozenset[str] = frozenset()
    disqualified: frozenset[str] = frozenset()
    disinherited: frozenset[str] = frozenset()
    # Groups of people presumed to have died at the same moment (民法32条の2).
    simultaneous_deaths: tuple[frozenset[str], ...] = ()
    # Children in the womb at the death who were not born alive: as if they never were.
    stillborn: frozenset[str] = frozenset()
    # Where each person, relation and list entry came from, for errors found later.
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def death_date(self) -> date:
        died_on = self.people[self.decedent].died_on
        if died_on is None:  # parse_family guarantees it; this keeps mypy honest.
            raise InvalidFamily(
                "被相続人の死亡日がありません。",
                "the decedent has no died_on",
                field="decedent",
            )
        return died_on

    def person_field(self, person_id: str, attribute: str) -> str:
        return self.fields.get(f"person:{person_id}", "people") + f".{attribute}"


def _fail(field_name: str, message_ja: str, message_en: str) -> InvalidFamily:
    return InvalidFamily(message_ja, message_en, field=field_name)


def _object(value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "オブジェクトではありません。", "must be an object")
    for key in value:
        if key not in allowed:
            raise _fail(
                f"{where}.{key}" if where else str(key),
                f"知らない項目です（使える項目: {', '.join(sorted(allowed))}）。",
                f"unknown field (allowed: {', '.join(sorted(allowed))})",
            )
    return value


def _text(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "空でない文字列を入れてください。", "must be a non-empty string")
    return value


def _required_text(value: Any, where: str) -> str:
    text = _text(value, where)
    assert text is not None  # noqa: S101 — _text with required=True never returns None.
    return text


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, "日付は YYYY-MM-DD の文字列です。", "a date is a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(
            where, f"日付として読めません: {value!r}", f"not a YYYY-MM-DD date: {value!r}"
        ) from None


def _list(value: Any, where: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, "配列ではありません。", "must be an array")
    return value


def _person(raw: Any, where: str) -> Person:
    data = _object(raw, where, _PERSON_KEYS)
    person_id = _required_text(data.get("id"), f"{where}.id")
    sex = data.get("sex")
    if sex not in (None, "male", "female"):
        raise _fail(f"{where}.sex", "male か female です。", "must be male or female")
    person = Person(
        id=person_id,
        born_on=_date(data.get("born_on"), f"{where}.born_on"),
        died_on=_date(data.get("died_on"), f"{where}.died_on"),
        name=_text(data.get("name"), f"{where}.name", required=False),
        address=_text(data.get("address"), f"{where}.address", required=False),
        sex=sex,
    )
    if person.born_on and person.died_on and person.died_on < person.born_on:
        raise _fail(
            f"{where}.died_on",
            "死亡日が出生日より前です。",
            "died_on is before born_on",
        )
    return person


def _known(person_id: Any, where: str, people: Mapping[str, Person]) -> str:
    text = _required_text(person_id, where)
    if text not in people:
        raise _fail(
            where, f"people にいない人です: {text!r}", f"unknown person id {text!r} (not in people)"
        )
    return text


def _check_no_cycle(links: Sequence[ChildLink], fields: Mapping[str, str]) -> None:
    """Fail on the first relation, in input order, that would make someone their own
    ancestor."""
    parents: dict[str, list[str]] = {}
    for index, link in enumerate(links):
        where = fields.get(f"link:{index}", f"relations[{index}]") + ".child"
        if link.parent == link.child:
            raise _fail(
                where,
                f"{link.child} が自分自身の子になっています。",
                f"{link.child} is their own child",
            )
        # Is the child already an ancestor of the parent? Then the child would be their own.
        seen: set[str] = set()
        stack = [link.parent]
        while stack:
            current = stack.pop()
            if current == link.child:
                raise _fail(
                    where,
                    f"{link.child} が自分自身の祖先になります（親子関係が循環しています）。",
                    f"{link.child} would be their own ancestor (the parent relations form a cycle)",
                )
            if current not in seen:
                seen.add(current)
                stack.extend(parents.get(current, []))
        parents.setdefault(link.child, []).append(link.parent)


def parse_family(raw: Any) -> Family:  # noqa: PLR0912, PLR0915 — one pass over the input.
    """Read and check a family given as JSON-like data; raise :class:`InvalidFamily`."""
    top = _object(raw, "", _TOP_KEYS)
    decedent = _text(top.get("decedent"), "decedent")
    assert decedent is not None  # noqa: S101 — required.

    people: dict[str, Person] = {}
    fields: dict[str, str] = {}
    for index, raw_person in enumerate(_list(top.get("people"), "people")):
        person = _person(raw_person, f"people[{index}]")
        if person.id in people:
            raise _fail(
                f"people[{index}].id",
                f"同じ id の人が二人います: {person.id!r}",
                f"duplicate person id {person.id!r}",
            )
        people[person.id] = person
        fields[f"person:{person.id}"] = f"people[{index}]"
    if decedent not in people:
        raise _fail(
            "decedent",
            f"被相続人 {decedent!r} が people にいません。",
            f"the decedent {decedent!r} is not in people",
        )
    death = people[decedent].died_on
    if death is None:
        raise _fail(
            fields[f"person:{decedent}"] + ".died_on",
            "被相続人の死亡日がありません。",
            "the decedent has no died_on",
        )

    # Children in the womb: they may be absent from people (the example).
    stillborn: set[str] = set()
    unborn_links: list[tuple[ChildLink, str]] = []
    for index, raw_unborn in enumerate(_list(top.get("unborn"), "unborn")):
        where = f"unborn[{index}]"
        data = _object(raw_unborn, where, _UNBORN_KEYS)
        child_id = _required_text(data.get("id"), f"{where}.id")
        parent = _known(data.get("parent"), f"{where}.parent", people)
        born_alive = data.get("born_alive")
        if not isinstance(born_alive, bool):
            raise _fail(f"{where}.born_alive", "true か false です。", "must be true or false")
        if child_id == decedent:
            raise _fail(f"{where}.id", "被相続人は胎児ではありません。", "the decedent is unborn")
        known = people.get(child_id)
        if known is not None and known.born_on is not None and known.born_on <= death:
            raise _fail(
                f"{where}.id",
                f"{child_id} は被相続人の死亡前に生まれています。",
                f"{child_id} was born before the decedent died, so was not in the womb",
            )
        base = known or Person(id=child_id)
        people[child_id] = Person(
            id=child_id,
            born_on=base.born_on,
            died_on=base.died_on,
            name=base.name,
            address=base.address,
            sex=base.sex,
            in_womb=True,
        )
        fields.setdefault(f"person:{child_id}", where)
        if not born_alive:
            stillborn.add(child_id)
        unborn_links.append((ChildLink(parent=parent, child=child_id), where))

    links: list[ChildLink] = []
    marriages: list[Marriage] = []
    pairs: set[tuple[str, str]] = set()
    for index, raw_relation in enumerate(_list(top.get("relations"), "relations")):
        where = f"relations[{index}]"
        kind = raw_relation.get("type") if isinstance(raw_relation, Mapping) else None
        if kind == "spouse":
            data = _object(raw_relation, where, _SPOUSE_KEYS)
            a = _known(data.get("a"), f"{where}.a", people)
            b = _known(data.get("b"), f"{where}.b", people)
            if a == b:
                raise _fail(
                    f"{where}.b", "自分自身とは婚姻できません。", "a person married to self"
                )
            marriages.append(Marriage(a, b, _date(data.get("divorced_on"), f"{where}.divorced_on")))
        elif kind == "child":
            data = _object(raw_relation, where, _CHILD_KEYS)
            parent = _known(data.get("parent"), f"{where}.parent", people)
            child = _known(data.get("child"), f"{where}.child", people)
            adopted_on = _date(data.get("adopted_on"), f"{where}.adopted_on")
            if (parent, child) in pairs:
                raise _fail(
                    where,
                    f"{parent} と {child} の親子関係が二度あります。",
                    f"the relation {parent} → {child} is given twice",
                )
            pairs.add((parent, child))
            child_person = people[child]
            parent_person = people[parent]
            if adopted_on is not None:
                if child_person.born_on and adopted_on < child_person.born_on:
                    raise _fail(
                        f"{where}.adopted_on",
                        "養子縁組の日が養子の出生より前です。",
                        "adopted_on is before the child was born",
                    )
                if parent_person.died_on and adopted_on > parent_person.died_on:
                    raise _fail(
                        f"{where}.adopted_on",
                        "養子縁組の日が養親の死亡より後です。",
                        "adopted_on is after the adoptive parent died",
                    )
            fields[f"link:{len(links)}"] = where
            links.append(ChildLink(parent, child, adopted_on))
        else:
            _object(raw_relation, where, _CHILD_KEYS | _SPOUSE_KEYS)
            raise _fail(f"{where}.type", "spouse か child です。", "must be spouse or child")
    for link, where in unborn_links:
        if (link.parent, link.child) not in pairs:
            pairs.add((link.parent, link.child))
            fields[f"link:{len(links)}"] = where
            links.append(link)

    birth_parents: dict[str, int] = {}
    for index, link in enumerate(links):
        if link.adopted_on is None:
            birth_parents[link.child] = birth_parents.get(link.child, 0) + 1
            if birth_parents[link.child] > 2:
                raise _fail(
                    fields[f"link:{index}"],
                    f"{link.child} の実親が三人以上います。",
                    f"{link.child} has more than two birth parents",
                )
    _check_no_cycle(links, fields)

    lists: dict[str, frozenset[str]] = {}
    for name in ("renounced", "disqualified", "disinherited"):
        ids = set()
        for index, person_id in enumerate(_list(top.get(name), name)):
            known_id = _known(person_id, f"{name}[{index}]", people)
            if known_id == decedent:
                raise _fail(
                    f"{name}[{index}]",
                    "被相続人自身は相続人になりません。",
                    "the decedent is not their own heir",
                )
            ids.add(known_id)
            fields.setdefault(f"{name}:{known_id}", f"{name}[{index}]")
        lists[name] = frozenset(ids)

    groups: list[frozenset[str]] = []
    for index, raw_group in enumerate(_list(top.get("simultaneous_deaths"), "simultaneous_deaths")):
        where = f"simultaneous_deaths[{index}]"
        members = _list(raw_group, where)
        if len(members) < 2:
            raise _fail(where, "二人以上を挙げてください。", "name at least two people")
        group_ids = [_known(m, f"{where}[{i}]", people) for i, m in enumerate(members)]
        dates = set()
        for i, member in enumerate(group_ids):
            died_on = people[member].died_on
            if died_on is None:
                raise _fail(
                    f"{where}[{i}]",
                    f"{member} の死亡日がありません。",
                    f"{member} has no died_on",
                )
            dates.add(died_on)
        if len(dates) > 1:
            raise _fail(
                where,
                "同時死亡とされた人の死亡日が違います。",
                "the people presumed to have died together have different died_on dates",
            )
        groups.append(frozenset(group_ids))

    family = Family(
        decedent=decedent,
        people=people,
        links=tuple(links),
        marriages=tuple(marriages),
        renounced=lists["renounced"],
        disqualified=lists["disqualified"],
        disinherited=lists["disinherited"],
        simultaneous_deaths=tuple(groups),
        stillborn=frozenset(stillborn),
        fields=fields,
    )
    _check_spouses(family, _list(top.get("relations"), "relations"))
    return family


def _check_spouses(family: Family, relations: Sequence[Any]) -> None:
    """At most one marriage of the decedent may still stand, with a living spouse, at death."""
    death = family.death_date
    standing = []
    for index, marriage in enumerate(family.marriages):
        if family.decedent not in (marriage.a, marriage.b):
            continue
        if marriage.divorced_on is not None and marriage.divorced_on <= death:
            continue
        other = marriage.b if marriage.a == family.decedent else marriage.a
        died_on = family.people[other].died_on
        if died_on is not None and died_on < death:
            continue
        standing.append(index)
    if len(standing) > 1:
        # Point at the second marriage in the input (the spouse relations are counted).
        spouse_indexes = [
            i
            for i, r in enumerate(relations)
            if isinstance(r, Mapping) and r.get("type") == "spouse"
        ]
        where = f"relations[{spouse_indexes[standing[1]]}]"
        raise _fail(
            where,
            "被相続人の死亡時に婚姻中の配偶者が二人います（重婚）。",
            "the decedent had two living spouses at death; give divorced_on for the earlier one",
        )
