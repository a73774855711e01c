"""Municipality names in English, read from the registry's kana (issue 15, item 8)."""

from __future__ import annotations

import pytest

from kiban.blocks.address.romaji import hepburn, municipality_en, prefecture_en


@pytest.mark.parametrize(
    ("kana", "roman"),
    [
        ("チュウオウ", "chuo"),  # Long vowels without macrons.
        ("トウキョウ", "tokyo"),
        ("ホッカイドウ", "hokkaido"),  # The small tsu doubles the consonant...
        ("ハッチョウボリ", "hatchobori"),  # ...and makes ch tch.
        ("シンジュク", "shinjuku"),
        ("さっぽろ", "sapporo"),  # Hiragana too.
    ],
)
def test_kana_in_hepburn(kana: str, roman: str) -> None:
    assert hepburn(kana) == roman


def test_prefectures_lose_their_suffix() -> None:
    assert prefecture_en("東京都", "トウキョウト") == "Tokyo"
    assert prefecture_en("大阪府", "オオサカフ") == "Osaka"
    assert prefecture_en("愛知県", "アイチケン") == "Aichi"
    assert prefecture_en("北海道", "ホッカイドウ") == "Hokkaido"


def test_municipalities_as_english_addresses_write_them() -> None:
    assert municipality_en("千代田区", "チヨダク", "東京都", "トウキョウト") == "Chiyoda-ku, Tokyo"
    # A designated city's ward is split off with the city's own reading.
    assert (
        municipality_en("札幌市中央区", "サッポロシチュウオウク", "北海道", "ホッカイドウ")
        == "Chuo-ku, Sapporo, Hokkaido"
    )
    assert (
        municipality_en("広島市西区", "ヒロシマシニシク", "広島県", "ヒロシマケン")
        == "Nishi-ku, Hiroshima, Hiroshima"
    )
    # 町 and 村 say -cho/-machi and -son/-mura as their kana does.
    assert municipality_en("当別町", "トウベツチョウ", "北海道", "ホッカイドウ") == (
        "Tobetsu-cho, Hokkaido"
    )
    assert municipality_en("真狩村", "マッカリムラ", "北海道", "ホッカイドウ") == (
        "Makkari-mura, Hokkaido"
    )
