"""Readers of the official Address Base Registry (アドレス・ベース・レジストリ) CSV files.

The Digital Agency publishes each dataset as UTF-8 CSV (sometimes with a byte-order mark) with
an English header row. Columns are read **by header name**, so files with added columns (newer
releases add, for example, ``oaza_cho_uncmn_*`` and ``alias_*`` to the town master) load
unchanged; a missing required column is reported by name with line 1, a bad value by column and
line. The headers as published:

Town master, ``mt_town_all.csv`` / ``mt_town_prefNN.csv`` / ``mt_town_cityNNNNNN.csv`` (町字)::

    lg_code, machiaza_id, machiaza_type, pref, pref_kana, pref_roma, county, county_kana,
    county_roma, city, city_kana, city_roma, ward, ward_kana, ward_roma, oaza_cho,
    oaza_cho_kana, oaza_cho_roma, chome, chome_kana, chome_number, koaza, koaza_kana,
    koaza_roma, machiaza_dist, rsdt_addr_flg, rsdt_addr_mtd_code, oaza_cho_aka_flg,
    koaza_aka_code, oaza_cho_gsi_uncmn, koaza_gsi_uncmn, status_flg, wake_num_flg, efct_date,
    ablt_date, src_code, post_code, remarks

Residential blocks, ``mt_rsdtdsp_blk_*.csv`` (住居表示-街区マスター)::

    lg_code, machiaza_id, blk_id, city, ward, oaza_cho, chome, koaza, machiaza_dist, blk_num,
    rsdt_addr_flg, rsdt_addr_mtd_code, status_flg, efct_date, ablt_date, src_code, remarks

Residences, ``mt_rsdtdsp_rsdt_*.csv`` (住居表示-住居マスター)::

    lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, city, ward, oaza_cho, chome, koaza,
    machiaza_dist, blk_num, rsdt_num, rsdt_num2, basic_rsdt_div, rsdt_addr_flg,
    rsdt_addr_mtd_code, status_flg, efct_date, ablt_date, src_code, remarks

Parcels, ``mt_parcel_*.csv`` (地番マスター)::

    lg_code, machiaza_id, prc_id, city, ward, oaza_cho, chome, koaza, prc_num1, prc_num2,
    prc_num3, rsdt_addr_flg, prc_rec_flg, prc_area_code, efct_date, ablt_date, src_code,
    remarks, real_prop_num

Representative points are published in separate position files, loaded after their main
file (kinds ``town_pos``, ``rsdtdsp_blk_pos``, ``rsdtdsp_rsdt_pos``, ``parcel_pos``); they add
``rep_lon``, ``rep_lat`` (JGD2011 longitude and latitude) to the rows with the same key::

    mt_town_pos_*:        lg_code, machiaza_id, rsdt_addr_flg, rep_lon, rep_lat, rep_srid, ...
    mt_rsdtdsp_blk_pos_*: lg_code, machiaza_id, blk_id, rsdt_addr_flg, rsdt_addr_mtd_code,
                          rep_lon, rep_lat, rep_srid, ...
    mt_rsdtdsp_rsdt_pos_*: lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, rsdt_addr_flg,
                          rsdt_addr_mtd_code, rep_lon, rep_lat, rep_srid, ...
    mt_parcel_pos_*:      lg_code, machiaza_id, prc_id, rep_lon, rep_lat, rep_srid, ...

A block, residence or parcel file that already carries ``rep_lat``/``rep_lon`` (joined with its
position file) is read with its points.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from kiban.blocks.address.errors import AbrFileInvalid
from kiban.kernel.identifiers import is_valid_lg_code

Kind = Literal[
    "town",
    "rsdtdsp_blk",
    "rsdtdsp_rsdt",
    "parcel",
    "town_pos",
    "rsdtdsp_blk_pos",
    "rsdtdsp_rsdt_pos",
    "parcel_pos",
]
KINDS: tuple[Kind, ...] = (
    "town",
    "rsdtdsp_blk",
    "rsdtdsp_rsdt",
    "parcel",
    "town_pos",
    "rsdtdsp_blk_pos",
    "rsdtdsp_rsdt_pos",
    "parcel_pos",
)
POSITION_OF: dict[Kind, Kind] = {
    "town_pos": "town",
    "rsdtdsp_blk_pos": "rsdtdsp_blk",
    "rsdtdsp_rsdt_pos": "rsdtdsp_rsdt",
    "parcel_pos": "parcel",
}
"""The main kind each position file adds points to."""

_DIGITS = {
    "machiaza_id": re.compile(r"^[0-9]{7}$"),
    "blk_id": re.compile(r"^[0-9]{1,3}$"),
    "rsdt_id": re.compile(r"^[0-9]{1,3}$"),
    "rsdt2_id": re.compile(r"^(?:[0-9]{1,4})?$"),
    "prc_id": re.compile(r"^[0-9]{1,15}$"),
    "post_code": re.compile(r"^(?:[0-9]{7})?$"),
}


@dataclass(frozen=True)
class FileSpec:
    """The columns a kind of file must have, and those read when present."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


SPECS: dict[Kind, FileSpec] = {
    "town": FileSpec(
        required=("lg_code", "machiaza_id", "pref", "city", "oaza_cho", "efct_date"),
        optional=(
            "machiaza_type",
            "county",
            "ward",
            "oaza_cho_kana",
            "chome",
            "chome_number",
            "koaza",
            "koaza_kana",
            "rsdt_addr_flg",
            "status_flg",
            "ablt_date",
            "post_code",
        ),
    ),
    "rsdtdsp_blk": FileSpec(
        required=("lg_code", "machiaza_id", "blk_id", "blk_num"),
        optional=("rsdt_addr_flg", "efct_date", "ablt_date", "rep_lat", "rep_lon"),
    ),
    "rsdtdsp_rsdt": FileSpec(
        required=("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rsdt_num"),
        optional=(
            "rsdt2_id",
            "blk_num",
            "rsdt_num2",
            "efct_date",
            "ablt_date",
            "rep_lat",
            "rep_lon",
        ),
    ),
    "parcel": FileSpec(
        required=("lg_code", "machiaza_id", "prc_id", "prc_num1"),
        optional=("prc_num2", "prc_num3", "efct_date", "ablt_date", "rep_lat", "rep_lon"),
    ),
    "town_pos": FileSpec(required=("lg_code", "machiaza_id", "rep_lon", "rep_lat")),
    "rsdtdsp_blk_pos": FileSpec(
        required=("lg_code", "machiaza_id", "blk_id", "rep_lon", "rep_lat")
    ),
    "rsdtdsp_rsdt_pos": FileSpec(
        required=("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rep_lon", "rep_lat"),
        optional=("rsdt2_id",),
    ),
    "parcel_pos": FileSpec(required=("lg_code", "machiaza_id", "prc_id", "rep_lon", "rep_lat")),
}


def _invalid(line: int, column: str, value: str, what_ja: str, what_en: str) -> AbrFileInvalid:
    return AbrFileInvalid(
        f"{line}行目の{column}が正しくありません（{what_ja}）: {value!r}",
        f"Line {line}: {column} is not valid ({what_en}): {value!r}",
        field=column,
    )


class Row:
    """One data line of a file: its line number and its values by column name."""

    __slots__ = ("line", "values")

    def __init__(self, line: int, values: dict[str, str]) -> None:
        self.line = line
        self.values = values

    def text(self, column: str) -> str | None:
        """The value stripped, ``None`` when empty or when the file has no such column."""
        value = self.values.get(column, "").strip()
        return value or None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise AbrFileInvalid(
                f"{self.line}行目の{column}が空です",
                f"Line {self.line}: {column} is empty",
                field=column,
            )
        return value

    def code(self, column: str) -> str:
        """A code column checked for its published form (digits of a fixed length)."""
        value = self.values.get(column, "").strip()
        if not _DIGITS[column].match(value):
            raise _invalid(self.line, column, value, "桁数の決まった数字", "fixed-length digits")
        return value

    def lg_code(self) -> str:
        value = self.values.get("lg_code", "").strip()
        if not is_valid_lg_code(value):
            raise _invalid(
                self.line,
                "lg_code",
                value,
                "検査数字付き6桁の地方公共団体コード",
                "a 6-digit local government code with its check digit",
            )
        return value

    def date(self, column: str) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return date.fromisoformat(value.replace("/", "-"))
        except ValueError:
            raise _invalid(
                self.line, column, value, "YYYY-MM-DD の日付", "a YYYY-MM-DD date"
            ) from None

    def flag(self, column: str) -> bool:
        value = self.text(column)
        if value not in (None, "0", "1"):
            raise _invalid(self.line, column, value or "", "0 か 1", "0 or 1")
        return value == "1"

    def number(self, column: str) -> int | None:
        value = self.text(column)
        if value is None:
            return None
        if not value.isdigit():
            raise _invalid(self.line, column, value, "数字", "a number")
        return int(value)

    def coordinate(self, column: str) -> float | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise _invalid(
                self.line, column, value, "緯度・経度", "a latitude or longitude"
            ) from None


def count_lines(path: Path) -> int:
    """How many data lines (after the header) the file has, counted fast in binary."""
    newlines = 0
    last = b"\n"
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    lines = newlines + (0 if last == b"\n" else 1)
    return max(lines - 1, 0)


def read_rows(path: Path, kind: Kind) -> tuple[set[str], Iterator[Row]]:
    """The file's columns and an iterator over its data lines.

    Raises ``address.abr_invalid_file`` (field = the column) for a missing required column
    (line 1), and, while iterating, for a line with more or fewer values than the header.
    """
    spec = SPECS[kind]
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except (csv.Error, UnicodeDecodeError) as error:
        handle.close()
        raise AbrFileInvalid(
            f"1行目を読めません: {error}", f"Line 1 cannot be read: {error}", field="file"
        ) from None
    for column in spec.required:
        if column not in header:
            handle.close()
            raise AbrFileInvalid(
                f"1行目（見出し）に必要な列 {column} がありません",
                f"Line 1 (the header) lacks the required column {column}",
                field=column,
            )

    def rows() -> Iterator[Row]:
        with handle:
            line = 1
            try:
                for values in reader:
                    line = reader.line_num
                    if not values:
                        continue
                    if len(values) != len(header):
                        raise AbrFileInvalid(
                            f"{line}行目の列数が見出しと違います"
                            f"（{len(values)}列、見出しは{len(header)}列）",
                            f"Line {line} has {len(values)} values, the header {len(header)}",
                            field="file",
                        )
                    yield Row(line, dict(zip(header, values, strict=True)))
            except (csv.Error, UnicodeDecodeError) as error:
                raise AbrFileInvalid(
                    f"{line + 1}行目を読めません: {error}",
                    f"Line {line + 1} cannot be read: {error}",
                    field="file",
                ) from None

    return set(header), rows()


# --- one parsed record per kind --------------------------------------------------------------

Parser = Callable[[Row], dict[str, Any]]


def town_record(row: Row) -> dict[str, Any]:
    """The columns of ``address_abr_towns`` from a town master line."""
    chome_number = row.number("chome_number")
    post_code = row.text("post_code")
    if post_code is not None:
        post_code = row.code("post_code")
    return {
        "lg_code": row.lg_code(),
        "machiaza_id": row.code("machiaza_id"),
        "machiaza_type": row.text("machiaza_type"),
        "pref": row.required("pref"),
        "county": row.text("county"),
        "city": row.required("city"),
        "ward": row.text("ward"),
        "oaza_cho": row.text("oaza_cho"),
        "oaza_cho_kana": row.text("oaza_cho_kana"),
        "chome": row.text("chome"),
        "chome_number": chome_number,
        "koaza": row.text("koaza"),
        "koaza_kana": row.text("koaza_kana"),
        "rsdt_addr_flg": row.flag("rsdt_addr_flg"),
        "status_flg": row.text("status_flg"),
        "efct_date": row.date("efct_date"),
        "ablt_date": row.date("ablt_date"),
        "post_code": post_code,
    }


def block_record(row: Row) -> dict[str, Any]:
    return {
        "lg_code": row.lg_code(),
        "machiaza_id": row.code("machiaza_id"),
        "blk_id": row.code("blk_id"),
        "blk_num": row.required("blk_num"),
        "rsdt_addr_flg": row.flag("rsdt_addr_flg"),
        "efct_date": row.date("efct_date"),
        "ablt_date": row.date("ablt_date"),
        "rep_lat": row.coordinate("rep_lat"),
        "rep_lon": row.coordinate("rep_lon"),
    }


def residence_record(row: Row) -> dict[str, Any]:
    return {
        "lg_code": row.lg_code(),
        "machiaza_id": row.code("machiaza_id"),
        "blk_id": row.code("blk_id"),
        "rsdt_id": row.code("rsdt_id"),
        "rsdt2_id": row.code("rsdt2_id"),
        "blk_num": row.text("blk_num"),
        "rsdt_num": row.required("rsdt_num"),
        "rsdt_num2": row.text("rsdt_num2"),
        "efct_date": row.date("efct_date"),
        "ablt_date": row.date("ablt_date"),
        "rep_lat": row.coordinate("rep_lat"),
        "rep_lon": row.coordinate("rep_lon"),
    }


def parcel_record(row: Row) -> dict[str, Any]:
    return {
        "lg_code": row.lg_code(),
        "machiaza_id": row.code("machiaza_id"),
        "prc_id": row.code("prc_id"),
        "prc_num1": row.required("prc_num1"),
        "prc_num2": row.text("prc_num2"),
        "prc_num3": row.text("prc_num3"),
        "efct_date": row.date("efct_date"),
        "ablt_date": row.date("ablt_date"),
        "rep_lat": row.coordinate("rep_lat"),
        "rep_lon": row.coordinate("rep_lon"),
    }


KEYS: dict[Kind, tuple[str, ...]] = {
    "town": ("lg_code", "machiaza_id"),
    "rsdtdsp_blk": ("lg_code", "machiaza_id", "blk_id"),
    "rsdtdsp_rsdt": ("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rsdt2_id"),
    "parcel": ("lg_code", "machiaza_id", "prc_id"),
}
"""The registry's key of each kind of row (unique in its table)."""


def position_record(kind: Kind) -> Parser:
    """The parser of a position file: the key of the row it places, and its point."""
    key = KEYS[POSITION_OF[kind]]

    def parse(row: Row) -> dict[str, Any]:
        record: dict[str, Any] = {
            column: row.lg_code() if column == "lg_code" else row.code(column) for column in key
        }
        record["rep_lat"] = row.coordinate("rep_lat")
        record["rep_lon"] = row.coordinate("rep_lon")
        return record

    return parse


PARSERS: dict[Kind, Parser] = {
    "town": town_record,
    "rsdtdsp_blk": block_record,
    "rsdtdsp_rsdt": residence_record,
    "parcel": parcel_record,
}

PARSERS.update({kind: position_record(kind) for kind in POSITION_OF})
