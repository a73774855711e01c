"""The legal heirs of a decedent and their shares, exactly (民法 886–901, 939, 32条の2).

The model (docs/adr/0023-legal-heirs-engine.md):

* The spouse is always an heir (890). Blood relatives come in ranks, and only the first rank
  that yields an heir inherits: children and their representatives (887), then lineal
  ascendants of the nearest degree (889①一), then siblings and their children (889①二, ②).
* A *line* (株) starts at a child or a sibling. A person who survives the decedent and is not
  excluded takes the line; one who died before (or with) the decedent, was disqualified (891)
  or disinherited (892) is represented by their own children (887②), again and again for
  descendants (887③), once only for a sibling's children (889②). A renouncer (939) is as if
  never an heir: their line yields nothing and is not counted.
* Shares: the spouse takes 1/2, 2/3 or 3/4 beside the first, second or third rank (900一–三)
  and everything alone; the rest is split equally among the lines of the rank (900四), a
  half-blood sibling's line weighing half a full sibling's (900四 ただし書), and a represented
  line is split among its sub-lines the same way (901).
* Kinship through adoption starts on the adoption day (727): a child born to an adoptee before
  the adoption is not the adopter's lineal descendant, so cannot represent the adoptee unless
  they descend from the decedent another way (887② ただし書).

Every heir carries the articles that gave them their share. Articles are written
``"887(2)"`` for 887条2項, ``"889(1)(1)"`` for 889条1項1号, ``"900(4)"`` for 900条4号,
``"900(4)-proviso"`` for its ただし書 (half blood), ``"32-2"`` for 32条の2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any

from kiban.blocks.inheritance.errors import InvalidFamily
from kiban.blocks.inheritance.family import ChildLink, Family, parse_family


class Relationship(StrEnum):
    """How an heir is related to the decedent (the diagram's 続柄)."""

    SPOUSE = "spouse"
    CHILD = "child"
    DESCENDANT = "descendant"  # A grandchild or further, by representation.
    ASCENDANT = "ascendant"
    SIBLING = "sibling"
    SIBLING_CHILD = "sibling_child"  # A nephew or niece, by representation.


@dataclass(frozen=True)
class Heir:
    """One heir: ``share`` is exact and reduced; ``articles`` in the order they apply.

    ``degree`` counts generations from the decedent (1 for a child or parent, 2 for a
    grandchild or grandparent, 0 for spouse and siblings); ``represents`` is the chain of people
    represented, nearest the decedent first.
    """

    id: str
    share: Fraction
    articles: tuple[str, ...]
    relationship: Relationship
    degree: int = 0
    represents: tuple[str, ...] = ()
    half_blood: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "share": format_share(self.share), "articles": list(self.articles)}


@dataclass(frozen=True)
class HeirsResult:
    """The answer: the heirs in a stable order (spouse, then by rank and line), or none."""

    decedent: str
    heirs: tuple[Heir, ...]

    @property
    def none(self) -> bool:
        return not self.heirs

    def as_json(self) -> dict[str, Any]:
        return {"heirs": [heir.as_json() for heir in self.heirs], "none": self.none}


def format_share(share: Fraction) -> str:
    """``"n/d"`` in lowest terms, also for a whole estate (``"1/1"``)."""
    return f"{share.numerator}/{share.denominator}"


@dataclass
class _Part:
    """A share of a line on its way down to one heir."""

    id: str
    share: Fraction
    articles: list[str]
    relationship: Relationship
    degree: int
    represents: tuple[str, ...] = ()
    half_blood: bool = False


@dataclass
class _Kin:
    """The family read as a graph at the moment of death."""

    family: Family
    death: date
    children: dict[str, list[ChildLink]] = field(default_factory=dict)
    parents: dict[str, list[ChildLink]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    _ancestors: dict[str, frozenset[str]] = field(default_factory=dict)
    _descends: dict[tuple[str, str], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, family: Family) -> _Kin:
        kin = cls(family=family, death=family.death_date)
        kin.order = {person_id: i for i, person_id in enumerate(family.people)}
        for link in family.links:
            # An adoption after the death made no kin at the death.
            if link.adopted_on is not None and link.adopted_on > kin.death:
                continue
            if link.child in family.stillborn or link.parent in family.stillborn:
                continue
            kin.children.setdefault(link.parent, []).append(link)
            kin.parents.setdefault(link.child, []).append(link)
        for links in kin.children.values():
            links.sort(key=lambda link: kin.sort_key(link.child))
        return kin

    def sort_key(self, person_id: str) -> tuple[bool, date, int]:
        person = self.family.people[person_id]
        return (person.born_on is None, person.born_on or date.max, self.order[person_id])

    def link_time(self, link: ChildLink, *, needed: bool) -> date | None:
        """When ``link`` made kin: the adoption day, or the child's birth."""
        if link.adopted_on is not None:
            return link.adopted_on
        child = self.family.people[link.child]
        if child.born_on is not None:
            return child.born_on
        if child.in_womb:
            return self.death + timedelta(days=1)
        if needed:
            raise InvalidFamily(
                f"{link.child} の出生日がありません。養子縁組の前に生まれたかどうか"
                "（民法887条2項ただし書）を決めるのに必要です。",
                f"{link.child} has no born_on, which is needed to tell whether they were born "
                "before an adoption (887(2) proviso)",
                field=self.family.person_field(link.child, "born_on"),
            )
        return None

    def ancestors(self, person: str) -> frozenset[str]:
        """Everyone above ``person`` through any child relation (kin or not)."""
        cached = self._ancestors.get(person)
        if cached is None:
            found: set[str] = set()
            stack = [person]
            while stack:
                for link in self.parents.get(stack.pop(), []):
                    if link.parent not in found:
                        found.add(link.parent)
                        stack.append(link.parent)
            cached = self._ancestors[person] = frozenset(found)
        return cached

    def is_lineal_descendant(self, ancestor: str, person: str) -> bool:
        """Whether ``person`` descends from ``ancestor`` by kinship (blood or adoption), with
        every link made no earlier than the adoptions above it (727, 887② ただし書).

        Only paths that lead to ``person`` are walked, so a missing birth date elsewhere in
        the family is never asked for."""
        key = (ancestor, person)
        if key in self._descends:
            return self._descends[key]
        on_the_way = self.ancestors(person)
        answer = False
        seen: set[tuple[str, date | None]] = set()
        stack: list[tuple[str, date | None]] = [(ancestor, None)]
        while stack and not answer:
            current, since = stack.pop()
            for link in self.children.get(current, []):
                if link.child != person and link.child not in on_the_way:
                    continue
                time = self.link_time(link, needed=since is not None)
                if since is not None and time is not None and time < since:
                    continue
                if link.child == person:
                    answer = True
                    break
                next_since = since
                if link.adopted_on is not None:
                    next_since = max(since, link.adopted_on) if since else link.adopted_on
                if (link.child, next_since) not in seen:
                    seen.add((link.child, next_since))
                    stack.append((link.child, next_since))
        self._descends[key] = answer
        return answer


class _Engine:
    def __init__(self, family: Family, renounced: frozenset[str]) -> None:
        self.family = family
        self.kin = _Kin.of(family)
        self.death = self.kin.death
        self.renounced = renounced
        simultaneous: set[str] = set()
        for group in family.simultaneous_deaths:
            if family.decedent in group:
                simultaneous |= group - {family.decedent}
        self.simultaneous = frozenset(simultaneous)
        self.spouse_id = self._spouse_id()

    # Who could inherit at all.

    def exists(self, person_id: str) -> bool:
        """Born (or in the womb, 886) by the death and not stillborn."""
        person = self.family.people[person_id]
        if person_id in self.family.stillborn:
            return False
        if person.in_womb:
            return True
        return person.born_on is None or person.born_on <= self.death

    def survives(self, person_id: str) -> bool:
        """Alive when the decedent died. Dying the same day cannot be ordered from dates, so
        it is presumed simultaneous (32条の2), like a listed simultaneous death."""
        if not self.exists(person_id) or person_id in self.simultaneous:
            return False
        died_on = self.family.people[person_id].died_on
        return died_on is None or died_on > self.death

    def capable(self, person_id: str) -> bool:
        return (
            person_id != self.family.decedent
            and self.survives(person_id)
            and person_id not in self.renounced
            and person_id not in self.family.disqualified
            and person_id not in self.family.disinherited
        )

    def cause_articles(self, person_id: str) -> list[str]:
        """Why ``person_id`` is represented: died before, together (32-2), 891 or 892."""
        causes = []
        if person_id in self.simultaneous or (self.family.people[person_id].died_on == self.death):
            causes.append("32-2")
        if person_id in self.family.disqualified:
            causes.append("891")
        if person_id in self.family.disinherited:
            causes.append("892")
        return causes

    def _spouse_id(self) -> str | None:
        decedent = self.family.decedent
        for marriage in self.family.marriages:
            if decedent not in (marriage.a, marriage.b):
                continue
            if marriage.divorced_on is not None and marriage.divorced_on <= self.death:
                continue
            other = marriage.b if marriage.a == decedent else marriage.a
            if self.survives(other):
                return other
        return None

    # The ranks.

    def descendant_line(self, person_id: str, depth: int, chain: tuple[str, ...]) -> list[_Part]:
        """The heirs of a child's line (887): the child, or their representatives."""
        if person_id in self.renounced or not self.exists(person_id):
            return []
        if person_id == self.spouse_id:
            return []
        if self.capable(person_id):
            articles = ["887(1)"] if depth == 1 else ["887(2)"]
            if depth >= 3:
                articles.append("887(3)")
            if depth >= 2:
                articles.append("901(1)")
            if self.family.people[person_id].in_womb:
                articles.append("886(1)")
            relationship = Relationship.CHILD if depth == 1 else Relationship.DESCENDANT
            return [_Part(person_id, Fraction(1), articles, relationship, depth, chain)]
        # Predeceased, died together, disqualified or disinherited: representation (887②③),
        # by those who are the decedent's lineal descendants (887② ただし書).
        causes = self.cause_articles(person_id)
        sublines = [
            line
            for link in self.kin.children.get(person_id, [])
            if self.kin.is_lineal_descendant(self.family.decedent, link.child)
            if (line := self.descendant_line(link.child, depth + 1, (*chain, person_id)))
        ]
        return _split(sublines, [1] * len(sublines), causes)

    def children_rank(self) -> list[list[_Part]]:
        return [
            line
            for link in self.kin.children.get(self.family.decedent, [])
            if (line := self.descendant_line(link.child, 1, ()))
        ]

    def ascendant_rank(self) -> list[list[_Part]]:
        """The nearest degree of lineal ascendants with an heir among them (889①一)."""
        decedent = self.family.decedent
        level = [decedent]
        seen = {decedent}
        degree = 0
        while level:
            degree += 1
            upper: list[str] = []
            for person_id in level:
                for link in self.kin.parents.get(person_id, []):
                    parent = link.parent
                    if parent in seen or not self.kin.is_lineal_descendant(parent, decedent):
                        continue
                    seen.add(parent)
                    upper.append(parent)
            heirs = [
                [_Part(p, Fraction(1), ["889(1)(1)"], Relationship.ASCENDANT, degree)]
                for p in sorted(upper, key=self.kin.sort_key)
                if self.capable(p) and p != self.spouse_id
            ]
            if heirs:
                return heirs
            level = upper
        return []

    def sibling_rank(self) -> tuple[list[list[_Part]], list[int]]:
        """Siblings and, for one who cannot inherit, their children (889①二, ②)."""
        decedent = self.family.decedent
        own_parents = {link.parent for link in self.kin.parents.get(decedent, [])}
        siblings: dict[str, set[str]] = {}
        for parent in own_parents:
            for link in self.kin.children.get(parent, []):
                if link.child != decedent:
                    siblings.setdefault(link.child, set()).add(parent)
        lines: list[list[_Part]] = []
        weights: list[int] = []
        for sibling in sorted(siblings, key=self.kin.sort_key):
            common = siblings[sibling]
            half = len(common) < 2
            line = self.sibling_line(sibling, common, half_blood=half)
            if line:
                lines.append(line)
                weights.append(1 if half else 2)
        if len(lines) == 1:
            # The half-blood proviso only weighs one sibling's line against another's.
            for part in lines[0]:
                part.articles = [a for a in part.articles if a != "900(4)-proviso"]
        return lines, weights

    def sibling_line(self, sibling: str, common: set[str], *, half_blood: bool) -> list[_Part]:
        if sibling in self.renounced or not self.exists(sibling) or sibling == self.spouse_id:
            return []
        if sibling in self.family.disinherited:
            raise InvalidFamily(
                f"{sibling} は兄弟姉妹で、遺留分がないため廃除（民法892条）の対象になりません。",
                f"{sibling} is a sibling, who has no reserved share and so cannot be "
                "disinherited (892)",
                field=self.family.fields.get(f"disinherited:{sibling}", "disinherited"),
            )
        proviso = ["900(4)-proviso"] if half_blood else []
        if self.capable(sibling):
            womb = ["886(1)"] if self.family.people[sibling].in_womb else []
            return [
                _Part(
                    sibling,
                    Fraction(1),
                    ["889(1)(2)", *proviso, *womb],
                    Relationship.SIBLING,
                    0,
                    half_blood=half_blood,
                )
            ]
        # Representation by the sibling's children, one generation only (889② → 887②).
        causes = self.cause_articles(sibling)
        parts = [
            [
                _Part(
                    link.child,
                    Fraction(1),
                    [
                        "889(1)(2)",
                        "889(2)",
                        "901(2)",
                        *proviso,
                        *(["886(1)"] if self.family.people[link.child].in_womb else []),
                    ],
                    Relationship.SIBLING_CHILD,
                    0,
                    (sibling,),
                    half_blood,
                )
            ]
            for link in self.kin.children.get(sibling, [])
            if self.capable(link.child)
            and link.child != self.spouse_id
            and any(self.kin.is_lineal_descendant(p, link.child) for p in common)
        ]
        return _split(parts, [1] * len(parts), causes)

    def run(self) -> list[_Part]:
        spouse = self.spouse_id if self.spouse_id and self.capable(self.spouse_id) else None
        ranks: list[tuple[list[list[_Part]], list[int], Fraction, str]] = []
        children = self.children_rank()
        if children:
            ranks.append((children, [1] * len(children), Fraction(1, 2), "900(1)"))
        else:
            ascendants = self.ascendant_rank()
            if ascendants:
                ranks.append((ascendants, [1] * len(ascendants), Fraction(2, 3), "900(2)"))
            else:
                siblings, weights = self.sibling_rank()
                if siblings:
                    ranks.append((siblings, weights, Fraction(3, 4), "900(3)"))
        parts: list[_Part] = []
        if not ranks:
            if spouse:
                parts.append(_Part(spouse, Fraction(1), ["890"], Relationship.SPOUSE, 0))
            return parts
        lines, weights, spouse_share, item = ranks[0]
        blood_total = Fraction(1)
        common: list[str] = []
        if spouse:
            parts.append(_Part(spouse, spouse_share, ["890", item], Relationship.SPOUSE, 0))
            blood_total -= spouse_share
            common.append(item)
        if len(lines) > 1:
            common.append("900(4)")
        for part in _split(lines, weights, common):
            part.share *= blood_total
            parts.append(part)
        return parts


def _split(lines: list[list[_Part]], weights: list[int], articles: list[str]) -> list[_Part]:
    """Give each line its weighted part of one whole, adding ``articles`` to every heir."""
    total = sum(weights)
    parts = []
    for line, weight in zip(lines, weights, strict=True):
        for part in line:
            part.share *= Fraction(weight, total)
            part.articles = _merge(part.articles, articles)
            parts.append(part)
    return parts


def _merge(first: Iterable[str], second: Iterable[str]) -> list[str]:
    merged = list(first)
    merged.extend(a for a in second if a not in merged)
    return merged


def _article_order(article: str) -> tuple[int, str]:
    number = article.split("(", 1)[0].split("-", 1)[0]
    return (int(number), article)


def _collect(parts: list[_Part]) -> dict[str, _Part]:
    """One entry per heir: a person inheriting in two capacities (two lines) adds them up."""
    heirs: dict[str, _Part] = {}
    for part in parts:
        if part.id in heirs:
            known = heirs[part.id]
            known.share += part.share
            known.articles = _merge(known.articles, part.articles)
        else:
            heirs[part.id] = part
    return heirs


def compute_heirs(family: Family) -> HeirsResult:
    """The heirs of ``family.decedent`` with exact shares and the articles applied to each.

    ``939`` is added for each heir whose share (or being an heir at all) follows from someone's
    renunciation: the result is compared with the one nobody renounced in.
    """
    heirs = _collect(_Engine(family, family.renounced).run())
    if family.renounced:
        without = _collect(_Engine(family, frozenset()).run())
        for heir in heirs.values():
            other = without.get(heir.id)
            if other is None or other.share != heir.share:
                heir.articles.append("939")
    return HeirsResult(
        decedent=family.decedent,
        heirs=tuple(
            Heir(
                id=part.id,
                share=part.share,
                articles=tuple(sorted(part.articles, key=_article_order)),
                relationship=part.relationship,
                degree=part.degree,
                represents=part.represents,
                half_blood=part.half_blood,
            )
            for part in heirs.values()
        ),
    )


def heirs_from_json(raw: Any) -> HeirsResult:
    """Parse a family given as JSON-like data and compute its heirs."""
    return compute_heirs(parse_family(raw))
