"""The characters a child's name may be written in (子の名に用いる文字).

戸籍法第50条 and 戸籍法施行規則第60条 allow in a given name: the 常用漢字 (the Cabinet's list),
the 人名用漢字 (the Ministry of Justice's list, 別表第二), hiragana, katakana, the iteration
marks (ゝ ゞ ヽ ヾ 々) and the long vowel mark (ー). The kanji come from the maintained
``kanji-lists`` package (MIT licence): its ``JOYO`` is the 2010 常用漢字表 (2,136 characters)
and its ``JINMEIYO`` the current 人名用漢字 list; no list is typed by hand here.

The family name is the parents' (it is already on the register), so only the given name is
checked against this set; both names' readings must be katakana (the register's rule).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from kanji_lists import JINMEIYO, JOYO

# Hiragana and katakana (the small ones too), and the marks 戸籍法施行規則第60条 names.
_KANA: Final = frozenset(
    [chr(c) for c in range(0x3041, 0x3097)]  # ぁ..ゖ
    + [chr(c) for c in range(0x30A1, 0x30FB)]  # ァ..ヺ
    + ["ゝ", "ゞ", "ヽ", "ヾ", "々", "ー"]
)
KANJI: Final[frozenset[str]] = frozenset(JOYO) | frozenset(JINMEIYO)
"""常用漢字 and 人名用漢字."""
ALLOWED: Final[frozenset[str]] = KANJI | _KANA
"""Every character a given name may use."""
# Readings as the register keeps them: katakana, ー and ・, spaces only between them.
_READING_CHAR: Final = "\u30a1-\u30fa\u30fc\u30fb"
_KANA_READING: Final = re.compile(
    rf"^[{_READING_CHAR}](?:[{_READING_CHAR}\u3000 ]*[{_READING_CHAR}])?$"
)


def disallowed_characters(name: str) -> list[str]:
    """The characters of ``name`` (NFC) that a given name may not use, in order, once each."""
    found: list[str] = []
    for char in unicodedata.normalize("NFC", name):
        if char not in ALLOWED and char not in found:
            found.append(char)
    return found


def is_kana_reading(text: str) -> bool:
    """Whether ``text`` is a reading as the register keeps it (katakana, ー and ・)."""
    return bool(_KANA_READING.match(text))
