"""What follows the town in a line: its 丁目 (or 地割), a 小字, and block/house numbers,
read against the town the normalizer found (:func:`read_detail`)."""

from __future__ import annotations

from dataclasses import dataclass

from kiban.blocks.address import rules
from kiban.blocks.address.index import ALIAS_JO_SHORT, EXACT, TownEntry

KOAZA_MAX = 12
"""The longest 小字 read before a number."""


@dataclass(slots=True)
class Detail:
    chome: rules.Chome | None = None
    chome_status: str = "none"  # none, verified, accepted, rejected
    koaza: tuple[int, int] | None = None
    block: rules.Block | None = None
    end: int = 0  # Key position where the matched text ends.


def read_koaza(key: str, start: int) -> int:
    """End of a 小字 at ``start``: a short run of kanji right before a number (its 字 mark, if
    written, was dropped by the folding), or ``start`` when there is none."""
    end = start
    limit = min(len(key), start + KOAZA_MAX)
    while end < limit and ("\u4e00" <= key[end] <= "\u9fff" or key[end] in "のケ"):
        end += 1
    if end == start or end >= len(key) or not key[end].isdigit():
        return start
    return end


def chome_status(town: TownEntry, chome: rules.Chome) -> str | None:
    """``verified`` (the town has this 丁目), ``accepted`` (the town has 丁目 but the data does
    not list them), ``rejected`` (written, but not a 丁目 of this town), or ``None`` when the
    numbers were not a 丁目 after all (``3-4-5`` in a town without a third 丁目)."""
    if chome.number in town.chomes:
        return "verified"
    if town.chomes:
        return "rejected" if chome.explicit else None
    if town.has_chome or chome.kind == "jiwari":
        return "accepted"
    return "rejected" if chome.explicit else None


def read_detail(town: TownEntry, key: str, start: int, alias: int = EXACT) -> Detail:
    detail = Detail(end=start)
    chome = rules.parse_chome(key, start, hyphenated=town.has_chome)
    if chome is None and alias == ALIAS_JO_SHORT:
        chome = rules.parse_bare_chome(key, start)
    if chome is None and town.only_chome and town.chomes:
        # The registry has this town only with 丁目: X町1-16 can only be X町一丁目16.
        chome = rules.parse_leading_chome(key, start)
    at = start
    if chome is not None:
        status = chome_status(town, chome)
        if status is None:
            chome = None
        else:
            detail.chome_status = status
    if chome is not None:
        detail.chome = chome
        at = chome.end
        if detail.chome_status != "rejected":
            detail.end = at
    koaza_end = read_koaza(key, at)
    if koaza_end > at:
        detail.koaza = (at, koaza_end)
        at = koaza_end
    block = rules.parse_block(key, at)
    if block.parts:
        detail.block = block
    return detail
