"""The 法定相続情報一覧図 (chart of legal heirs): a layout computed once, drawn as SVG or PDF.

The layout follows the chart the Legal Affairs Bureau accepts, in Japanese: the decedent on
the left with 最後の住所, 出生 and 死亡; a double line to the spouse; a line from the decedent
to a trunk and from it to each blood heir; each heir with 住所 (when known), 出生, 続柄, name
and 相続分. A representative names the person represented. Coordinates are points (1/72 in)
from the top left; the page is A4 wide and as tall as the heirs need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from xml.sax.saxutils import escape

from kiban.blocks.inheritance.engine import Heir, HeirsResult, Relationship
from kiban.blocks.inheritance.family import Family, Person
from kiban.platform.i18n import day_wareki

PAGE_WIDTH = 595.0  # A4, points.
PAGE_HEIGHT = 842.0
MARGIN = 40.0
LINE = 14.0  # Height of one line of text in a box.
ENTRY_WIDTH = PAGE_WIDTH - MARGIN - 330.0  # An heir's column, to the right margin.
DECEDENT_WIDTH = 230.0  # The decedent's column, to the left of the trunk.
FONT_SIZE = 10.0
TITLE_SIZE = 16.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # Baseline.
    text: str
    size: float = FONT_SIZE
    bold: bool = False
    anchor: str = "start"  # "start" or "middle".


@dataclass(frozen=True)
class Stroke:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    title: str
    description: str
    texts: tuple[Text, ...]
    strokes: tuple[Stroke, ...]


def share_ja(share: Fraction) -> str:
    """``1/2`` as a Japanese document writes it: ``2分の1``; the whole estate is ``全部``."""
    if share == 1:
        return "全部"
    return f"{share.denominator}分の{share.numerator}"


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in points: full width for Japanese, about half for ASCII."""
    return sum(size * (0.55 if ord(char) < 0x2000 else 1.0) for char in text)


def wrap(text: str, width: float, size: float, indent: str = "　　　") -> list[str]:
    """``text`` cut into lines no wider than ``width``; continuation lines are indented."""
    lines: list[str] = []
    current = ""
    for char in text:
        if current and text_width(current + char, size) > width:
            lines.append(current)
            current = indent
        current += char
    lines.append(current)
    return lines


def _day(day: date | None) -> str:
    return day_wareki(day) if day else "（不明）"


def _label(person: Person) -> str:
    return person.name or person.id


def relationship_ja(heir: Heir, family: Family) -> str:  # noqa: PLR0911 — one per kind.
    """The 続柄 of ``heir`` as the chart writes it."""
    person = family.people[heir.id]
    decedent = family.people[family.decedent]
    male, female = person.sex == "male", person.sex == "female"
    match heir.relationship:
        case Relationship.SPOUSE:
            return "夫" if male else "妻" if female else "配偶者"
        case Relationship.CHILD:
            return "子"
        case Relationship.DESCENDANT:
            name = {2: "孫", 3: "曾孫", 4: "玄孫"}.get(heir.degree, "直系卑属")
            return f"{name}（代襲相続人）"
        case Relationship.ASCENDANT:
            pair = {1: ("父", "母", "親"), 2: ("祖父", "祖母", "祖父母")}.get(heir.degree)
            if pair is None:
                return "直系尊属"
            return pair[0] if male else pair[1] if female else pair[2]
        case Relationship.SIBLING:
            older = (
                person.born_on is not None
                and decedent.born_on is not None
                and person.born_on < decedent.born_on
            )
            if male:
                name = "兄" if older else "弟"
            elif female:
                name = "姉" if older else "妹"
            else:
                name = "兄弟姉妹"
            return f"{name}（半血）" if heir.half_blood else name
        case Relationship.SIBLING_CHILD:
            name = "甥" if male else "姪" if female else "甥姪"
            return f"{name}（代襲相続人）"


def _box_lines(heir: Heir, family: Family) -> list[Text]:
    """The lines of an heir's entry, relative to the entry's top left."""
    person = family.people[heir.id]
    lines: list[Text] = []
    y = LINE
    if person.address:
        for part in wrap(f"住所　{person.address}", ENTRY_WIDTH, FONT_SIZE):
            lines.append(Text(0, y, part))
            y += LINE
    if person.in_womb and person.born_on is None:
        lines.append(Text(0, y, "出生　（被相続人の死亡時に胎児）"))
    else:
        lines.append(Text(0, y, f"出生　{_day(person.born_on)}"))
    y += LINE
    lines.append(Text(0, y, f"（{relationship_ja(heir, family)}）"))
    y += LINE + 2
    lines.append(Text(0, y, _label(person), size=12, bold=True))
    y += LINE
    lines.append(Text(0, y, f"相続分　{share_ja(heir.share)}"))
    y += LINE
    if heir.represents:
        names = "、".join(_label(family.people[p]) for p in heir.represents)
        lines.append(Text(0, y, f"被代襲者　{names}", size=8))
    return lines


def layout_chart(result: HeirsResult, family: Family, *, made_on: date) -> Layout:
    """Place the decedent, the spouse and every heir on the page."""
    decedent = family.people[family.decedent]
    heading = f"被相続人　{_label(decedent)}　法定相続情報"
    texts: list[Text] = [Text(PAGE_WIDTH / 2, MARGIN + 10, heading, TITLE_SIZE, True, "middle")]
    strokes: list[Stroke] = []

    top = MARGIN + 60
    left = MARGIN
    decedent_lines = [
        *wrap(f"最後の住所　{decedent.address or '（記載なし）'}", DECEDENT_WIDTH, 9),
        f"出生　{_day(decedent.born_on)}",
        f"死亡　{_day(decedent.died_on)}",
        "（被相続人）",
    ]
    for i, line in enumerate(decedent_lines):
        texts.append(Text(left, top + LINE * (i + 1), line, size=9))
    name_y = top + LINE * (len(decedent_lines) + 1) + 2
    texts.append(Text(left, name_y, _label(decedent), size=12, bold=True))
    anchor_y = name_y - 4  # Lines leave the decedent at the height of the name.
    name_right = left + 150

    column = 330.0
    trunk = 280.0
    gap = 2 * LINE  # Between one heir's entry and the next.
    y = top
    spouse = next((h for h in result.heirs if h.relationship is Relationship.SPOUSE), None)
    blood = [h for h in result.heirs if h.relationship is not Relationship.SPOUSE]
    if spouse is not None:
        lines = _box_lines(spouse, family)
        texts.extend(Text(column + t.x, y + t.y, t.text, t.size, t.bold) for t in lines)
        spouse_y = y + next(t for t in lines if t.bold).y - 4
        # 婚姻 is drawn as a double line, as on the bureau's examples.
        for offset in (-1.5, 1.5):
            strokes.append(Stroke(name_right, anchor_y + offset, column - 8, anchor_y + offset))
            strokes.append(Stroke(column - 8, anchor_y + offset, column - 8, spouse_y + offset))
        y += lines[-1].y + gap
    branch_ys: list[float] = []
    for heir in blood:
        lines = _box_lines(heir, family)
        texts.extend(Text(column + t.x, y + t.y, t.text, t.size, t.bold) for t in lines)
        name_line = next(t for t in lines if t.bold)
        branch_ys.append(y + name_line.y - 4)
        y += lines[-1].y + gap
    if branch_ys:
        start_y = anchor_y if spouse is None else anchor_y + 1.5
        strokes.append(Stroke(name_right, start_y + 8, trunk, start_y + 8))
        strokes.append(
            Stroke(trunk, min(start_y + 8, *branch_ys), trunk, max(start_y + 8, *branch_ys))
        )
        strokes.extend(Stroke(trunk, by, column - 8, by) for by in branch_ys)
    if result.none:
        texts.append(Text(column, top + LINE, "相続人はいません。", size=11, bold=True))
        y += LINE + gap

    footer_y = max(y, name_y + 3 * LINE) + 20
    texts.append(Text(MARGIN, footer_y, "以下余白", size=9))
    texts.append(Text(MARGIN, footer_y + LINE, f"作成日　{day_wareki(made_on)}", size=9))
    texts.append(
        Text(
            MARGIN,
            footer_y + 2 * LINE,
            "相続分は民法900条・901条による法定相続分です（kiban が計算）。",
            size=8,
        )
    )
    height = max(PAGE_HEIGHT, footer_y + 2 * LINE + MARGIN)

    if result.none:
        description = f"被相続人 {_label(decedent)} には相続人がいません。"
    else:
        description = f"被相続人 {_label(decedent)}（{_day(decedent.died_on)}死亡）の相続人: " + (
            "、".join(
                f"{_label(family.people[h.id])}（{relationship_ja(h, family)}、"
                f"相続分 {share_ja(h.share)}）"
                for h in result.heirs
            )
        )
    return Layout(
        width=PAGE_WIDTH,
        height=height,
        title=heading.replace("　", " "),
        description=description,
        texts=tuple(texts),
        strokes=tuple(strokes),
    )


def render_svg(layout: Layout) -> str:
    """The chart as a standalone SVG document, with a title and description for assistive
    technology."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:g}pt" '
        f'height="{layout.height:g}pt" viewBox="0 0 {layout.width:g} {layout.height:g}" '
        'role="img" aria-labelledby="chart-title chart-desc" lang="ja">',
        f'<title id="chart-title">{escape(layout.title)}</title>',
        f'<desc id="chart-desc">{escape(layout.description)}</desc>',
        f'<rect x="0" y="0" width="{layout.width:g}" height="{layout.height:g}" fill="#fff"/>',
        '<g stroke="#000" stroke-width="0.8" fill="none">',
    ]
    parts.extend(
        f'<line x1="{s.x1:g}" y1="{s.y1:g}" x2="{s.x2:g}" y2="{s.y2:g}"/>' for s in layout.strokes
    )
    parts.append("</g>")
    parts.append(
        "<g fill=\"#000\" font-family=\"'Noto Sans CJK JP', 'Hiragino Kaku Gothic ProN', "
        "'Yu Gothic', sans-serif\">"
    )
    for text in layout.texts:
        weight = ' font-weight="bold"' if text.bold else ""
        anchor = ' text-anchor="middle"' if text.anchor == "middle" else ""
        parts.append(
            f'<text x="{text.x:g}" y="{text.y:g}" font-size="{text.size:g}"{weight}{anchor}>'
            f"{escape(text.text)}</text>"
        )
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
