"""The one rule set for names and free text (issue 13, item 8), as properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.kernel.text import BIDI_CONTROLS, TextRuleError, clean_text, text_problem

CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]
INVISIBLE = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029", "\U000e0041"]
VISIBLE = st.characters(categories=["L", "N", "P", "S"])


@given(st.text(VISIBLE, min_size=1, max_size=40))
def test_visible_text_is_kept_in_nfc(value: str) -> None:
    assert clean_text(value) == unicodedata.normalize("NFC", value)


@given(st.text(VISIBLE, max_size=20), st.sampled_from(CONTROLS), st.text(VISIBLE, max_size=20))
def test_a_control_character_anywhere_is_refused(before: str, bad: str, after: str) -> None:
    with pytest.raises(TextRuleError) as refused:
        clean_text(before + bad + after)
    assert refused.value.character == bad


@given(
    st.text(VISIBLE, max_size=20),
    st.sampled_from(sorted(BIDI_CONTROLS) + INVISIBLE),
    st.text(VISIBLE, max_size=20),
)
def test_bidi_and_invisible_characters_are_refused(before: str, bad: str, after: str) -> None:
    assert text_problem(before + bad + after) is not None


@given(st.text(VISIBLE, min_size=1, max_size=10), st.sampled_from(["\u200c", "\u200d"]))
def test_a_lone_zero_width_joiner_is_refused(text: str, joiner: str) -> None:
    assert text_problem(joiner + text) is not None
    assert text_problem(text + joiner) is not None
    assert text_problem(text + joiner + " " + text) is not None


def test_joiners_inside_a_sequence_and_variation_selectors_after_a_kanji_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family
    ivs = "葛\U000e0100城"  # 葛 with an ideographic variation selector (異体字).
    assert clean_text(ivs) == ivs
    assert text_problem("\U000e0100葛") is not None


def test_free_text_keeps_lines_and_tabs_but_names_do_not() -> None:
    assert clean_text("一行目\r\n二行目\tです", multiline=True) == "一行目\n二行目\tです"
    assert text_problem("一行目\n二行目") is not None
    assert text_problem("NUL\x00", multiline=True) is not None


def test_decomposed_kana_becomes_nfc() -> None:
    assert clean_text("カ\u3099") == "ガ"
