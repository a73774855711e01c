"""Each normalization rule on its own (kiban.blocks.address.rules and .variants)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.blocks.address import rules, variants

# --- cap_length and nfkc ----------------------------------------------------------------------


def test_cap_length_keeps_the_head_and_returns_the_cut() -> None:
    head, cut = rules.cap_length("あ" * 1500)

    assert len(head) == rules.MAX_INPUT
    assert len(cut) == 500
    assert rules.cap_length("短い") == ("短い", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京都千代田区丸の内１丁目２－３", "東京都千代田区丸の内1丁目2-3"),
        ("ＡＢＣビル　５Ｆ", "ABCビル 5F"),
        ("ｾﾝﾀｰﾋﾞﾙ", "センタービル"),
        ("  丸の内\t\u3000一丁目 ", "丸の内 一丁目"),
        ("丸の内\x00一丁目", "丸の内 一丁目"),
    ],
)
def test_nfkc_folds_full_width_forms_and_spaces(text: str, expected: str) -> None:
    assert rules.nfkc(text) == expected


# --- postal codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "rest"),
    [
        ("〒100-0005 東京都千代田区", "1000005", "東京都千代田区"),
        ("〒 1000005東京都", "1000005", "東京都"),
        ("100-0005 東京都", "1000005", "東京都"),
        ("1000005", "1000005", ""),
        ("郵便番号100-0005 東京都", "1000005", "東京都"),
    ],
)
def test_a_postal_code_at_the_start_is_taken_off(text: str, code: str, rest: str) -> None:
    assert rules.extract_postal_code(text) == (code, rest)


@pytest.mark.parametrize("text", ["東京都 100-0005", "10000051 東京都", "100-00051", "12-3456"])
def test_other_numbers_are_not_postal_codes(text: str) -> None:
    assert rules.extract_postal_code(text) == (None, text)


# --- dashes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dash", list("-‐‑‒–—―−－﹣─━ｰー"))
def test_every_dash_between_numbers_becomes_a_hyphen(dash: str) -> None:
    text = rules.nfkc(f"1{dash}2{dash}3")

    assert rules.normalize_dashes(text) == "1-2-3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("センター1ー2", "センター1-2"),
        ("コーポ丸の内", "コーポ丸の内"),
        ("丸の内一ー二", "丸の内一-二"),
        ("ゆーかり台3ー4", "ゆーかり台3-4"),
    ],
)
def test_the_long_vowel_mark_inside_kana_words_stays(text: str, expected: str) -> None:
    assert rules.normalize_dashes(text) == expected


# --- kanji numerals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十一", 21),
        ("百", 100),
        ("百五", 105),
        ("三百二十", 320),
        ("千二百三十四", 1234),
        ("一〇五", 105),
        ("二〇", 20),
    ],
)
def test_kanji_numerals_read_as_numbers(numeral: str, value: int) -> None:
    assert rules.kanji_to_int(numeral) == value


@pytest.mark.parametrize("bad", ["", "丁", "一a"])
def test_anything_else_is_not_a_kanji_numeral(bad: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        rules.kanji_to_int(bad)


@given(st.integers(min_value=1, max_value=9999))
def test_kanji_numerals_both_ways(number: int) -> None:
    assert rules.kanji_to_int(rules.int_to_kanji(number)) == number


def test_int_to_kanji_writes_addresses_way() -> None:
    assert [rules.int_to_kanji(n) for n in (1, 10, 21, 105, 1000)] == [
        "一",
        "十",
        "二十一",
        "百五",
        "千",
    ]
    with pytest.raises(ValueError, match="0"):
        rules.int_to_kanji(0)


# --- folding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("霞が関", "霞ヶ関"),
        ("霞が関", "霞ケ関"),
        ("霞が関", "霞ヵ関"),
        ("霞が関", "霞カ関"),
        ("虎ノ門", "虎の門"),
        ("虎之門", "虎の門"),
        ("一ツ橋", "一つ橋"),
        ("キャッスル", "キヤツスル"),
        ("北一条西", "北1条西"),
        ("二十軒", "20軒"),
        ("澤田", "沢田"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("舘山", "館山"),
        ("檜原", "桧原"),
        ("嶋田", "島田"),
        ("冨士", "富士"),
        ("龍ケ崎", "竜ヶ崎"),
        ("髙田", "高田"),
        ("東山町大字石山", "東山町石山"),
        ("字大留", "大留"),
        ("御幸通り", "御幸通"),
    ],
)
def test_spellings_that_people_mix_up_fold_to_one_key(a: str, b: str) -> None:
    assert rules.fold_name(a) == rules.fold_name(b)
    assert rules.fold(rules.nfkc(a))[0] == rules.fold(rules.nfkc(b))[0]


@pytest.mark.parametrize(("a", "b"), [("上野", "下野"), ("丸の内", "丸の外"), ("本町", "本")])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert rules.fold_name(a) != rules.fold_name(b)


def test_fold_maps_each_key_character_back_to_the_text() -> None:
    text = "丸の内 二十一番 ABC"

    key, positions = rules.fold(text)

    assert key == "丸の内21番ABC"
    assert len(positions) == len(key)
    assert text[positions[key.index("番")]] == "番"
    assert text[positions[key.index("A")] :] == "ABC"


def test_a_space_after_a_number_stays_a_boundary() -> None:
    assert rules.fold("1-2-3 405")[0] == "1-2-3 405"
    assert rules.fold("丸の内 1")[0] == "丸の内1"


@given(st.text(max_size=40))
def test_fold_name_and_fold_agree(text: str) -> None:
    # The index folds registry names with fold_name and the input with fold: they must agree.
    prepared = rules.normalize_dashes(rules.nfkc(text)).replace(" ", "")
    assert rules.fold_name(text) == rules.fold(prepared)[0]


# --- variant kanji table ----------------------------------------------------------------------


def test_the_variant_table_has_at_least_700_pairs_and_no_chains() -> None:
    table = variants.variant_map()

    assert len(table) >= 700
    assert all(target not in table for target in table.values())
    assert all(len(k) == 1 and len(v) == 1 and k != v for k, v in table.items())


@pytest.mark.parametrize(
    ("old", "new"),
    list(zip("澤邊邉舘檜嶋冨龍國驒德髙", "沢辺辺館桧島富竜国騨徳高", strict=True)),
)
def test_known_pairs_fold(old: str, new: str) -> None:
    assert variants.fold_variants(old) == new


def test_a_bad_table_is_refused() -> None:
    with pytest.raises(variants.VariantTableError, match="twice"):
        variants.parse_table("沢 澤\n辺 澤\n")
    with pytest.raises(variants.VariantTableError, match="one character"):
        variants.parse_table("沢 澤田\n")
    with pytest.raises(variants.VariantTableError, match="own variant"):
        variants.parse_table("沢 沢\n")
    with pytest.raises(variants.VariantTableError, match="cycle"):
        variants.parse_table("甲 乙\n乙 甲\n")


def test_chains_resolve_to_the_last_form() -> None:
    assert variants.parse_table("# comment\n乙 丙\n甲 乙\n") == {"丙": "甲", "乙": "甲"}


# --- 丁目, 地割 and block numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "number", "kind", "text"),
    [
        ("3丁目4-5", 3, "chome", "三丁目"),
        ("3丁4", 3, "chome", "三丁目"),
        ("第10地割100番地", 10, "jiwari", "第十地割"),
        ("10地割", 10, "jiwari", "第十地割"),
    ],
)
def test_a_written_chome_or_jiwari_is_read(key: str, number: int, kind: str, text: str) -> None:
    chome = rules.parse_chome(key, 0)

    assert chome is not None
    assert (chome.number, chome.kind, chome.text, chome.explicit) == (number, kind, text, True)


def test_a_chome_is_never_made_up_from_block_numbers() -> None:
    assert rules.parse_chome("3", 0, hyphenated=True) is None
    assert rules.parse_chome("3-4", 0, hyphenated=True) is None
    assert rules.parse_chome("3-4-5", 0) is None
    assert rules.parse_chome("0丁目", 0) is None
    implied = rules.parse_chome("3-4-5", 0, hyphenated=True)
    assert implied is not None
    assert (implied.number, implied.explicit, implied.end) == (3, False, 2)


@pytest.mark.parametrize(
    ("key", "parts", "lot", "rest"),
    [
        ("2番3号ビル", ("2", "3"), False, "ビル"),
        ("2-3", ("2", "3"), False, ""),
        ("1-2-3 405", ("1", "2", "3"), False, " 405"),
        ("5番地の3", ("5", "3"), True, ""),
        ("246番地", ("246",), True, ""),
        ("7番地14", ("7", "14"), True, ""),
        ("3番A", ("3", "A"), False, ""),
        ("3-A", ("3", "A"), False, ""),
        ("3-a棟", ("3", "A"), False, "棟"),
        ("12-", ("12",), False, "-"),
        ("1-2-3-4-5", ("1", "2", "3", "4"), False, "-5"),
        ("ビル", (), False, "ビル"),
    ],
)
def test_block_numbers_are_read(key: str, parts: tuple[str, ...], lot: bool, rest: str) -> None:
    block = rules.parse_block(key, 0)

    assert block.parts == parts
    assert block.lot is lot
    assert key[block.end :] == rest


def test_kanji_block_numbers_become_digits_through_the_fold() -> None:
    key = rules.fold("二番地の三")[0]

    assert rules.parse_block(key, 0).parts == ("2", "3")


# --- Kyoto ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("堀川通松原下る亀屋町", "堀川通松原下る"),
        ("烏丸通六角下ル七観音町", "烏丸通六角下ル"),
        ("河原町通三条上がる恵比須町", "河原町通三条上がる"),
        ("堀川通寺之内上る4丁目天神北町", "堀川通寺之内上る4丁目"),
        ("四条通烏丸東入長刀鉾町", "四条通烏丸東入"),
        ("亀屋町", ""),
    ],
)
def test_kyoto_street_directions_end_before_the_town(text: str, street: str) -> None:
    key, positions = rules.fold(text)

    end = rules.kyoto_street_end(key, 0)

    written = text[: positions[end]] if end < len(key) else text
    assert written == street


# --- Hokkaido's short form ----------------------------------------------------------------------


def test_jo_towns_have_a_short_form() -> None:
    assert rules.jo_short_form(rules.fold_name("北一条西")) == "北1西"
    assert rules.jo_short_form(rules.fold_name("南十四条東")) == "南14東"
    assert rules.jo_short_form(rules.fold_name("大通西")) is None
    assert rules.jo_short_form(rules.fold_name("東光一条")) is None


def test_the_number_after_a_short_form_is_its_chome() -> None:
    chome = rules.parse_bare_chome("6-1-2", 0)

    assert chome is not None
    assert (chome.number, chome.end) == (6, 2)
    assert rules.parse_bare_chome("0", 0) is None
    assert rules.parse_bare_chome("123", 0) is None
