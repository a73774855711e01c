"""The table of old and variant kanji (旧字体・異体字) the normalizer folds.

The table lives in ``data/variant_kanji.txt``: one line per folded form, followed by its
variants (澤 and 泽 fold to 沢; 邊 and 邉 to 辺; 舘 to 館; 檜 to 桧). Folding is a comparison
key only: the normalizer folds both the input and the registry's names and answers with the
registry's spelling, so whichever form the registry uses is what the caller gets back.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

DATA_FILE = "variant_kanji.txt"


class VariantTableError(ValueError):
    """The data file breaks its own rules (a programming error, caught by the tests)."""


def parse_table(text: str) -> dict[str, str]:
    """``{variant: folded form}`` of a table in the data file's format, with chains
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


@cache
def variant_map() -> dict[str, str]:
    """``{variant: folded form}`` from the bundled data file (read once)."""
    text = resources.files("kiban.blocks.address").joinpath("data", DATA_FILE).read_text("utf-8")
    return parse_table(text)


def fold_variants(text: str) -> str:
    """``text`` with every listed variant replaced by its folded form: 澤田 → 沢田."""
    table = variant_map()
    return "".join(table.get(char, char) for char in text)
