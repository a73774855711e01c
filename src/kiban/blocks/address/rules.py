"""Named normalization rules of the address normalizer, each a small pure function.

The normalizer (:mod:`kiban.blocks.address.normalizer`) applies them in this order:

1. :func:`cap_length` - at most :data:`MAX_INPUT` characters are read;
2. :func:`nfkc` - full-width letters, digits and signs become ASCII, half-width katakana
   becomes full-width; ideographic variation selectors are dropped; odd spaces become one
   ASCII space;
3. :func:`extract_postal_code` - ``〒123-4567`` or ``1234567`` at the start;
4. :func:`normalize_dashes` - every dash variant used as a separator becomes ``-``, while the
   long vowel mark inside a katakana word stays;
5. :func:`fold` - the canonical key used to compare the input with registry names: old and
   variant kanji (:mod:`kiban.blocks.address.variants`), ヶ/ケ/ヵ/カ/が, small kana, の/ノ/之
   and kanji numerals (as digits) are folded, 大字/小字/字 and spaces dropped, 通り is 通.
   Registry names get the same key from :func:`fold_name`, so answers always use the
   registry's spelling;
6. :func:`kyoto_street_end` - Kyoto's street directions (``堀川通松原下ル``) before the town;
7. :func:`parse_chome` - ``3丁目``, ``3丁``, ``第3地割`` (岩手), ``3-16`` in a town that exists
   only with 丁目 (:func:`parse_leading_chome`), or ``3-4-5`` in a town with
   丁目, after the town; :func:`jo_short_form` and :func:`parse_bare_chome` read Sapporo's
   ``北1西6`` as 北一条西六丁目;
8. :func:`parse_block` - ``2番3号``, ``2-3``, ``5番地の3``, ``3番A`` (lettered blocks),
   ``二番地三`` (kanji numerals become digits) into numbered parts, the rest being the
   building and room.

:func:`kanji_to_int` and :func:`int_to_kanji` convert numbers both ways: town names and 丁目
keep kanji (``一丁目``), block and house numbers become digits.

Every rule runs in time linear in its input: no regular expression here can backtrack
without bound (each pattern is anchored and matches a fixed shape).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kiban.blocks.address.variants import variant_map

MAX_INPUT = 1000
"""Characters of one input that are read; the rest goes to the remainder untouched."""

KANJI_DIGITS = "〇一二三四五六七八九"
_KANJI_DIGIT_VALUE = {c: i for i, c in enumerate(KANJI_DIGITS)} | {"零": 0}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
KANJI_NUMERAL_CHARS = frozenset(_KANJI_DIGIT_VALUE) | frozenset(_KANJI_UNITS)

DASHES = frozenset("-‐‑‒–—―−－﹣─━⁃﹘⎯⏤ｰー")
"""Characters that people type as the hyphen between numbers."""
_LONG_VOWEL = frozenset("ーｰ")

_SPACE = re.compile(r"[\s\u3000\u00a0\u200b]+")
_POSTAL = re.compile(r"(?:〒|郵便番号|\u3012)?\s*([0-9]{3})-?([0-9]{4})(?![0-9])\s*")


def cap_length(text: str, limit: int = MAX_INPUT) -> tuple[str, str]:
    """``(head, cut)``: the first ``limit`` characters and what was cut off."""
    return text[:limit], text[limit:]


_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def drop_variation_selectors(text: str) -> str:
    """``text`` without ideographic variation selectors (U+E0100–U+E01EF, U+FE00–U+FE0F):
    葛\U000e0100 is 葛 to the registry, which names towns by character, not by glyph."""
    if _VARIATION_SELECTORS.search(text) is None:
        return text
    return _VARIATION_SELECTORS.sub("", text)


def nfkc(text: str) -> str:
    """NFKC (full-width forms to ASCII, half-width kana to full-width), variation selectors
    dropped, spaces collapsed to one ASCII space and trimmed, control characters dropped."""
    text = drop_variation_selectors(unicodedata.normalize("NFKC", text))
    if not text.isprintable():
        text = "".join(c if c.isprintable() else " " for c in text)
    return _SPACE.sub(" ", text).strip()


def extract_postal_code(text: str) -> tuple[str | None, str]:
    """``(postal_code, rest)`` when ``text`` (already NFKC) starts with a postal code:
    ``〒100-0005 東京都…`` or ``1000005 東京都…``; else ``(None, text)``."""
    match = _POSTAL.match(text)
    if match is None:
        return None, text
    return match.group(1) + match.group(2), text[match.end() :]


def _is_kana(char: str) -> bool:
    return bool(char) and "\u3041" <= char <= "\u30ff" and char != "・"


def normalize_dashes(text: str) -> str:
    """Dash variants become ``-`` where they separate, but ``ー`` after kana is the long vowel
    mark of a word (``センター``) and stays."""
    if not any(c in DASHES for c in text):
        return text
    out: list[str] = []
    previous = ""
    for char in text:
        mapped = char
        if char in DASHES:
            long_vowel = char in _LONG_VOWEL and (_is_kana(previous) or previous == "ー")
            mapped = "ー" if long_vowel else "-"
        out.append(mapped)
        previous = mapped
    return "".join(out)


def kanji_to_int(numeral: str) -> int:
    """The value of a kanji numeral: ``二十一`` → 21, ``百五`` → 105, ``一〇五`` → 105.

    Raises :class:`ValueError` on anything else (or an empty string).
    """
    if not numeral or any(c not in KANJI_NUMERAL_CHARS for c in numeral):
        raise ValueError(numeral)
    if not any(c in _KANJI_UNITS for c in numeral):
        # Digit by digit, as in 一〇五.
        return int("".join(str(_KANJI_DIGIT_VALUE[c]) for c in numeral))
    total = 0
    pending = -1
    for char in numeral:
        if char in _KANJI_UNITS:
            total += (1 if pending < 0 else pending) * _KANJI_UNITS[char]
            pending = -1
        else:
            pending = (0 if pending < 0 else pending * 10) + _KANJI_DIGIT_VALUE[char]
    return total + max(pending, 0)


def int_to_kanji(number: int) -> str:
    """Addresses' way of writing 1–9999 in kanji: 1 → 一, 10 → 十, 21 → 二十一, 105 → 百五."""
    if not 1 <= number <= 9999:
        raise ValueError(number)
    parts: list[str] = []
    for unit, mark in ((1000, "千"), (100, "百"), (10, "十")):
        count, number = divmod(number, unit)
        if count:
            parts.append(("" if count == 1 else KANJI_DIGITS[count]) + mark)
    if number:
        parts.append(KANJI_DIGITS[number])
    return "".join(parts)


def _kana_table() -> dict[str, str]:
    table: dict[str, str] = {}
    # ヶ (and ケ, ヵ, カ, が, which people write for it) are one letter to the matcher.
    for char in "ヶケヵカがゖゕ":
        table[char] = "ケ"
    small = "ぁあぃいぅうぇえぉおゃやゅゆょよゎわァアィイゥウェエォオャヤュユョヨヮワ"
    for i in range(0, len(small), 2):
        table[small[i]] = small[i + 1]
    for char in "っつッ":
        table[char] = "ツ"
    # の, ノ and 之 are written for one another in place names (虎ノ門, 虎の門).
    for char in "ノ之乃":
        table[char] = "の"
    table["ヱ"] = "エ"
    table["ヰ"] = "イ"
    return table


def fold_table() -> dict[str, str]:
    """Character folding of :func:`fold`: variant kanji to one form, kana letters that are
    written for each other to one letter."""
    table = dict(variant_map())
    table.update(_kana_table())
    return table


_FOLD = fold_table()


_DROPPED = frozenset("字")
_DROPPED_AFTER = frozenset("りリ")


def fold(text: str) -> tuple[str, list[int]]:
    """The canonical key of ``text`` (already NFKC and dash-normalised) and, for each
    character of the key, the index in ``text`` it comes from (for a kanji numeral run, its
    first character, and its last one for the last digit).

    Variant kanji and kana are folded (:func:`fold_table`), runs of kanji numerals become
    digits (``一丁目`` → ``1丁目``, ``二十`` → ``20``), spaces are dropped, except that a space
    after a digit is kept as a boundary, so ``1-2 405`` does not become ``1-2405``. The
    optional marks 大字, 小字 and 字 are dropped wherever they are (``東山町大字石山`` is
    written ``東山町石山`` by the registry), and ``通り`` is ``通``.
    """
    key: list[str] = []
    positions: list[int] = []
    table = _FOLD
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in KANJI_NUMERAL_CHARS:
            j = i + 1
            while j < n and text[j] in KANJI_NUMERAL_CHARS:
                j += 1
            digits = str(kanji_to_int(text[i:j]))
            key.extend(digits)
            # The run's last digit points at its last numeral, so that a slice of the text
            # ending after the number takes the whole run.
            positions.extend([i] * (len(digits) - 1))
            positions.append(j - 1)
            i = j
            continue
        if char == " ":
            if key and key[-1].isdigit():
                key.append(" ")
                positions.append(i)
            i += 1
            continue
        if char in _DROPPED or (char in _DROPPED_AFTER and key and key[-1] == "通"):
            i += 1
            continue
        if char in "大小" and text.startswith("字", i + 1):
            i += 2
            continue
        key.append(table.get(char, char))
        positions.append(i)
        i += 1
    return "".join(key), positions


_DASH_SEARCH = re.compile("[" + re.escape("".join(sorted(DASHES))) + "]")
_NUMERAL_RUN = re.compile("[" + "".join(sorted(KANJI_NUMERAL_CHARS)) + "]+")
_TRANSLATE = str.maketrans(_FOLD)


def _numeral_value(match: re.Match[str]) -> str:
    return str(kanji_to_int(match.group()))


def numerals_to_digits(text: str) -> str:
    """Kanji numeral runs as digits: ``北一条西`` → ``北1条西``."""
    return _NUMERAL_RUN.sub(_numeral_value, text)


def fold_name(name: str) -> str:
    """The key of a registry name (NFKC first: KEN_ALL writes digits full-width): the same
    key :func:`fold` gives, computed with ``str.translate`` because the index folds every
    name of the registry."""
    text = drop_variation_selectors(unicodedata.normalize("NFKC", name))
    if _DASH_SEARCH.search(text) is not None:
        text = normalize_dashes(text)
    if not text.isprintable() or " " in text or "\u3000" in text:
        text = "".join(nfkc(text).split())
    if "字" in text:
        text = text.replace("大字", "").replace("小字", "").replace("字", "")
    if "通" in text:
        text = text.replace("通り", "通").replace("通リ", "通")
    return _NUMERAL_RUN.sub(_numeral_value, text.translate(_TRANSLATE))


# --- before the municipality ---------------------------------------------------------------

_REGION = re.compile(r"[^0-9 -]{1,8}?(?:総合振興局|振興局|支庁|諸島|列島|群島|島)")


def region_end(key: str, start: int) -> int:
    """Where an island or a subprefecture written before the municipality ends (``八丈島``
    of 八丈島八丈町, ``石狩振興局`` of 石狩振興局石狩市), or 0 when none starts at ``start``."""
    match = _REGION.match(key, start)
    return match.end() if match is not None else 0


# --- what follows the town ------------------------------------------------------------------

_CHOME = re.compile(r"第?([0-9]{1,3})(丁目|丁(?!目)|地割)")
_HYPHEN_CHOME = re.compile(r"([0-9]{1,3})-(?=[0-9])")


@dataclass(frozen=True, slots=True)
class Chome:
    """A 丁目 (or 岩手's 地割) given in the input: its number, its kind, and where it ends in
    the key. ``explicit`` is false when it was read from ``3-4-5`` rather than ``3丁目``."""

    number: int
    kind: str  # "chome" or "jiwari"
    end: int
    explicit: bool = True

    @property
    def text(self) -> str:
        """As the registry writes it: ``三丁目``, ``第三地割``."""
        if self.kind == "jiwari":
            return f"第{int_to_kanji(self.number)}地割"
        return f"{int_to_kanji(self.number)}丁目"


def parse_chome(key: str, start: int, *, hyphenated: bool = False) -> Chome | None:
    """The 丁目 or 地割 at ``start`` of a folded key: ``3丁目``, ``3丁``, ``第3地割``.

    With ``hyphenated`` (the town is divided into 丁目), ``3-4-5`` also gives 丁目 3, but only
    when three numbers follow: ``3-4`` is a block and a house number, and a 丁目 is never made
    up from a block number.
    """
    match = _CHOME.match(key, start)
    if match is not None:
        number = int(match.group(1))
        if number == 0:
            return None
        kind = "jiwari" if match.group(2) == "地割" else "chome"
        return Chome(number, kind, match.end())
    if hyphenated:
        match = _HYPHEN_CHOME.match(key, start)
        if match is not None and int(match.group(1)) > 0:
            rest = parse_block(key, match.end())
            if len(rest.parts) >= 2 and rest.separators[0] == "-":
                return Chome(int(match.group(1)), "chome", match.end(), explicit=False)
    return None


_JO_TOWN = re.compile(r"([東西南北])([0-9]{1,2})条([東西南北])")
_BARE_CHOME = re.compile(r"([0-9]{1,2})(?![0-9])-?")


def jo_short_form(key: str) -> str | None:
    """The short form of a Hokkaido 条 town's key, as people write Sapporo addresses:
    ``北1条西`` → ``北1西`` (then ``北1西6`` is 北一条西六丁目); ``None`` for other names."""
    match = _JO_TOWN.fullmatch(key)
    if match is None:
        return None
    return f"{match.group(1)}{match.group(2)}{match.group(3)}"


def parse_bare_chome(key: str, start: int) -> Chome | None:
    """The 丁目 of the short form ``北1西6``: the number right after the town is the 丁目 by
    that convention (``北1西6-2-3``); ``0`` is none."""
    match = _BARE_CHOME.match(key, start)
    if match is None or int(match.group(1)) == 0:
        return None
    return Chome(int(match.group(1)), "chome", match.end())


_LEADING_CHOME = re.compile(r"([0-9]{1,2})(?:-|(?= )|$)")


def parse_leading_chome(key: str, start: int) -> Chome | None:
    """The 丁目 of a town that exists only with 丁目, written as a plain number right after
    it: ``1-16`` or ``1`` (X町1-16 is X町一丁目16: the only reading there is). A number
    written as a block (``1番``, ``1の2``) is not one. ``explicit`` is false: a number that
    is not one of the town's 丁目 is left to be a block number."""
    match = _LEADING_CHOME.match(key, start)
    if match is None or int(match.group(1)) == 0:
        return None
    return Chome(int(match.group(1)), "chome", match.end(), explicit=False)


@dataclass(frozen=True, slots=True)
class Block:
    """Numbered parts after the town: ``("2", "3")`` of ``2番3号``; ``lot`` when the input
    wrote 番地 (a parcel number rather than a residential block); ``end`` in the key."""

    parts: tuple[str, ...]
    separators: tuple[str, ...]
    lot: bool
    end: int
    # Where each part ends in the key, with its own marker (番, 号, 番地) if written.
    ends: tuple[int, ...] = ()


_NUMBER = re.compile(r"[0-9]{1,6}")
_LETTER = re.compile(r"[A-Za-z](?![A-Za-z])")
# Separators after a number, longest first: 番地の is one separator, as is 番地 and 番.
_SEPARATORS = ("番地の", "番地", "番の", "番", "号の", "号", "の", "-")
MAX_PARTS = 4


def parse_block(key: str, start: int) -> Block:
    """Block, house and further numbers at ``start`` of a folded key.

    ``2番3号`` → (2, 3); ``5番地の3`` → (5, 3) as a lot; ``1-2-3`` → (1, 2, 3); ``3番A`` and
    ``3-A`` → (3, A). At most :data:`MAX_PARTS` parts; the end is after the last part's own
    marker (``号``, ``番``, ``番地``), never after a dangling ``-``.
    """
    parts: list[str] = []
    separators: list[str] = []
    ends: list[int] = []
    lot = False
    pos = start
    end = start
    while len(parts) < MAX_PARTS:
        match = _NUMBER.match(key, pos)
        if match is None and parts:
            match = _LETTER.match(key, pos)
        if match is None:
            break
        value = match.group()
        parts.append(str(int(value)) if value.isdigit() else value.upper())
        pos = end = match.end()
        ends.append(end)
        separator = next((s for s in _SEPARATORS if key.startswith(s, pos)), None)
        if separator is None:
            break
        lot = lot or separator.startswith("番地")
        separators.append(separator)
        pos += len(separator)
        if separator in ("番地", "番", "号"):
            end = ends[-1] = pos
        elif separator in ("番地の", "番の", "号の"):
            ends[-1] = pos - 1
    return Block(tuple(parts), tuple(separators), lot, end, tuple(ends))


# --- Kyoto ------------------------------------------------------------------------------------

_KYOTO_MAX = 40


def _kyoto_marks() -> tuple[str, ...]:
    marks = ["上ル", "上る", "上がる", "下ル", "下る", "下がる", "東入", "西入", "南入", "北入"]
    marks += ["入ル", "入る"]
    return tuple(fold_name(mark) for mark in marks)


_KYOTO_MARKS = _kyoto_marks()
_KYOTO_BLOCKS = re.compile(r"[0-9]{1,2}丁目")


def kyoto_street_end(key: str, start: int) -> int:
    """Where Kyoto's street directions end, from ``start`` of a folded key: after the last
    ``上ル``/``下ル``/``東入``/``西入`` (and ``ル``/``る`` after it) within :data:`_KYOTO_MAX`
    characters, so that the town name follows (``堀川通松原下ル|亀屋町``); ``start`` itself
    when there are none."""
    window = key[start : start + _KYOTO_MAX]
    best = 0
    for mark in _KYOTO_MARKS:
        found = window.rfind(mark)
        if found >= 0:
            best = max(best, found + len(mark))
    if best and window[best : best + 1] in ("ル", "る"):
        best += 1
    # 上ル4丁目 counts blocks along the street: it belongs to the directions, not a 丁目.
    match = _KYOTO_BLOCKS.match(window, best) if best else None
    if match is not None:
        best = match.end()
    return start + best
