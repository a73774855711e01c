"""The normalizer with the Address Base Registry's own tables loaded: real 町字IDs, residential
blocks and residences (住居表示) and parcels; and the honest levels when they are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address

FIXTURES = Path(__file__).parent / "fixtures"
ACTOR = "operator:test"
CHIYODA = "131016"
NINOHE = "032131"  # 岩手県二戸市: 石切所 is numbered by parcels.


@pytest.fixture
def registry(session: Session, tmp_path: Path) -> Session:
    address.load_registry(session, lg_codes=[CHIYODA, NINOHE])
    towns = (FIXTURES / "mt_town_sample.csv").read_text("utf-8-sig")
    # 石切所 of 二戸市, a town without 住居表示 (rsdt_addr_flg 0), for the parcel fixture.
    header = towns.splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        lg_code=NINOHE,
        machiaza_id="0005000",
        machiaza_type="1",
        pref="岩手県",
        city="二戸市",
        oaza_cho="石切所",
        rsdt_addr_flg="0",
        status_flg="1",
        efct_date="1972-04-01",
    )
    town_file = tmp_path / "mt_town.csv"
    town_file.write_text(towns.rstrip("\n") + "\n" + ",".join(row.values()) + "\n", "utf-8")
    address.do_load_abr(session, "town", town_file, actor=ACTOR)
    for kind, name in (
        ("rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv"),
        ("rsdtdsp_rsdt", "mt_rsdtdsp_rsdt_sample.csv"),
        ("parcel", "mt_parcel_sample.csv"),
    ):
        address.do_load_abr(session, kind, FIXTURES / name, actor=ACTOR)
    session.commit()
    address.invalidate_index()
    return session


def test_a_residence_is_matched_down_to_its_number(registry: Session) -> None:
    result = address.normalize("東京都千代田区霞が関1-1-2 中央合同庁舎", session=registry)

    assert result.match_level == "rsdtdsp_rsdt"
    assert result.matched_address == "東京都千代田区霞が関一丁目1番2号"
    assert result.ids.machiaza_id == "0003001"
    assert (result.ids.rsdtdsp_blk_id, result.ids.rsdtdsp_rsdt_id) == ("001", "002")
    assert result.unmatched_address == "中央合同庁舎"
    assert (result.structured_address.blk_num, result.structured_address.rsdt_num) == ("1", "2")


def test_a_residence_with_a_second_number(registry: Session) -> None:
    result = address.normalize("千代田区霞が関一丁目1番2号の1", session=registry)

    assert result.match_level == "rsdtdsp_rsdt"
    assert result.ids.rsdtdsp_rsdt_id == "0020001"
    assert result.matched_address.endswith("1番2号-1")


def test_a_block_without_that_residence_stays_at_the_block(registry: Session) -> None:
    result = address.normalize("千代田区霞が関1丁目2番9号", session=registry)

    assert result.match_level == "rsdtdsp_blk"
    assert result.ids.rsdtdsp_blk_id == "002"
    assert result.ids.rsdtdsp_rsdt_id is None
    assert result.matched_address == "東京都千代田区霞が関一丁目2番"
    assert result.unmatched_address == "9号"


def test_an_unknown_block_stays_at_the_chome(registry: Session) -> None:
    result = address.normalize("千代田区霞が関2丁目5番1号", session=registry)

    assert result.match_level == "machiaza_detail"
    assert result.ids.machiaza_id == "0003002"
    assert result.structured_address.blk_num == "5"


def test_a_parcel_is_matched(registry: Session) -> None:
    result = address.normalize("岩手県二戸市石切所120番地1", session=registry)

    assert result.match_level == "parcel"
    assert result.ids.prc_id == "000120000100000"
    assert result.matched_address == "岩手県二戸市石切所120番地1"
    s = result.structured_address
    assert (s.prc_num1, s.prc_num2, s.blk_num) == ("120", "1", None)


def test_a_parcel_written_with_hyphens(registry: Session) -> None:
    result = address.normalize("二戸市石切所121", session=registry)

    assert result.match_level == "parcel"
    assert result.ids.prc_id == "000121000000000"


def test_without_block_tables_the_numbers_are_parsed_but_not_claimed(session: Session) -> None:
    address.invalidate_index()  # PostgreSQL's tests share one URL.
    address.load_registry(session, lg_codes=[CHIYODA])
    session.commit()

    result = address.normalize("千代田区霞が関1-1-2", session=session)

    assert result.match_level == "machiaza_detail"
    assert result.ids.rsdtdsp_blk_id is None
    assert (result.structured_address.blk_num, result.structured_address.rsdt_num) == ("1", "2")
    assert result.unmatched_address == "1-2"
