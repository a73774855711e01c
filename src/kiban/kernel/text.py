"""The one rule set for names, addresses and free text typed by people.

A value is normalised to Unicode NFC and then refused when it holds a character that cannot be
seen or that changes how the text around it is shown:

- C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F), NUL included; free text may
  keep line feeds and tabs (``multiline=True``), a carriage return before a line feed becomes
  a line feed;
- bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069)
  and the marks (U+200E, U+200F, U+061C);
- line and paragraph separators (U+2028, U+2029), lone surrogates and noncharacters;
- every other invisible format character (Unicode category Cf: U+200B ZERO WIDTH SPACE,
  U+2060 WORD JOINER, U+FEFF, U+00AD SOFT HYPHEN, tags, ...), except the zero-width joiner and
  non-joiner (U+200D, U+200C) *between two visible characters*, as in emoji sequences; a lone
  one (at an end, or next to a space or another invisible character) is refused;
- a variation selector (U+FE00–U+FE0F, U+E0100–U+E01EF, which choose a glyph of the kanji
  before them: 異体字) is kept after a visible character and refused at the start.

Pure code: the web layer wraps :func:`clean_text` as a pydantic type
(``kiban.platform.fields``), so every schema applies the same rules.
"""

from __future__ import annotations

import unicodedata
from typing import Final

BIDI_CONTROLS: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)
JOINERS: Final = frozenset("\u200c\u200d")
_NEWLINES: Final = frozenset("\n\t")


class TextRuleError(ValueError):
    """``value`` breaks a rule; ``position`` is the offending character's index (in the NFC
    form) and ``reason`` says which rule, in English."""

    def __init__(self, reason: str, position: int, character: str) -> None:
        super().__init__(f"{reason} (U+{ord(character):04X} at position {position})")
        self.reason = reason
        self.position = position
        self.character = character


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _visible(char: str | None) -> bool:
    """Whether ``char`` is a character one can see (not a space, control or format char)."""
    if char is None:
        return False
    category = unicodedata.category(char)
    return not (category[0] in "CZ" or char in JOINERS or _is_variation_selector(char))


def _reason(text: str, index: int, *, multiline: bool) -> str | None:  # noqa: PLR0911
    """Why the character at ``index`` of ``text`` is refused, or ``None``."""
    char = text[index]
    code = ord(char)
    if multiline and char in _NEWLINES:
        return None
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "control characters are not allowed"
    if char in BIDI_CONTROLS:
        return "bidirectional control characters are not allowed"
    if char in JOINERS:
        before = text[index - 1] if index > 0 else None
        after = text[index + 1] if index + 1 < len(text) else None
        if _visible(before) and _visible(after):
            return None
        return "a zero-width joiner must stand between two visible characters"
    if _is_variation_selector(char):
        before = text[index - 1] if index > 0 else None
        if _visible(before) or (before is not None and _is_variation_selector(before)):
            return None
        return "a variation selector must follow a visible character"
    category = unicodedata.category(char)
    if category == "Cs" or _is_noncharacter(code):
        return "the text is not valid Unicode"
    if category in ("Cf", "Zl", "Zp"):
        return "invisible characters are not allowed"
    return None


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` in NFC if it follows the rules, else :class:`TextRuleError`.

    ``multiline`` allows line feeds and tabs (free text such as a reason); names and
    addresses are single lines.
    """
    if multiline:
        value = value.replace("\r\n", "\n")
    try:
        text = unicodedata.normalize("NFC", value)
    except UnicodeError:  # pragma: no cover - normalize does not raise on lone surrogates.
        text = value
    for index in range(len(text)):
        reason = _reason(text, index, multiline=multiline)
        if reason is not None:
            raise TextRuleError(reason, index, text[index])
    return text


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The reason ``value`` breaks the rules (see :func:`clean_text`), or ``None``."""
    try:
        clean_text(value, multiline=multiline)
    except TextRuleError as error:
        return str(error)
    return None
