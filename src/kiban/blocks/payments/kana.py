"""The Zengin character set: holder and bank names as the transfer file carries them.

A Zengin record is JIS X 0201: digits, capital Latin letters, half-width katakana with the
separate voiced marks (ﾞ ﾟ), the space and a few symbols. Small kana are written large and the
long-vowel mark as a hyphen, as banks print them. :func:`to_zengin` turns what a person types
(hiragana, full-width katakana, full-width letters) into that set and refuses, naming it, the
first character it cannot carry (a kanji, for instance).
"""

from __future__ import annotations

import unicodedata
from typing import Final

from kiban.blocks.payments.errors import InvalidKana

_HALF_KANA: Final = [chr(c) for c in range(0xFF66, 0xFF9E) if c != 0xFF70]
_SMALL: Final = dict(zip("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ", strict=True))
_SYMBOLS: Final = " ()-./,｢｣\\"
ALLOWED: Final = frozenset(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(_HALF_KANA) + "ﾞﾟ" + _SYMBOLS
) - frozenset(_SMALL)


def _full_to_half() -> dict[str, str]:
    """Each full-width katakana (with its voiced forms) to its half-width spelling, built from
    Unicode's own compatibility mappings rather than a typed table."""
    table: dict[str, str] = {}
    for half in _HALF_KANA:
        full = unicodedata.normalize("NFKC", half)
        table.setdefault(full, _SMALL.get(half, half))
        for mark in "ﾞﾟ":
            composed = unicodedata.normalize("NFKC", half + mark)
            if len(composed) == 1:
                table.setdefault(composed, _SMALL.get(half, half) + mark)
    table["ー"] = "-"
    table["・"] = "."
    table["「"] = "｢"
    table["」"] = "｣"
    return table


_TABLE: Final = _full_to_half()


def _katakana(char: str) -> str:
    # Hiragana and katakana are parallel blocks 0x60 apart.
    if "ぁ" <= char <= "ゖ":
        return chr(ord(char) + 0x60)
    return char


def to_zengin(text: str, *, field: str = "holder_kana") -> str:
    """``text`` in the Zengin character set, or :class:`InvalidKana` naming the first character
    that has no place in it. Spaces are collapsed and trimmed."""
    out: list[str] = []
    for raw in unicodedata.normalize("NFKC", text.strip()):
        char = _katakana(raw)
        if char in {" ", "\u3000"}:
            if out and out[-1] != " ":
                out.append(" ")
            continue
        char = _TABLE.get(char, char.upper() if char.isascii() else char)
        char = "".join(_SMALL.get(c, c) for c in char)
        for c in char:
            if c not in ALLOWED:
                raise InvalidKana(raw, field=field)
        out.append(char)
    result = "".join(out).strip()
    if not result:
        raise InvalidKana("", field=field)
    return result


def fit(text: str, width: int) -> str:
    """A Zengin text field: ``text`` cut or padded with spaces to ``width`` characters (one byte
    each in cp932)."""
    return text[:width].ljust(width)
