"""Issue 19, class 4: names of municipalities merged into others since 1970 read as today's
municipality (from ``data/former_municipalities.tsv``: jpcity's data of e-Stat's municipality
code changes), with the town where that is unique; a former name now in several
municipalities answers candidates; a name a municipality has today is that one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address import index as address_index
from kiban.platform import db

NIKKO = "092061"  # 日光市: 今市市 merged into it (2006)
ICHINOSEKI = "032093"  # 一関市: 東磐井郡藤沢町 merged into it (2011)
KOFU = "192015"  # 甲府市 and 富士河口湖町: 上九一色村 was split between them (2006)
FUJIKAWAGUCHIKO = "194301"
TSUCHIURA = "082031"  # 土浦市: 茨城県新治村 (2006)
MINAKAMI = "104493"  # みなかみ町: 群馬県新治村 (2005)
CHIBA_ICHINOMIYA = "124214"  # 長生郡一宮町: a municipality of today of that name
SHISO = "282278"  # 宍粟市 and 淡路市: each has a former 一宮町 of 兵庫県
AWAJI = "282260"
SAITAMA_WARDS = (  # さいたま市's wards: 浦和市, 大宮市 and 与野市 were merged into it (2001)
    "111015",
    "111023",
    "111031",
    "111040",
    "111058",
    "111066",
    "111074",
    "111082",
    "111091",
    "111104",
)
LG_CODES = (
    NIKKO,
    ICHINOSEKI,
    KOFU,
    FUJIKAWAGUCHIKO,
    TSUCHIURA,
    MINAKAMI,
    CHIBA_ICHINOMIYA,
    SHISO,
    AWAJI,
    *SAITAMA_WARDS,
)


@pytest.fixture(scope="module")
def registry(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path = tmp_path_factory.mktemp("former") / "kiban.db"
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


@pytest.mark.parametrize(
    ("written", "lg_code", "city", "town", "former"),
    [
        ("栃木県今市市瀬川100", NIKKO, "日光市", "瀬川", "今市市"),
        ("今市市瀬川100", NIKKO, "日光市", "瀬川", "今市市"),
        ("茨城県新治村沢辺12", TSUCHIURA, "土浦市", "沢辺", "新治村"),
        # The towns of a merged town often keep its name: 一関市藤沢町黄海.
        ("岩手県藤沢町黄海字山谷1", ICHINOSEKI, "一関市", "藤沢町黄海", "藤沢町"),
    ],
)
def test_a_merged_municipality_and_its_town_read_as_todays(
    registry: Session, written: str, lg_code: str, city: str, town: str, former: str
) -> None:
    result = norm(registry, written)

    assert result.ids.lg_code == lg_code
    assert result.structured_address.city == city
    assert result.structured_address.oaza_cho == town
    assert result.match_level == "machiaza"
    assert result.former_name == former
    assert result.candidates is None


def test_a_former_city_now_in_a_designated_city_reads_its_ward_by_the_town(
    registry: Session,
) -> None:
    result = norm(registry, "埼玉県浦和市高砂3-1")

    assert result.structured_address.city == "さいたま市"
    assert result.structured_address.ward == "浦和区"
    assert result.structured_address.oaza_cho == "高砂"
    assert result.former_name == "浦和市"


def test_a_former_name_scores_below_the_name_of_today(registry: Session) -> None:
    today = norm(registry, "栃木県日光市瀬川100")
    former = norm(registry, "栃木県今市市瀬川100")

    assert today.ids.machiaza_id == former.ids.machiaza_id
    assert today.former_name is None
    assert former.score < today.score


def test_a_municipality_split_between_two_answers_both_and_no_town(registry: Session) -> None:
    # 上九一色村 went partly to 甲府市, partly to 富士河口湖町: the town written is not trusted
    # to say which (a town of the same name may be in the other).
    result = norm(registry, "山梨県上九一色村富士ケ嶺1")

    assert result.match_level == "pref"
    assert result.ids.lg_code is not None
    assert result.ids.lg_code.startswith("19")
    assert result.candidates is not None
    assert {c.city for c in result.candidates} == {"甲府市", "富士河口湖町"}
    assert result.structured_address.oaza_cho is None


def test_two_former_municipalities_of_one_name_in_a_prefecture_are_candidates(
    registry: Session,
) -> None:
    # 兵庫県 had two 一宮町 (宍粟郡 → 宍粟市, 津名郡 → 淡路市).
    result = norm(registry, "兵庫県一宮町")

    assert result.candidates is not None
    assert {c.city for c in result.candidates} == {"宍粟市", "淡路市"}


def test_a_former_name_in_two_prefectures_is_settled_by_the_prefecture(
    registry: Session,
) -> None:
    assert norm(registry, "群馬県新治村須川1").ids.lg_code == MINAKAMI
    alone = norm(registry, "新治村")
    assert alone.candidates is not None
    assert {c.city for c in alone.candidates} == {"土浦市", "みなかみ町"}


def test_a_name_a_municipality_has_today_is_that_one(registry: Session) -> None:
    # 一宮町 is 千葉県長生郡一宮町 today, whatever 山梨県, 愛知県, 兵庫県 and 岡山県 had.
    result = norm(registry, "一宮町東浪見1")

    assert result.ids.lg_code == CHIBA_ICHINOMIYA
    assert result.former_name is None
    assert result.candidates is None


def test_the_table_is_read_with_splits_joined() -> None:
    table = address_index.parse_former_municipalities(
        "# comment\nformer_code\tpref\tname\tkana\tended\ttoday_codes\n"
        "28523\t兵庫県\t一宮町\tいちのみやちょう\t2005-04-01\t28227\n"
        "28684\t兵庫県\t一宮町\tいちのみやちょう\t2005-04-01\t28226\n"
        "19341\t山梨県\t上九一色村\tかみくいしきむら\t2006-03-01\t19201 19430\n"
        "broken line\n"
    )

    assert table == {("28", "一宮町"): {"28226", "28227"}, ("19", "上九一色村"): {"19201", "19430"}}


def test_the_vendored_table_names_its_source_and_maps_known_mergers() -> None:
    text = address_index._former_data()
    table = address_index.parse_former_municipalities(text)

    assert "jpcity" in text.splitlines()[1]
    assert table[("09", "今市市")] == {"09206"}
    assert table[("11", "浦和市")] == {"11100"}
    assert table[("19", "上九一色村")] == {"19201", "19430"}
    # Names that municipalities of today still have are not in it.
    assert ("09", "日光市") not in table
