"""A casebook of legal heirs: families as the JSON ``kiban heirs compute`` reads, each with the
answer expected from the Civil Code (民法 886–901, 939, 32条の2).

The cases are written for kiban from the articles, in the way textbooks and family-court
practice pose them (a spouse with children, representation, adoption before or after a
grandchild's birth, a whole rank renouncing, half-blood siblings, deaths together, a child in
the womb, no heir). In every case the decedent is ``A``, born 1940-01-01, died 2025-04-01;
people who died before that day are marked ``died`` with an earlier date.

Articles are written as the engine writes them: ``887(2)`` = 887条2項, ``889(1)(2)`` =
889条1項2号, ``900(4)`` = 900条4号, ``900(4)-proviso`` = its ただし書, ``32-2`` = 32条の2;
sorted by article. ``939`` marks an heir whose share follows from someone's renunciation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEATH = "2025-04-01"
BEFORE = "2010-06-01"  # A day before the decedent's death.
AFTER = "2025-06-01"  # A day after it.


@dataclass(frozen=True)
class Case:
    name: str
    title: str  # What the case teaches, in Japanese.
    family: dict[str, Any]
    expected: dict[str, Any]


def person(person_id: str, born: str, died: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": person_id, "born_on": born, "died_on": died, **extra}


def child(parent: str, kid: str, adopted_on: str | None = None) -> dict[str, Any]:
    return {"type": "child", "parent": parent, "child": kid, "adopted_on": adopted_on}


def spouse(a: str, b: str, divorced_on: str | None = None) -> dict[str, Any]:
    relation: dict[str, Any] = {"type": "spouse", "a": a, "b": b}
    if divorced_on is not None:
        relation["divorced_on"] = divorced_on
    return relation


def family(
    people: list[dict[str, Any]],
    relations: list[dict[str, Any]],
    *,
    decedent_born: str = "1940-01-01",
    **lists: Any,
) -> dict[str, Any]:
    return {
        "decedent": "A",
        "people": [person("A", decedent_born, DEATH, name="甲野太郎"), *people],
        "relations": relations,
        "renounced": lists.get("renounced", []),
        "disqualified": lists.get("disqualified", []),
        "disinherited": lists.get("disinherited", []),
        "simultaneous_deaths": lists.get("simultaneous_deaths", []),
        "unborn": lists.get("unborn", []),
    }


def heirs(*rows: tuple[str, str, list[str]]) -> dict[str, Any]:
    return {
        "heirs": [{"id": i, "share": s, "articles": a} for i, s, a in rows],
        "none": not rows,
    }


# Articles that recur.
SPOUSE_1 = ["890", "900(1)"]
SPOUSE_2 = ["890", "900(2)"]
SPOUSE_3 = ["890", "900(3)"]
W = person("W", "1945-05-05", sex="female")
PARENTS_DEAD = [person("F", "1910-01-01", "1980-01-01"), person("M", "1915-01-01", "1990-01-01")]
PARENT_LINKS = [child("F", "A"), child("M", "A")]


CASES: list[Case] = [
    # The spouse and the first rank.
    Case(
        "spouse_alone",
        "配偶者のみ: 配偶者が全部を相続する（890条）",
        family([W], [spouse("A", "W")]),
        heirs(("W", "1/1", ["890"])),
    ),
    Case(
        "one_child_alone",
        "子一人のみ（887条1項）",
        family([person("C", "1970-01-01")], [child("A", "C")]),
        heirs(("C", "1/1", ["887(1)"])),
    ),
    Case(
        "spouse_and_one_child",
        "配偶者と子一人: 各2分の1（900条1号）",
        family([W, person("C", "1970-01-01")], [spouse("A", "W"), child("A", "C")]),
        heirs(("W", "1/2", SPOUSE_1), ("C", "1/2", ["887(1)", "900(1)"])),
    ),
    Case(
        "spouse_and_three_children",
        "配偶者と子三人: 配偶者2分の1、子は残りを均分（900条1号・4号）",
        family(
            [W, person("C1", "1968-01-01"), person("C2", "1970-01-01"), person("C3", "1972-01-01")],
            [spouse("A", "W"), child("A", "C1"), child("A", "C2"), child("A", "C3")],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C1", "1/6", ["887(1)", "900(1)", "900(4)"]),
            ("C2", "1/6", ["887(1)", "900(1)", "900(4)"]),
            ("C3", "1/6", ["887(1)", "900(1)", "900(4)"]),
        ),
    ),
    Case(
        "two_children_no_spouse",
        "配偶者なし、子二人: 均分（900条4号）",
        family(
            [person("C1", "1968-01-01"), person("C2", "1970-01-01")],
            [child("A", "C1"), child("A", "C2")],
        ),
        heirs(("C1", "1/2", ["887(1)", "900(4)"]), ("C2", "1/2", ["887(1)", "900(4)"])),
    ),
    Case(
        "former_spouse_and_her_child",
        "離婚した前配偶者は相続人でない。前婚の子と後婚の子は同順位・均分",
        family(
            [person("E", "1942-01-01"), W, person("C1", "1965-01-01"), person("C2", "1975-01-01")],
            [
                spouse("A", "E", divorced_on="1970-01-01"),
                spouse("A", "W"),
                child("A", "C1"),
                child("E", "C1"),
                child("A", "C2"),
                child("W", "C2"),
            ],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C1", "1/4", ["887(1)", "900(1)", "900(4)"]),
            ("C2", "1/4", ["887(1)", "900(1)", "900(4)"]),
        ),
    ),
    Case(
        "child_born_outside_marriage",
        "嫡出でない子（認知された子）も嫡出子と同じ相続分（平成25年改正後の900条4号）",
        family(
            [W, person("C", "1970-01-01"), person("N", "1980-01-01"), person("Q", "1950-01-01")],
            [
                spouse("A", "W"),
                child("A", "C"),
                child("W", "C"),
                child("A", "N"),
                child("Q", "N"),
            ],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C", "1/4", ["887(1)", "900(1)", "900(4)"]),
            ("N", "1/4", ["887(1)", "900(1)", "900(4)"]),
        ),
    ),
    Case(
        "heir_who_died_after_the_decedent",
        "被相続人の死亡後に死亡した子も相続人（数次相続: その持分は子自身の相続へ）",
        family([W, person("C", "1970-01-01", AFTER)], [spouse("A", "W"), child("A", "C")]),
        heirs(("W", "1/2", SPOUSE_1), ("C", "1/2", ["887(1)", "900(1)"])),
    ),
    # Representation of children (887②③).
    Case(
        "grandchildren_represent_predeceased_child",
        "先に死亡した子を孫二人が代襲（887条2項、901条1項）",
        family(
            [
                W,
                person("C1", "1968-01-01"),
                person("C2", "1970-01-01", BEFORE),
                person("G1", "1995-01-01"),
                person("G2", "1998-01-01"),
            ],
            [
                spouse("A", "W"),
                child("A", "C1"),
                child("A", "C2"),
                child("C2", "G1"),
                child("C2", "G2"),
            ],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C1", "1/4", ["887(1)", "900(1)", "900(4)"]),
            ("G1", "1/8", ["887(2)", "900(1)", "900(4)", "901(1)"]),
            ("G2", "1/8", ["887(2)", "900(1)", "900(4)", "901(1)"]),
        ),
    ),
    Case(
        "representation_two_levels",
        "再代襲: 子も孫も先に死亡し、曾孫が代襲（887条3項）",
        family(
            [
                person("C1", "1962-01-01"),
                person("C2", "1964-01-01", "2000-01-01"),
                person("G", "1985-01-01", "2015-01-01"),
                person("GG1", "2008-01-01"),
                person("GG2", "2010-01-01"),
            ],
            [
                child("A", "C1"),
                child("A", "C2"),
                child("C2", "G"),
                child("G", "GG1"),
                child("G", "GG2"),
            ],
        ),
        heirs(
            ("C1", "1/2", ["887(1)", "900(4)"]),
            ("GG1", "1/4", ["887(2)", "887(3)", "900(4)", "901(1)"]),
            ("GG2", "1/4", ["887(2)", "887(3)", "900(4)", "901(1)"]),
        ),
    ),
    Case(
        "predeceased_child_without_issue",
        "子なしで先に死亡した子は数えない",
        family(
            [W, person("C1", "1968-01-01"), person("C2", "1970-01-01", BEFORE)],
            [spouse("A", "W"), child("A", "C1"), child("A", "C2")],
        ),
        heirs(("W", "1/2", SPOUSE_1), ("C1", "1/2", ["887(1)", "900(1)"])),
    ),
    Case(
        "adoptee_and_blood_child",
        "普通養子は実子と同じ相続分（809条、887条1項）",
        family(
            [W, person("C", "1970-01-01"), person("S", "1975-01-01")],
            [spouse("A", "W"), child("A", "C"), child("A", "S", "1990-04-01")],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C", "1/4", ["887(1)", "900(1)", "900(4)"]),
            ("S", "1/4", ["887(1)", "900(1)", "900(4)"]),
        ),
    ),
    Case(
        "adoptee_child_born_after_adoption_represents",
        "縁組後に生まれた養子の子は代襲相続人（887条2項）",
        family(
            [
                person("C", "1968-01-01"),
                person("S", "1970-01-01", BEFORE),
                person("G", "1995-01-01"),
            ],
            [child("A", "C"), child("A", "S", "1990-04-01"), child("S", "G")],
        ),
        heirs(
            ("C", "1/2", ["887(1)", "900(4)"]),
            ("G", "1/2", ["887(2)", "900(4)", "901(1)"]),
        ),
    ),
    Case(
        "adoptee_child_born_before_adoption_does_not",
        "縁組前に生まれた養子の子は被相続人の直系卑属でなく、代襲しない（887条2項ただし書）",
        family(
            [
                person("C", "1968-01-01"),
                person("S", "1970-01-01", BEFORE),
                person("G", "1995-01-01"),
            ],
            [child("A", "C"), child("A", "S", "2000-04-01"), child("S", "G")],
        ),
        heirs(("C", "1/1", ["887(1)"])),
    ),
    Case(
        "adoptee_child_born_before_adoption_next_rank",
        "縁組前の養子の子しかいないとき、相続は第三順位の兄弟姉妹と配偶者へ",
        family(
            [
                W,
                *PARENTS_DEAD,
                person("B", "1942-01-01"),
                person("S", "1970-01-01", BEFORE),
                person("G", "1995-01-01"),
            ],
            [
                spouse("A", "W"),
                *PARENT_LINKS,
                child("F", "B"),
                child("M", "B"),
                child("A", "S", "2000-04-01"),
                child("S", "G"),
            ],
        ),
        heirs(("W", "3/4", SPOUSE_3), ("B", "1/4", ["889(1)(2)", "900(3)"])),
    ),
    Case(
        "son_in_law_adoptee_child_born_before_adoption",
        "婿養子の縁組前の子でも、実子（娘）を通じて直系卑属なら代襲する（887条2項ただし書の反対解釈）",
        family(
            [
                W,
                person("H", "1963-01-01", BEFORE),
                person("D", "1965-01-01"),
                person("G", "1995-01-01"),
                person("G2", "2002-01-01"),
            ],
            [
                spouse("A", "W"),
                child("A", "D"),
                child("W", "D"),
                spouse("H", "D"),
                child("A", "H", "2000-01-01"),
                child("H", "G"),
                child("D", "G"),
                child("H", "G2"),
                child("D", "G2"),
            ],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("G", "1/8", ["887(2)", "900(1)", "900(4)", "901(1)"]),
            ("G2", "1/8", ["887(2)", "900(1)", "900(4)", "901(1)"]),
            ("D", "1/4", ["887(1)", "900(1)", "900(4)"]),
        ),
    ),
    Case(
        "grandchild_adopted_parent_alive",
        "孫養子: 親が生きていれば、孫は養子（子）としてのみ相続する",
        family(
            [person("C", "1965-01-01"), person("G", "1990-01-01")],
            [child("A", "C"), child("C", "G"), child("A", "G", "2000-01-01")],
        ),
        heirs(("C", "1/2", ["887(1)", "900(4)"]), ("G", "1/2", ["887(1)", "900(4)"])),
    ),
    Case(
        "grandchild_adopted_parent_predeceased",
        "孫養子で親が先に死亡: 養子としての相続分と代襲相続分を併せて取得する",
        family(
            [
                person("C", "1965-01-01", BEFORE),
                person("C2", "1968-01-01"),
                person("G", "1990-01-01"),
            ],
            [child("A", "C"), child("A", "C2"), child("C", "G"), child("A", "G", "2000-01-01")],
        ),
        heirs(
            ("G", "2/3", ["887(1)", "887(2)", "900(4)", "901(1)"]),
            ("C2", "1/3", ["887(1)", "900(4)"]),
        ),
    ),
    # Disqualification, disinheritance, renunciation.
    Case(
        "disqualified_child_represented",
        "欠格の子は相続人でないが、その子が代襲する（891条、887条2項）",
        family(
            [person("C1", "1968-01-01"), person("C2", "1970-01-01"), person("G", "1995-01-01")],
            [child("A", "C1"), child("A", "C2"), child("C2", "G")],
            disqualified=["C2"],
        ),
        heirs(
            ("C1", "1/2", ["887(1)", "900(4)"]),
            ("G", "1/2", ["887(2)", "891", "900(4)", "901(1)"]),
        ),
    ),
    Case(
        "disinherited_child_represented",
        "廃除された子の子が代襲する（892条、887条2項）",
        family(
            [W, person("C1", "1968-01-01"), person("C2", "1970-01-01"), person("G", "1995-01-01")],
            [spouse("A", "W"), child("A", "C1"), child("A", "C2"), child("C2", "G")],
            disinherited=["C2"],
        ),
        heirs(
            ("W", "1/2", SPOUSE_1),
            ("C1", "1/4", ["887(1)", "900(1)", "900(4)"]),
            ("G", "1/4", ["887(2)", "892", "900(1)", "900(4)", "901(1)"]),
        ),
    ),
    Case(
        "renouncing_child_not_represented",
        "相続放棄した子の子は代襲しない（939条）: 他の子が全部を取得",
        family(
            [person("C1", "1968-01-01"), person("C2", "1970-01-01"), person("G", "1995-01-01")],
            [child("A", "C1"), child("A", "C2"), child("C2", "G")],
            renounced=["C2"],
        ),
        heirs(("C1", "1/1", ["887(1)", "939"])),
    ),
    Case(
        "only_child_disqualified_grandchild_takes",
        "一人っ子が欠格: 孫が代襲し、第一順位のまま（配偶者2分の1）",
        family(
            [W, person("C", "1970-01-01"), person("G", "1995-01-01"), person("F", "1915-01-01")],
            [spouse("A", "W"), child("A", "C"), child("C", "G"), child("F", "A")],
            disqualified=["C"],
        ),
        heirs(("W", "1/2", SPOUSE_1), ("G", "1/2", ["887(2)", "891", "900(1)", "901(1)"])),
    ),
    Case(
        "only_child_renounces_parent_takes",
        "同じ家族で一人っ子が放棄: 孫は代襲せず、第二順位の父と配偶者へ（939条）",
        family(
            [W, person("C", "1970-01-01"), person("G", "1995-01-01"), person("F", "1915-01-01")],
            [spouse("A", "W"), child("A", "C"), child("C", "G"), child("F", "A")],
            renounced=["C"],
        ),
        heirs(
            ("W", "2/3", [*SPOUSE_2, "939"]),
            ("F", "1/3", ["889(1)(1)", "900(2)", "939"]),
        ),
    ),
    Case(
        "whole_first_rank_renounces",
        "子全員が放棄: 直系尊属（生存する母）と配偶者が相続（939条、889条1項1号）",
        family(
            [
                W,
                person("F", "1910-01-01", "1980-01-01"),
                person("M", "1918-01-01"),
                person("C1", "1968-01-01"),
                person("C2", "1970-01-01"),
            ],
            [spouse("A", "W"), *PARENT_LINKS, child("A", "C1"), child("A", "C2")],
            renounced=["C1", "C2"],
        ),
        heirs(
            ("W", "2/3", [*SPOUSE_2, "939"]),
            ("M", "1/3", ["889(1)(1)", "900(2)", "939"]),
        ),
    ),
    Case(
        "first_rank_renounces_ascendants_dead",
        "子が放棄、父母は死亡: 兄弟姉妹へ（889条1項2号）",
        family(
            [
                *PARENTS_DEAD,
                person("B1", "1938-01-01"),
                person("B2", "1943-01-01"),
                person("C", "1970-01-01"),
            ],
            [
                *PARENT_LINKS,
                child("F", "B1"),
                child("M", "B1"),
                child("F", "B2"),
                child("M", "B2"),
                child("A", "C"),
            ],
            renounced=["C"],
        ),
        heirs(
            ("B1", "1/2", ["889(1)(2)", "900(4)", "939"]),
            ("B2", "1/2", ["889(1)(2)", "900(4)", "939"]),
        ),
    ),
    Case(
        "everyone_but_spouse_renounces",
        "血族相続人が全員放棄: 配偶者が全部（939条、890条）",
        family(
            [W, *PARENTS_DEAD, person("C", "1970-01-01"), person("B", "1943-01-01")],
            [spouse("A", "W"), *PARENT_LINKS, child("A", "C"), child("F", "B"), child("M", "B")],
            renounced=["C", "B"],
        ),
        heirs(("W", "1/1", ["890", "939"])),
    ),
    Case(
        "spouse_renounces",
        "配偶者が放棄: 子が全部を均分（939条）",
        family(
            [W, person("C1", "1968-01-01"), person("C2", "1970-01-01")],
            [spouse("A", "W"), child("A", "C1"), child("A", "C2")],
            renounced=["W"],
        ),
        heirs(
            ("C1", "1/2", ["887(1)", "900(4)", "939"]),
            ("C2", "1/2", ["887(1)", "900(4)", "939"]),
        ),
    ),
    Case(
        "renouncing_grandchild_among_representatives",
        "代襲相続人の一人が放棄: その分は同じ株の他の代襲相続人へ",
        family(
            [
                person("C1", "1968-01-01"),
                person("C2", "1970-01-01", BEFORE),
                person("G1", "1995-01-01"),
                person("G2", "1998-01-01"),
            ],
            [child("A", "C1"), child("A", "C2"), child("C2", "G1"), child("C2", "G2")],
            renounced=["G1"],
        ),
        heirs(
            ("C1", "1/2", ["887(1)", "900(4)"]),
            ("G2", "1/2", ["887(2)", "900(4)", "901(1)", "939"]),
        ),
    ),
    Case(
        "disinherited_child_without_issue",
        "子なしの子が廃除: 第一順位に相続人なく、父と配偶者へ",
        family(
            [W, person("F", "1915-01-01"), person("C", "1970-01-01")],
            [spouse("A", "W"), child("F", "A"), child("A", "C")],
            disinherited=["C"],
        ),
        heirs(("W", "2/3", SPOUSE_2), ("F", "1/3", ["889(1)(1)", "900(2)"])),
    ),
    Case(
        "disqualified_spouse",
        "配偶者が欠格: 子が全部（891条）",
        family(
            [W, person("C", "1970-01-01")], [spouse("A", "W"), child("A", "C")], disqualified=["W"]
        ),
        heirs(("C", "1/1", ["887(1)"])),
    ),
    Case(
        "rerepresentation_through_disqualified_grandchild",
        "子が先に死亡し、代襲者の孫が欠格: 曾孫が再代襲（887条3項、891条）",
        family(
            [
                person("C", "1960-01-01", "2000-01-01"),
                person("G", "1985-01-01"),
                person("GG", "2010-01-01"),
                person("C2", "1962-01-01"),
            ],
            [child("A", "C"), child("C", "G"), child("G", "GG"), child("A", "C2")],
            disqualified=["G"],
        ),
        heirs(
            ("GG", "1/2", ["887(2)", "887(3)", "891", "900(4)", "901(1)"]),
            ("C2", "1/2", ["887(1)", "900(4)"]),
        ),
    ),
    Case(
        "spouse_and_children_renounce_mother_takes_all",
        "配偶者も子も放棄: 母が全部を相続（939条、889条1項1号）",
        family(
            [W, person("C", "1960-01-01"), person("M", "1918-01-01")],
            [spouse("A", "W"), child("A", "C"), child("M", "A")],
            renounced=["W", "C"],
        ),
        heirs(("M", "1/1", ["889(1)(1)", "939"])),
    ),
    # Lineal ascendants (889①一).
    Case(
        "spouse_and_both_parents",
        "子がなく父母が生存: 配偶者3分の2、父母各6分の1（900条2号）",
        family(
            [W, person("F", "1912-01-01"), person("M", "1918-01-01")],
            [spouse("A", "W"), *PARENT_LINKS],
        ),
        heirs(
            ("W", "2/3", SPOUSE_2),
            ("F", "1/6", ["889(1)(1)", "900(2)", "900(4)"]),
            ("M", "1/6", ["889(1)(1)", "900(2)", "900(4)"]),
        ),
    ),
    Case(
        "one_parent_dead_grandparent_alive",
        "父は死亡、母は生存: 母のみ（親等の近い者が先。父方の祖父は相続しない）",
        family(
            [
                person("F", "1910-01-01", "1980-01-01"),
                person("M", "1918-01-01"),
                person("GF", "1885-01-01"),
            ],
            [*PARENT_LINKS, child("GF", "F")],
        ),
        heirs(("M", "1/1", ["889(1)(1)"])),
    ),
    Case(
        "grandparents_when_parents_dead",
        "父母とも死亡: 祖父母が相続（889条1項1号）",
        family(
            [
                W,
                *PARENTS_DEAD,
                person("GF", "1885-01-01"),
                person("GM", "1890-01-01"),
                person("GX", "1886-01-01", "1950-01-01"),
            ],
            [spouse("A", "W"), *PARENT_LINKS, child("GF", "F"), child("GX", "M"), child("GM", "M")],
        ),
        heirs(
            ("W", "2/3", SPOUSE_2),
            ("GF", "1/6", ["889(1)(1)", "900(2)", "900(4)"]),
            ("GM", "1/6", ["889(1)(1)", "900(2)", "900(4)"]),
        ),
    ),
    Case(
        "parents_renounce_grandparent_takes",
        "父母が放棄: 次の親等の祖母が相続（939条）",
        family(
            [person("F", "1912-01-01"), person("M", "1918-01-01"), person("GM", "1892-01-01")],
            [*PARENT_LINKS, child("GM", "M")],
            renounced=["F", "M"],
        ),
        heirs(("GM", "1/1", ["889(1)(1)", "939"])),
    ),
    Case(
        "birth_and_adoptive_parents",
        "普通養子の被相続人: 実父母と養親が同じ親等で均分",
        family(
            [person("F", "1912-01-01"), person("M", "1918-01-01"), person("P", "1905-01-01")],
            [*PARENT_LINKS, child("P", "A", "1950-01-01")],
        ),
        heirs(
            ("P", "1/3", ["889(1)(1)", "900(4)"]),
            ("F", "1/3", ["889(1)(1)", "900(4)"]),
            ("M", "1/3", ["889(1)(1)", "900(4)"]),
        ),
    ),
    Case(
        "great_grandparent",
        "父母・祖父母が死亡し、曾祖母が生存: 曾祖母が相続",
        family(
            [
                *PARENTS_DEAD,
                person("GF", "1885-01-01", "1960-01-01"),
                person("GGM", "1862-01-01"),
            ],
            [*PARENT_LINKS, child("GF", "F"), child("GGM", "GF")],
        ),
        heirs(("GGM", "1/1", ["889(1)(1)"])),
    ),
    # Siblings (889①二, ②) and half blood (900四 ただし書).
    Case(
        "spouse_and_two_siblings",
        "配偶者と兄弟姉妹二人: 配偶者4分の3（900条3号）",
        family(
            [W, *PARENTS_DEAD, person("B1", "1938-01-01"), person("B2", "1943-01-01")],
            [
                spouse("A", "W"),
                *PARENT_LINKS,
                child("F", "B1"),
                child("M", "B1"),
                child("F", "B2"),
                child("M", "B2"),
            ],
        ),
        heirs(
            ("W", "3/4", SPOUSE_3),
            ("B1", "1/8", ["889(1)(2)", "900(3)", "900(4)"]),
            ("B2", "1/8", ["889(1)(2)", "900(3)", "900(4)"]),
        ),
    ),
    Case(
        "full_and_half_blood_siblings",
        "父母の一方のみを同じくする兄弟姉妹は全血の2分の1（900条4号ただし書）",
        family(
            [
                *PARENTS_DEAD,
                person("M2", "1920-01-01", "1995-01-01"),
                person("B", "1938-01-01"),
                person("H", "1950-01-01"),
            ],
            [*PARENT_LINKS, child("F", "B"), child("M", "B"), child("F", "H"), child("M2", "H")],
        ),
        heirs(
            ("B", "2/3", ["889(1)(2)", "900(4)"]),
            ("H", "1/3", ["889(1)(2)", "900(4)", "900(4)-proviso"]),
        ),
    ),
    Case(
        "spouse_full_and_half_blood_siblings",
        "配偶者4分の3、全血の兄6分の1、半血の弟12分の1",
        family(
            [
                W,
                *PARENTS_DEAD,
                person("M2", "1920-01-01", "1995-01-01"),
                person("B", "1938-01-01"),
                person("H", "1950-01-01"),
            ],
            [
                spouse("A", "W"),
                *PARENT_LINKS,
                child("F", "B"),
                child("M", "B"),
                child("F", "H"),
                child("M2", "H"),
            ],
        ),
        heirs(
            ("W", "3/4", SPOUSE_3),
            ("B", "1/6", ["889(1)(2)", "900(3)", "900(4)"]),
            ("H", "1/12", ["889(1)(2)", "900(3)", "900(4)", "900(4)-proviso"]),
        ),
    ),
    Case(
        "nephews_represent_sibling",
        "先に死亡した兄弟姉妹の子（甥姪）が代襲（889条2項、901条2項）",
        family(
            [
                W,
                *PARENTS_DEAD,
                person("B1", "1938-01-01"),
                person("B2", "1943-01-01", BEFORE),
                person("N1", "1970-01-01"),
                person("N2", "1972-01-01"),
            ],
            [
                spouse("A", "W"),
                *PARENT_LINKS,
                child("F", "B1"),
                child("M", "B1"),
                child("F", "B2"),
                child("M", "B2"),
                child("B2", "N1"),
                child("B2", "N2"),
            ],
        ),
        heirs(
            ("W", "3/4", SPOUSE_3),
            ("B1", "1/8", ["889(1)(2)", "900(3)", "900(4)"]),
            ("N1", "1/16", ["889(1)(2)", "889(2)", "900(3)", "900(4)", "901(2)"]),
            ("N2", "1/16", ["889(1)(2)", "889(2)", "900(3)", "900(4)", "901(2)"]),
        ),
    ),
    Case(
        "no_rerepresentation_for_siblings",
        "兄弟姉妹の代襲は甥姪まで: 甥の子は代襲しない（889条2項は887条3項を準用しない）",
        family(
            [
                *PARENTS_DEAD,
                person("B1", "1938-01-01", "2000-01-01"),
                person("N", "1965-01-01", BEFORE),
                person("GN", "1990-01-01"),
                person("B2", "1943-01-01"),
            ],
            [
                *PARENT_LINKS,
                child("F", "B1"),
                child("M", "B1"),
                child("B1", "N"),
                child("N", "GN"),
                child("F", "B2"),
                child("M", "B2"),
            ],
        ),
        heirs(("B2", "1/1", ["889(1)(2)"])),
    ),
    Case(
        "nephew_of_full_sibling_and_half_sibling",
        "全血の兄の子（代襲）3分の2、半血の妹3分の1",
        family(
            [
                *PARENTS_DEAD,
                person("M2", "1920-01-01", "1995-01-01"),
                person("B", "1938-01-01", BEFORE),
                person("N", "1965-01-01"),
                person("H", "1950-01-01"),
            ],
            [
                *PARENT_LINKS,
                child("F", "B"),
                child("M", "B"),
                child("B", "N"),
                child("F", "H"),
                child("M2", "H"),
            ],
        ),
        heirs(
            ("N", "2/3", ["889(1)(2)", "889(2)", "900(4)", "901(2)"]),
            ("H", "1/3", ["889(1)(2)", "900(4)", "900(4)-proviso"]),
        ),
    ),
    Case(
        "disqualified_sibling_represented",
        "欠格の兄弟の子が代襲（891条、889条2項）",
        family(
            [W, *PARENTS_DEAD, person("B", "1938-01-01"), person("N", "1965-01-01")],
            [spouse("A", "W"), *PARENT_LINKS, child("F", "B"), child("M", "B"), child("B", "N")],
            disqualified=["B"],
        ),
        heirs(
            ("W", "3/4", SPOUSE_3),
            ("N", "1/4", ["889(1)(2)", "889(2)", "891", "900(3)", "901(2)"]),
        ),
    ),
    Case(
        "sibling_adopted_nephew_born_before",
        "父の養子となった兄弟の縁組前の子は被相続人の傍系血族でなく、代襲しない",
        family(
            [
                *PARENTS_DEAD,
                person("S", "1950-01-01", BEFORE),
                person("N", "1975-01-01"),
                person("B", "1938-01-01"),
            ],
            [
                *PARENT_LINKS,
                child("F", "S", "1978-01-01"),
                child("S", "N"),
                child("F", "B"),
                child("M", "B"),
            ],
        ),
        heirs(("B", "1/1", ["889(1)(2)"])),
    ),
    # Deaths together (32条の2) and the child in the womb (886).
    Case(
        "spouse_died_together",
        "被相続人と配偶者が同時死亡: 互いに相続しない（32条の2）",
        family(
            [person("W", "1945-05-05", DEATH), person("C", "1970-01-01")],
            [spouse("A", "W"), child("A", "C")],
            simultaneous_deaths=[["A", "W"]],
        ),
        heirs(("C", "1/1", ["887(1)"])),
    ),
    Case(
        "child_died_together_represented",
        "子と同時死亡: 子は相続しないが、孫が代襲する（32条の2、887条2項）",
        family(
            [W, person("C", "1970-01-01", DEATH), person("G", "1995-01-01")],
            [spouse("A", "W"), child("A", "C"), child("C", "G")],
            simultaneous_deaths=[["A", "C"]],
        ),
        heirs(("W", "1/2", SPOUSE_1), ("G", "1/2", ["32-2", "887(2)", "900(1)", "901(1)"])),
    ),
    Case(
        "same_day_death_presumed_together",
        "同じ日に死亡し先後が不明: 同時死亡と推定（32条の2）",
        family(
            [W, person("C", "1970-01-01", DEATH), person("G", "1995-01-01")],
            [spouse("A", "W"), child("A", "C"), child("C", "G")],
        ),
        heirs(("W", "1/2", SPOUSE_1), ("G", "1/2", ["32-2", "887(2)", "900(1)", "901(1)"])),
    ),
    Case(
        "unborn_child_born_alive",
        "胎児は生きて生まれれば相続人（886条1項）",
        family([W], [spouse("A", "W")], unborn=[{"id": "F", "parent": "A", "born_alive": True}]),
        heirs(("W", "1/2", SPOUSE_1), ("F", "1/2", ["886(1)", "887(1)", "900(1)"])),
    ),
    Case(
        "unborn_child_stillborn",
        "死産の胎児は相続人でない（886条2項）: 配偶者と母へ",
        family(
            [W, person("M", "1918-01-01")],
            [spouse("A", "W"), child("M", "A")],
            unborn=[{"id": "F", "parent": "A", "born_alive": False}],
        ),
        heirs(("W", "2/3", SPOUSE_2), ("M", "1/3", ["889(1)(1)", "900(2)"])),
    ),
    Case(
        "unborn_grandchild_represents",
        "胎児の孫が先に死亡した子を代襲（886条、887条2項）",
        family(
            [person("C", "1970-01-01", "2025-01-10"), person("C2", "1972-01-01")],
            [child("A", "C"), child("A", "C2")],
            unborn=[{"id": "U", "parent": "C", "born_alive": True}],
        ),
        heirs(
            ("U", "1/2", ["886(1)", "887(2)", "900(4)", "901(1)"]),
            ("C2", "1/2", ["887(1)", "900(4)"]),
        ),
    ),
    Case(
        "half_sibling_in_the_womb",
        "父の後妻が懐胎中に父と被相続人が死亡: 胎児の異母弟が兄弟姉妹として相続（886条）",
        family(
            [
                person("F", "1960-01-01", "2025-02-01"),
                person("M", "1962-01-01", "2010-01-01"),
                person("N", "1985-01-01"),
            ],
            [child("F", "A"), child("M", "A"), spouse("F", "N")],
            unborn=[{"id": "U", "parent": "F", "born_alive": True}],
            decedent_born="1990-01-01",
        ),
        heirs(("U", "1/1", ["886(1)", "889(1)(2)"])),
    ),
    # No heir.
    Case("no_relatives", "親族の記録がない: 相続人なし", family([], []), heirs()),
    Case(
        "everyone_predeceased",
        "配偶者・父母・兄弟姉妹が先に死亡し、甥姪もいない: 相続人なし",
        family(
            [person("W", "1945-05-05", BEFORE), *PARENTS_DEAD, person("B", "1943-01-01", BEFORE)],
            [spouse("A", "W"), *PARENT_LINKS, child("F", "B"), child("M", "B")],
        ),
        heirs(),
    ),
    Case(
        "all_siblings_renounce",
        "兄弟姉妹が全員放棄: 相続人なし（939条）",
        family(
            [*PARENTS_DEAD, person("B", "1943-01-01"), person("N", "1970-01-01")],
            [*PARENT_LINKS, child("F", "B"), child("M", "B"), child("B", "N")],
            renounced=["B"],
        ),
        heirs(),
    ),
    Case(
        "divorced_spouse_sibling_inherits",
        "離婚した元配偶者は相続人でない: 兄弟姉妹が全部",
        family(
            [person("E", "1945-01-01"), *PARENTS_DEAD, person("B", "1943-01-01")],
            [
                spouse("A", "E", divorced_on="2000-01-01"),
                *PARENT_LINKS,
                child("F", "B"),
                child("M", "B"),
            ],
        ),
        heirs(("B", "1/1", ["889(1)(2)"])),
    ),
]
