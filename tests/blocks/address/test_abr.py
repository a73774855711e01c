"""Loading the official Address Base Registry CSVs: by header name, with added columns, clear
errors, idempotent, and town change notices that keep every version."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.adapters.abr import count_lines
from kiban.blocks.address.models import AbrTown, Block, Parcel, Residence, TownVersion
from kiban.kernel.errors import NotFound, ValidationFailed
from kiban.platform.models import AuditEntry

FIXTURES = Path(__file__).parent / "fixtures"
ACTOR = "operator:test"


def _load(session: Session, kind: str, name: str) -> address.AbrLoadSummary:
    return address.do_load_abr(session, kind, FIXTURES / name, actor=ACTOR)


def _town(session: Session, machiaza_id: str, lg_code: str = "131016") -> AbrTown:
    return session.execute(
        select(AbrTown).where(AbrTown.lg_code == lg_code, AbrTown.machiaza_id == machiaza_id)
    ).scalar_one()


def _versions(session: Session, machiaza_id: str) -> list[TownVersion]:
    stmt = (
        select(TownVersion)
        .where(TownVersion.lg_code == "131016", TownVersion.machiaza_id == machiaza_id)
        .order_by(TownVersion.version)
    )
    return list(session.execute(stmt).scalars())


def test_town_master_is_read_by_header_name_and_keeps_added_columns(session: Session) -> None:
    summary = _load(session, "town", "mt_town_sample.csv")

    assert (summary.rows_read, summary.added, summary.versions_added) == (5, 5, 5)
    kasumigaseki = _town(session, "0003002")
    assert (kasumigaseki.oaza_cho, kasumigaseki.chome, kasumigaseki.chome_number) == (
        "霞が関",
        "二丁目",
        2,
    )
    assert kasumigaseki.rsdt_addr_flg is True
    assert kasumigaseki.efct_date == date(1967, 1, 1)
    assert kasumigaseki.post_code == "1000013"
    assert kasumigaseki.version == 1
    koaza = _town(session, "0005000", lg_code="032131")
    assert (koaza.oaza_cho, koaza.koaza, koaza.chome_number) == ("石切所", "上穴牛", None)
    # The version keeps the line as read, with the column kiban does not know.
    (version,) = _versions(session, "0003002")
    assert version.record["alias_oaza"] == ""
    assert version.record["oaza_cho_roma"] == "Kasumigaseki"


def test_loading_the_same_file_again_changes_nothing(session: Session) -> None:
    _load(session, "town", "mt_town_sample.csv")

    again = _load(session, "town", "mt_town_sample.csv")

    assert (again.added, again.updated, again.versions_added, again.unchanged) == (0, 0, 0, 5)


def test_a_change_notice_adds_a_version_and_keeps_the_old_one(session: Session) -> None:
    _load(session, "town", "mt_town_sample.csv")

    change = _load(session, "town", "mt_town_change.csv")

    assert change.versions_added == 3
    # 一丁目: a later effective date with a new postal code becomes the current row.
    first = _town(session, "0003001")
    assert (first.version, first.post_code, first.efct_date) == (2, "1000014", date(2027, 4, 1))
    old, new = _versions(session, "0003001")
    assert (old.version, old.efct_date, old.record["post_code"]) == (1, date(1967, 1, 1), "1000013")
    assert (new.version, new.efct_date, new.record["post_code"]) == (2, date(2027, 4, 1), "1000014")
    # 三丁目: an abolition notice.
    third = _town(session, "0003003")
    assert (third.version, third.ablt_date) == (2, date(2027, 4, 1))
    assert [v.ablt_date for v in _versions(session, "0003003")] == [None, date(2027, 4, 1)]
    # 二丁目: a notice that took effect before the current one is kept, but is not current.
    second = _town(session, "0003002")
    assert (second.version, second.post_code) == (1, "1000013")
    assert [v.efct_date for v in _versions(session, "0003002")] == [
        date(1967, 1, 1),
        date(1950, 1, 1),
    ]
    assert change.updated == 2


def test_a_missing_column_is_named_with_line_one(session: Session) -> None:
    with pytest.raises(ValidationFailed) as error:
        _load(session, "town", "mt_town_missing_column.csv")

    assert error.value.code == "address.abr_invalid_file"
    assert error.value.field == "oaza_cho"
    assert "Line 1" in error.value.message_en
    assert "1行目" in error.value.message_ja
    assert session.execute(select(AbrTown)).first() is None


def test_a_bad_value_is_named_with_its_line_and_nothing_is_written(
    session: Session, tmp_path: Path
) -> None:
    bad = tmp_path / "mt_town.csv"
    lines = (FIXTURES / "mt_town_sample.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("1967-01-01", "1967-13-01")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ValidationFailed) as error:
        address.do_load_abr(session, "town", bad, actor=ACTOR)

    assert (error.value.field, error.value.code) == ("efct_date", "address.abr_invalid_file")
    assert "Line 4" in error.value.message_en


def test_a_line_with_a_wrong_number_of_values_is_reported(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "mt_rsdtdsp_blk.csv"
    shutil.copy(FIXTURES / "mt_rsdtdsp_blk_sample.csv", bad)
    with bad.open("a", encoding="utf-8") as handle:
        handle.write("131016,0003002,002\n")

    with pytest.raises(ValidationFailed) as error:
        address.do_load_abr(session, "rsdtdsp_blk", bad, actor=ACTOR)

    assert error.value.field == "file"
    assert "Line 5" in error.value.message_en


def test_bad_lg_code_kind_and_path_are_named(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "mt_parcel.csv"
    text = (FIXTURES / "mt_parcel_sample.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("032131,0005000,000121", "032130,0005000,000121"), "utf-8")

    with pytest.raises(ValidationFailed) as lg_code:
        address.do_load_abr(session, "parcel", bad, actor=ACTOR)
    with pytest.raises(ValidationFailed) as kind:
        _load(session, "houses", "mt_parcel_sample.csv")
    with pytest.raises(ValidationFailed) as path:
        address.do_load_abr(session, "parcel", tmp_path / "missing.csv", actor=ACTOR)

    assert lg_code.value.field == "lg_code"
    assert "Line 3" in lg_code.value.message_en
    assert (kind.value.field, path.value.field) == ("kind", "file")


def test_blocks_residences_and_parcels_load_idempotently(session: Session) -> None:
    blocks = _load(session, "rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv")
    residences = _load(session, "rsdtdsp_rsdt", "mt_rsdtdsp_rsdt_sample.csv")
    parcels = _load(session, "parcel", "mt_parcel_sample.csv")
    again = [
        _load(session, kind, name)
        for kind, name in (
            ("rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv"),
            ("rsdtdsp_rsdt", "mt_rsdtdsp_rsdt_sample.csv"),
            ("parcel", "mt_parcel_sample.csv"),
        )
    ]

    assert (blocks.added, residences.added, parcels.added) == (3, 3, 2)
    assert [(s.added, s.updated, s.unchanged) for s in again] == [(0, 0, 3), (0, 0, 3), (0, 0, 2)]
    rsdt2 = session.execute(select(Residence).where(Residence.rsdt2_id == "0001")).scalar_one()
    assert (rsdt2.blk_num, rsdt2.rsdt_num, rsdt2.rsdt_num2) == ("1", "2", "1")
    parcel = session.execute(select(Parcel).where(Parcel.prc_num1 == "120")).scalar_one()
    assert (parcel.prc_id, parcel.prc_num2, parcel.prc_num3) == ("000120000100000", "1", None)


def test_points_come_with_a_joined_file_and_survive_a_file_without(session: Session) -> None:
    _load(session, "rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv")

    joined = _load(session, "rsdtdsp_blk", "mt_rsdtdsp_blk_pos_joined.csv")
    plain = _load(session, "rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv")

    assert (joined.updated, plain.updated) == (1, 0)
    block = session.execute(
        select(Block).where(Block.machiaza_id == "0003001", Block.blk_id == "001")
    ).scalar_one()
    assert (block.rep_lat, block.rep_lon) == (35.6745, 139.7525)


def test_each_load_is_audited(session: Session) -> None:
    _load(session, "parcel", "mt_parcel_sample.csv")

    entry = session.execute(
        select(AuditEntry).where(AuditEntry.tag == "address:abr:loaded")
    ).scalar_one()
    assert entry.actor == ACTOR
    assert entry.data["added"] == 2
    assert entry.data["file"] == "mt_parcel_sample.csv"


def test_count_lines_ignores_the_header_and_a_missing_last_newline(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"h\n1\n2")

    assert count_lines(path) == 2
    assert count_lines(FIXTURES / "mt_town_sample.csv") == 5


def test_position_files_add_points_to_loaded_rows(session: Session) -> None:
    _load(session, "town", "mt_town_sample.csv")
    _load(session, "rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv")

    towns = _load(session, "town_pos", "mt_town_pos_sample.csv")
    blocks = _load(session, "rsdtdsp_blk_pos", "mt_rsdtdsp_blk_pos_sample.csv")
    again = _load(session, "rsdtdsp_blk_pos", "mt_rsdtdsp_blk_pos_sample.csv")

    assert (towns.updated, towns.missing) == (1, 0)
    assert (_town(session, "0003001").rep_lat, _town(session, "0003001").rep_lon) == (
        35.673944,
        139.752558,
    )
    # The third line places a block of a 町字 that was never loaded.
    assert (blocks.updated, blocks.missing) == (2, 1)
    assert (again.updated, again.unchanged, again.missing) == (0, 2, 1)
    second = session.execute(select(Block).where(Block.blk_id == "002")).scalar_one()
    assert (second.rep_lat, second.rep_lon) == (35.6741, 139.7531)
    # A town version is not a change of position.
    assert len(_versions(session, "0003001")) == 1


def test_the_facade_reads_the_current_row_and_every_version(session: Session) -> None:
    _load(session, "town", "mt_town_sample.csv")
    _load(session, "town", "mt_town_change.csv")

    current = address.get_abr_town(session, "131016", "0003001")
    versions = address.get_town_versions(session, "131016", "0003001")

    assert (current.oaza_cho, current.chome_number, current.version) == ("霞が関", 1, 2)
    assert [(v.version, v.efct_date) for v in versions] == [
        (1, date(1967, 1, 1)),
        (2, date(2027, 4, 1)),
    ]
    assert versions[1].record["remarks"] == "郵便番号の変更"
    with pytest.raises(NotFound) as missing:
        address.get_town_versions(session, "131016", "0999001")
    assert missing.value.field == "machiaza_id"
