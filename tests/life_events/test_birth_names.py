"""The characters a child's given name may use: 常用漢字, 人名用漢字 (from the maintained
``kanji-lists`` package), kana and the marks of 戸籍法施行規則第60条; nothing else."""

from __future__ import annotations

import pytest

from kiban.life_events.birth import names


@pytest.mark.parametrize(
    "name",
    ["陽翔", "結衣", "凜", "蒼", "さくら", "ハルト", "美々", "ゆゝ", "ルーク", "翔太", "雫"],
)
def test_names_in_the_allowed_characters(name: str) -> None:
    assert names.disallowed_characters(name) == []


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("𠮷子", ["𠮷"]),  # outside both lists (a variant of 吉)
        ("Ken", ["K", "e", "n"]),
        ("花子1", ["1"]),
        ("花・子", ["・"]),
        ("髙雄", ["髙"]),  # the 「はしごだか」 is not a name character
        ("\ufa11\ufa11", ["\ufa11"]),  # 﨑 (たつさき): reported once
    ],
)
def test_other_characters_are_named(name: str, bad: list[str]) -> None:
    assert names.disallowed_characters(name) == bad


def test_the_lists_are_the_official_sizes() -> None:
    # 常用漢字表 (2010): 2,136; 人名用漢字: 863 in 2017, and the package follows revisions.
    assert len(names.KANJI) >= 2136 + 863
    assert "亅" not in names.KANJI


@pytest.mark.parametrize(
    ("reading", "ok"),
    [
        ("ハルト", True),
        ("ヤマダ　ハナコ", True),
        ("はると", False),
        ("ハルト1", False),
        ("", False),
    ],
)
def test_readings_are_katakana(reading: str, ok: bool) -> None:
    assert names.is_kana_reading(reading) is ok
