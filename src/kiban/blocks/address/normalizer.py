"""The address normalizer: free text to the registry's coded address.

:func:`normalize` reads one address, :func:`normalize_many` a stream of them (a bad line gets
``match_level="unknown"`` with the reason in ``error``, and the stream goes on). Results use
abr-geocoder v3's field names (:class:`NormalizeResult`).

How a line is read (the rules are in :mod:`kiban.blocks.address.rules`): the text is capped,
NFKC-normalised, a leading postal code taken off, dashes normalised and the rest folded into
a key. The prefecture (optional), the municipality (county optional; a designated city may
stand for its wards) and the town (大字/字 optional; a final 町 optional when unambiguous) are
dictionary hits on slices of the key in the registry index (:mod:`kiban.blocks.address.index`).
Every way to read the start of the line is tried and the one that reads furthest wins; a tie
between different municipalities is settled by the postal code, or reported. Then the 丁目 (or
地割), a 小字, and block/house numbers are parsed; what is left is the remainder.

With the Address Base Registry's own tables loaded (``kiban address load-abr``), the town and
丁目 answer the ABR's real 町字ID, and a block, residence (住居表示) or parcel that the tables
list is matched: ``rsdtdsp_blk``, ``rsdtdsp_rsdt`` or ``parcel``, with their ids and points.

It never claims more than the input supports: a 丁目 is matched only when the input writes one
(``3丁目``, or ``3-4-5`` in a town with 丁目), or when the registry has the town only with
丁目 and a plain number follows it (``X町1-16`` is X町一丁目16, the only reading); block
numbers are always parsed into ``structured_address``, but the level stays ``machiaza`` or
``machiaza_detail`` unless the registry lists that block; matches through a folded spelling,
an omitted 町, a guessed prefecture or an unlisted 丁目 score below exact ones (the
``FACTOR_*`` constants). An input that fits several places equally answers what they have
in common and lists them in ``candidates`` (:mod:`kiban.blocks.address.candidates`).

A town name with one wrong character (a near miss) is read only when nothing else reads: the
municipality is known, no town of it starts the rest, and exactly one of its towns is one
substitution away - any character of a name of :data:`FUZZY_MIN_LENGTH` or more, or within a
group of characters people confuse (巳/己/已, 冶/治: ``data/confusable_kanji.txt``) in any
name - and the name written ends there (a number, a dash or the end follows, not more
name). Numbers and the parts that tell places apart (東西南北, 上中下, 前後, 内外, 新) are
never substituted. Such an answer has ``fuzzy`` set and a lower score (:func:`_fuzzy_town`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine, or_, select
from sqlalchemy.orm import Session

from kiban.blocks.address import candidates as ambiguity
from kiban.blocks.address import rules
from kiban.blocks.address.candidates import Candidate
from kiban.blocks.address.detail import Detail, read_detail
from kiban.blocks.address.index import (
    ALIAS_FORMER,
    ALIAS_NO_MACHI,
    ALIAS_SHORT,
    ALIAS_WARD,
    EXACT,
    AddressIndex,
    CityEntry,
    CityGroup,
    TownEntry,
    get_index,
)
from kiban.blocks.address.models import Block, Parcel, Residence
from kiban.blocks.address.repository import AnyRow, AnySelect
from kiban.blocks.address.results import (
    AddressIds,
    Coordinates,
    MatchLevel,
    NormalizeResult,
    StructuredAddress,
)
from kiban.blocks.address.variants import confusion_groups
from kiban.kernel.errors import Conflict
from kiban.kernel.identifiers import compute_lg_code_check_digit

# Score factors: an exact reading scores 1; each uncertain step multiplies in its factor.
FACTOR_SHORT_PREF = 0.98
FACTOR_FOLDED_SPELLING = 0.9
FACTOR_NO_MACHI = 0.85
FACTOR_CITY_FROM_POSTAL = 0.8
FACTOR_CHOME_UNVERIFIED = 0.9
FACTOR_CHOME_REJECTED = 0.7
FACTOR_TOWN_MISSING = 0.7
FACTOR_CITY_MISSING = 0.7
FACTOR_PREF_GUESSED = 0.95
FACTOR_TRUNCATED = 0.9
FACTOR_WARD_ONLY = 0.9
FACTOR_FORMER_NAME = 0.85
FACTOR_FUZZY_TOWN = 0.6
FACTOR_CONFUSED_TOWN = 0.75

_CITY_ALIAS_FACTORS = {
    ALIAS_NO_MACHI: FACTOR_NO_MACHI,
    ALIAS_WARD: FACTOR_WARD_ONLY,
    ALIAS_FORMER: FACTOR_FORMER_NAME,
}

FUZZY_MIN_LENGTH = 4
"""A town name this long (folded) may be read with any one character wrong."""
_NEVER_SUBSTITUTED = frozenset("東西南北上中下前後内外新")
"""Characters that tell two places apart (北三条 is not 南三条): never a near miss."""

_T = TypeVar("_T")


class RegistryEmpty(Conflict):
    """The registry has no data yet, so there is nothing to normalize against."""

    code = "address.registry_empty"


# --- the index for a session ----------------------------------------------------------------


class _Lookup:
    """Reads the ABR block, residence and parcel tables when a line needs them: on the
    caller's session, or on a connection of its own opened on first use (see :meth:`close`)."""

    def __init__(self, engine: Engine, session: Session | None) -> None:
        self.engine = engine
        self.session = session
        self.own: Connection | None = None

    def first(self, stmt: AnySelect) -> AnyRow | None:
        if self.session is not None:
            return self.session.execute(stmt).first()
        if self.own is None:
            self.own = self.engine.connect()
        return self.own.execute(stmt).first()

    def close(self) -> None:
        if self.own is not None:
            self.own.close()
            self.own = None


def _engine(session: Session | None) -> Engine:
    if session is None:
        from kiban.platform.db import get_engine  # noqa: PLC0415 - only when no session given.

        return get_engine()
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _index(session: Session | None) -> AddressIndex:
    engine = _engine(session)
    index = get_index(engine, None if session is None else session.connection)
    if not index.cities:
        raise RegistryEmpty(
            "住所データがありません。先に `kiban address load` を実行してください",
            "The address registry is empty: run `kiban address load` first",
            field="registry",
        )
    return index


def normalize(text: str, *, session: Session | None = None) -> NormalizeResult:
    """Normalize one address. Raises ``address.registry_empty`` (409) when the registry has
    not been loaded; any text at all gets a result (``unknown`` with ``error`` if unread)."""
    index = _index(session)
    lookup = _Lookup(_engine(session), session)
    try:
        return _normalize(index, text, lookup)
    finally:
        lookup.close()


def normalize_many(
    lines: Iterable[str], *, session: Session | None = None
) -> Iterator[NormalizeResult]:
    """Normalize a stream of addresses lazily, one result per line, in order. A line that
    cannot be read gets ``match_level="unknown"`` and its reason; the stream never stops."""
    index = _index(session)
    lookup = _Lookup(_engine(session), session)
    try:
        for line in lines:
            try:
                result = _normalize(index, line, lookup)
            except Exception as exc:  # One bad line must not end a batch.
                result = _unknown(str(line), f"internal error: {type(exc).__name__}")
            yield result
    finally:
        lookup.close()


# --- reading --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reading:
    """One way of reading the start of a line."""

    pref_code: str | None
    pref_alias: int
    group: CityGroup | None = None
    city: CityEntry | None = None
    town: TownEntry | None = None
    town_alias: int = EXACT
    # Key positions: where the municipality and the town start, where the reading ends.
    city_start: int = 0
    city_end: int = 0
    town_start: int = 0
    end: int = 0
    kyoto_st: tuple[int, int] | None = None
    postal_ok: bool = True
    city_from_postal: bool = False
    city_from_town: bool = False
    candidates: list[TownEntry] = field(default_factory=list)
    # The town was read as a near miss: its score factor (1 when it was not).
    fuzzy: float = 1.0

    def rank(self) -> tuple[int, int, int, int]:
        return (
            self.end,
            int(self.postal_ok),
            -int(self.pref_alias != EXACT)
            - int(self.town_alias != EXACT)
            - int(self.group is not None and self.group.alias not in (EXACT, ALIAS_WARD)),
            int(self.town is not None),
        )


def _unknown(text: str, error: str, postal_code: str | None = None) -> NormalizeResult:
    return NormalizeResult(
        input=text,
        matched_address="",
        unmatched_address=text,
        match_level="unknown",
        score=0.0,
        postal_code=postal_code,
        error=error,
    )


def _hits(
    table: dict[str, list[_T]], lengths: tuple[int, ...], key: str, start: int
) -> list[tuple[int, _T]]:
    """Every entry whose key is ``key[start:start + n]`` for some length n, longest first."""
    found: list[tuple[int, _T]] = []
    room = len(key) - start
    for length in lengths:
        if length <= room:
            for value in table.get(key[start : start + length], ()):
                found.append((start + length, value))
    return found


def _longest_town(city: CityEntry, key: str, start: int) -> list[tuple[int, TownEntry, int]]:
    room = len(key) - start
    for length in city.town_lengths:
        if length <= room:
            entries = city.towns.get(key[start : start + length])
            if entries:
                return [(start + length, town, alias) for town, alias in entries]
    return []


def _is_kyoto(group: CityGroup) -> bool:
    return group.pref_code == "26" and group.name.startswith("京都市")


def _read_town(reading: _Reading, key: str, start: int, postal_code: str | None) -> None:
    """Find the longest town of the reading's municipality (or wards) at ``start``."""
    group = reading.group
    if group is None:
        return
    found: list[tuple[int, TownEntry, int]] = []
    kyoto: tuple[int, int] | None = None
    if _is_kyoto(group):
        # Kyoto's street directions come first (堀川通松原下ル亀屋町); a street name can look
        # like a town (堀川 for 堀川町), so the town after the directions is tried first.
        after = rules.kyoto_street_end(key, start)
        if after > start:
            for member in group.members:
                found.extend(_longest_town(member, key, after))
            kyoto = (start, after)
            if not found:
                # No town after the directions: they are kept, and no town is looked for in
                # them (河原町通 is a street, whatever town is called 河原町).
                reading.kyoto_st = kyoto
                return
    if not found:
        for member in group.members:
            found.extend(_longest_town(member, key, start))
    if not found:
        return
    best_end = max(end for end, _, _ in found)
    found = [f for f in found if f[0] == best_end]
    if len(found) > 1 and postal_code:
        narrowed = [f for f in found if postal_code in f[1].postal_codes]
        found = narrowed or found
    if len(found) > 1:
        exact = [f for f in found if f[2] == EXACT]
        found = exact or found
    towns = {f[1].id for f in found}
    if len(towns) > 1:
        reading.candidates = [f[1] for f in found]
        return
    end, town, alias = found[0]
    reading.town = town
    reading.town_alias = alias
    reading.town_start = end - len(rules.fold_name(town.name)) if alias == EXACT else start
    reading.end = end
    reading.kyoto_st = kyoto
    reading.city = next(m for m in group.members if m.lg_code == town.lg_code)


def _groups(
    index: AddressIndex, key: str, at: int, pref_code: str | None
) -> list[tuple[int, CityGroup]]:
    return [
        (end, g)
        for end, g in _hits(index.city_keys, index.city_lengths, key, at)
        if pref_code is None or g.pref_code == pref_code
    ]


def _readings(
    index: AddressIndex, key: str, postal_code: str | None, postal: set[str] | None
) -> list[_Reading]:
    readings: list[_Reading] = []
    starts: list[tuple[str | None, int, int]] = [(None, 0, EXACT)]
    starts += [
        (code, end, alias)
        for end, (code, alias) in _hits(index.pref_keys, index.pref_lengths, key, 0)
    ]
    for pref_code, pref_end, pref_alias in starts:
        at = pref_end
        groups = _groups(index, key, at, pref_code)
        if not groups:
            # An island or a subprefecture written before the municipality is skipped.
            after = rules.region_end(key, at)
            groups = _groups(index, key, after, pref_code) if after else []
            at = after if groups else at
        if not groups:
            if pref_code is not None:
                readings.append(_Reading(pref_code, pref_alias, city_start=at, end=at))
            continue
        for end, group in groups:
            if len(group.members) > 1 and any(
                m.ward_key and key.startswith(m.ward_key, end) for m in group.members
            ):
                continue  # 札幌市 followed by 中央区: the reading of 札幌市中央区 covers it.
            reading = _Reading(
                pref_code, pref_alias, group=group, city_start=at, city_end=end, end=end
            )
            if len(group.members) == 1:
                reading.city = group.members[0]
            if postal is not None:
                reading.postal_ok = any(m.lg_code in postal for m in group.members)
            _read_town(reading, key, end, postal_code)
            readings.append(reading)
    return readings


def _postal_reading(
    index: AddressIndex,
    key: str,
    base: _Reading | None,
    postal_code: str,
    lg_codes: set[str],
) -> _Reading | None:
    """A reading whose municipality comes from the postal code alone."""
    cities = [index.cities[code] for code in sorted(lg_codes) if code in index.cities]
    if not cities:
        return None
    pref_codes = {c.pref_code for c in cities}
    if len(pref_codes) != 1 or (base is not None and base.pref_code not in (None, *pref_codes)):
        return None
    at = base.end if base is not None else 0
    if len(cities) != 1:
        return None
    city = cities[0]
    group = CityGroup(city.lg_code, city.pref_code, city.name, (city,), EXACT)
    reading = _Reading(
        next(iter(pref_codes)),
        base.pref_alias if base is not None else EXACT,
        group=group,
        city=group.members[0],
        city_start=at,
        city_end=at,
        end=at,
        city_from_postal=True,
    )
    _read_town(reading, key, at, postal_code)
    return reading


# --- the result -----------------------------------------------------------------------------


def _pref_lg_code(pref_code: str) -> str:
    base = f"{pref_code}000"
    return f"{base}{compute_lg_code_check_digit(base)}"


def _text_end(positions: list[int], end: int) -> int:
    """Where the text behind the key's first ``end`` characters ends: right after the last
    one's character, so that marks the folding dropped (字) are left to what follows."""
    return positions[end - 1] + 1 if end > 0 else 0


def _slice(text: str, positions: list[int], start: int, end: int) -> str:
    """The text behind key positions ``[start, end)``."""
    if start >= end or start >= len(positions):
        return ""
    return text[positions[start] : _text_end(positions, end)]


def _plain(text: str) -> str:
    """``text`` without spaces and the optional marks 大字/小字/字, numbers as digits: leaving
    the marks out, or writing 北1条西 for 北一条西, is not a different spelling."""
    text = text.replace(" ", "").replace("大字", "").replace("小字", "").replace("字", "")
    return rules.numerals_to_digits(text)


def _spelled_as(text: str, name: str) -> bool:
    """Whether the input wrote the registry's name as the registry does (up to NFKC)."""
    return _plain(text) == _plain(rules.nfkc(name))


def _numbers(structured: StructuredAddress, block: rules.Block) -> None:
    parts = [*block.parts, None, None, None]
    if block.lot:
        structured.prc_num1, structured.prc_num2, structured.prc_num3 = parts[:3]
    else:
        structured.blk_num, structured.rsdt_num, structured.rsdt_num2 = parts[:3]


def _choose(readings: list[_Reading]) -> tuple[_Reading | None, list[_Reading]]:
    """The reading that reads furthest (then: fits the postal code, is exact, has a town);
    or, when readings tie between different places, ``None`` and the tied ones."""
    if not readings:
        return None, []
    best_rank = max(r.rank() for r in readings)
    best = [r for r in readings if r.rank() == best_rank]
    places = {r.town.id if r.town else r.group.lg_code if r.group else r.pref_code for r in best}
    if len(places) == 1:
        return best[0], []
    return None, best


class _Result:
    """Builds a :class:`NormalizeResult` from a reading, level by level."""

    def __init__(
        self,
        index: AddressIndex,
        text: str,
        key: str,
        positions: list[int],
        lookup: _Lookup | None = None,
    ) -> None:
        self.index = index
        self.lookup = lookup
        self.text = text
        self.key = key
        self.positions = positions
        self.score = 1.0
        self.level: MatchLevel = "pref"
        self.matched = ""
        self.end = 0
        self.structured = StructuredAddress()
        self.ids = AddressIds()
        self.coordinates: Coordinates | None = None
        self.coordinates_level: MatchLevel | None = None
        self.error: str | None = None
        self.fuzzy = False

    def slice(self, start: int, end: int) -> str:
        return _slice(self.text, self.positions, start, end)

    def pref(self, pref_code: str, alias: int, end: int) -> None:
        self.structured.pref = self.index.prefectures.get(pref_code, "")
        self.matched = self.structured.pref
        self.ids.lg_code = _pref_lg_code(pref_code)
        if alias == ALIAS_SHORT:
            self.score *= FACTOR_SHORT_PREF
        self.end = end

    def city(self, reading: _Reading, group: CityGroup) -> None:
        self.level = "city"
        city = reading.city
        if reading.city_from_postal:
            self.score *= FACTOR_CITY_FROM_POSTAL
        elif reading.city_from_town:
            self.score *= FACTOR_CITY_MISSING
        elif not reading.postal_ok:
            self.error = "the postal code is not one of this municipality"
        elif reading.pref_code is None and len(self._same_names(reading)) > 1:
            self.score *= FACTOR_PREF_GUESSED
        if city is None:
            self.structured.city = group.name
            self.ids.lg_code = group.lg_code
            self.matched += group.name
        else:
            self.structured.county = city.county
            self.structured.city = city.parent or city.name
            self.structured.ward = city.ward
            self.ids.lg_code = city.lg_code
            self.matched += (city.county or "") + city.name
        if group.alias in _CITY_ALIAS_FACTORS:
            self.score *= _CITY_ALIAS_FACTORS[group.alias]
        elif not (reading.city_from_postal or reading.city_from_town):
            written = self.slice(reading.city_start, reading.city_end)
            names = [group.name] if city is None else [city.name, (city.county or "") + city.name]
            if not any(_spelled_as(written, name) for name in names):
                self.score *= FACTOR_FOLDED_SPELLING
        self.end = reading.end
        if reading.town is None and reading.kyoto_st is not None:
            self.structured.kyoto_st = self.slice(*reading.kyoto_st)
        rest = self.key[reading.end :].strip(" -")
        if reading.town is None and rest and not rest[0].isdigit():
            self.score *= FACTOR_TOWN_MISSING

    def _same_names(self, reading: _Reading) -> list[CityGroup]:
        return self.index.city_keys.get(self.key[reading.city_start : reading.city_end], [])

    def town(self, reading: _Reading, town: TownEntry) -> None:
        self.level = "machiaza"
        # The registry's spelling: the ABR's own when its town master is loaded.
        name = town.name
        if self.index.abr_names:
            name = self.index.abr_names.get((town.lg_code, rules.fold_name(name)), name)
        self.structured.oaza_cho = name
        self.ids.machiaza_id = town.machiaza_id
        self.ids.town_id = town.id if isinstance(town.id, uuid.UUID) else uuid.UUID(town.id)
        self.matched += name
        written = self.slice(reading.town_start, reading.end)
        if reading.fuzzy != 1.0:
            self.score *= reading.fuzzy
            self.fuzzy = True
        elif reading.town_alias == ALIAS_NO_MACHI:
            self.score *= FACTOR_NO_MACHI
        elif not _spelled_as(written, name) and not (
            town.postal_name is not None and _spelled_as(written, town.postal_name)
        ):
            self.score *= FACTOR_FOLDED_SPELLING
        if reading.kyoto_st is not None:
            self.structured.kyoto_st = self.slice(*reading.kyoto_st)
        if town.lat is not None and town.lng is not None:
            self.coordinates = Coordinates(lat=town.lat, lon=town.lng)
            self.coordinates_level = "machiaza"
        self.end = reading.end
        self.detail(town, read_detail(town, self.key, reading.end, reading.town_alias))

    def detail(self, town: TownEntry, detail: Detail) -> None:
        chome = detail.chome
        if detail.chome_status == "rejected":
            # A 丁目 the town does not have: what follows it is not understood either, and all
            # of it stays in the remainder.
            self.score *= FACTOR_CHOME_REJECTED
            return
        if chome is not None:
            self.structured.chome = chome.text
            if detail.chome_status in ("verified", "accepted"):
                self.level = "machiaza_detail"
                self.matched += chome.text
                self.ids.machiaza_id = f"{town.machiaza_id[:4]}{chome.number:03d}"
                point = town.chomes.get(chome.number)
                if point is not None:
                    self.coordinates = Coordinates(lat=point[0], lon=point[1])
                    self.coordinates_level = "machiaza_detail"
            if detail.chome_status == "accepted":
                self.score *= FACTOR_CHOME_UNVERIFIED
        self.end = detail.end
        if detail.koaza is not None:
            self.structured.koaza = self.slice(*detail.koaza)
        if detail.block is not None:
            _numbers(self.structured, detail.block)
        if self.index.abr_towns:
            self.abr(town, detail)

    # --- with the Address Base Registry's own tables ---------------------------------------

    def abr(self, town: TownEntry, detail: Detail) -> None:
        """The ABR's real 町字ID, and the residential block and residence (住居表示) or the
        parcel, when its tables are loaded and have the numbers the input gave."""
        number = detail.chome.number if detail.chome is not None else 0
        machiaza = self.index.abr_towns.get((town.lg_code, rules.fold_name(town.name), number))
        if machiaza is None:
            return
        self.ids.machiaza_id = machiaza.machiaza_id
        if machiaza.lat is not None and machiaza.lon is not None:
            self.coordinates = Coordinates(lat=machiaza.lat, lon=machiaza.lon)
            self.coordinates_level = self.level
        block = detail.block
        if block is None or self.lookup is None:
            return
        if machiaza.residential:
            self.structured.prc_num1 = self.structured.prc_num2 = self.structured.prc_num3 = None
            _numbers(self.structured, dataclasses.replace(block, lot=False))
            if self.index.has_blocks and block.parts[0].isdigit():
                self.residential(self.lookup, town.lg_code, machiaza.machiaza_id, block)
        else:
            self.structured.blk_num = self.structured.rsdt_num = self.structured.rsdt_num2 = None
            _numbers(self.structured, dataclasses.replace(block, lot=True))
            if self.index.has_parcels:
                self.parcel(self.lookup, town.lg_code, machiaza.machiaza_id, block)

    def _point(self, lat: float | None, lon: float | None) -> None:
        if lat is not None and lon is not None:
            self.coordinates = Coordinates(lat=lat, lon=lon)
            self.coordinates_level = self.level

    def residential(
        self, lookup: _Lookup, lg_code: str, machiaza_id: str, block: rules.Block
    ) -> None:
        found = lookup.first(
            select(Block.blk_id, Block.rep_lat, Block.rep_lon).where(
                Block.lg_code == lg_code,
                Block.machiaza_id == machiaza_id,
                Block.blk_num == block.parts[0],
                Block.ablt_date.is_(None),
            )
        )
        if found is None:
            return
        blk_id, lat, lon = found
        self.level = "rsdtdsp_blk"
        self.ids.rsdtdsp_blk_id = blk_id
        self.matched += f"{block.parts[0]}番"
        self.end = block.ends[0]
        self._point(lat, lon)
        if len(block.parts) < 2 or not self.index.has_residences:
            return
        for count in (3, 2) if len(block.parts) >= 3 else (2,):
            nums = block.parts[1:count]
            second = nums[1] if len(nums) > 1 else None
            house = lookup.first(
                select(Residence.rsdt_id, Residence.rsdt2_id, Residence.rep_lat, Residence.rep_lon)
                .where(
                    Residence.lg_code == lg_code,
                    Residence.machiaza_id == machiaza_id,
                    Residence.blk_id == blk_id,
                    Residence.rsdt_num == nums[0],
                    Residence.ablt_date.is_(None),
                )
                .where(
                    Residence.rsdt_num2 == second
                    if second is not None
                    else or_(Residence.rsdt_num2.is_(None), Residence.rsdt_num2 == "")
                )
            )
            if house is not None:
                rsdt_id, rsdt2_id, lat, lon = house
                self.level = "rsdtdsp_rsdt"
                self.ids.rsdtdsp_rsdt_id = rsdt_id + (rsdt2_id or "")
                self.matched += f"{nums[0]}号" + (f"-{second}" if second else "")
                self.end = block.ends[count - 1]
                self._point(lat, lon)
                return

    def parcel(self, lookup: _Lookup, lg_code: str, machiaza_id: str, block: rules.Block) -> None:
        parts = [p for p in block.parts[:3] if p.isdigit()]
        for count in range(len(parts), 0, -1):
            nums = [*parts[:count], None, None][:3]
            conditions = [
                column == value if value is not None else or_(column.is_(None), column == "")
                for column, value in zip(
                    (Parcel.prc_num1, Parcel.prc_num2, Parcel.prc_num3), nums, strict=True
                )
            ]
            found = lookup.first(
                select(Parcel.prc_id, Parcel.rep_lat, Parcel.rep_lon).where(
                    Parcel.lg_code == lg_code,
                    Parcel.machiaza_id == machiaza_id,
                    Parcel.ablt_date.is_(None),
                    *conditions,
                )
            )
            if found is not None:
                prc_id, lat, lon = found
                self.level = "parcel"
                self.ids.prc_id = prc_id
                self.matched += f"{parts[0]}番地" + "".join(
                    ("" if i == 1 else "-") + p for i, p in enumerate(parts[1:count], start=1)
                )
                self.end = block.ends[count - 1]
                self._point(lat, lon)
                return

    def build(self, raw: str, postal_code: str | None, cut: str) -> NormalizeResult:
        rest = self.text[_text_end(self.positions, self.end) :].lstrip(" -")
        if cut:
            rest += cut
            self.score *= FACTOR_TRUNCATED
            self.error = self.error or (
                f"input longer than {rules.MAX_INPUT} characters: the rest was not read"
            )
        return NormalizeResult.model_construct(
            input=raw,
            matched_address=self.matched,
            unmatched_address=rest,
            match_level=self.level,
            score=round(self.score, 4),
            coordinates=self.coordinates,
            coordinates_level=self.coordinates_level,
            ids=self.ids,
            structured_address=self.structured,
            postal_code=postal_code,
            error=self.error,
            fuzzy=self.fuzzy,
        )


def _tie(index: AddressIndex, tied: list[_Reading]) -> tuple[_Reading | None, str]:
    """What is left of tied readings: their common prefecture if they share one, and the
    error that names the places."""
    names = sorted(
        {
            index.prefectures.get(r.group.pref_code, "") + r.group.name
            if r.group
            else index.prefectures.get(r.pref_code or "", "")
            for r in tied
        }
    )
    error = "ambiguous: " + ", ".join(names)
    prefs = {r.group.pref_code if r.group else r.pref_code for r in tied}
    pref_code = next(iter(prefs))
    if len(prefs) == 1 and pref_code is not None:
        return _Reading(pref_code, EXACT, end=tied[0].city_start), error
    return None, error


def _normalize(index: AddressIndex, raw: str, lookup: _Lookup | None = None) -> NormalizeResult:
    """The whole reading of one line (see the module docstring for the order)."""
    if not isinstance(raw, str):
        return _unknown(repr(raw), "not text")
    head, cut = rules.cap_length(raw)
    text = rules.nfkc(head)
    postal_code, text = rules.extract_postal_code(text)
    if not text and postal_code is None:
        return _unknown(raw, "empty input")
    text = rules.normalize_dashes(text)
    key, positions = rules.fold(text)
    postal = index.postal.get(postal_code) if postal_code else None

    reading, tied = _choose(_readings(index, key, postal_code, postal))
    error = None
    found: list[Candidate] = []
    if reading is None and tied:
        found = _tied_candidates(index, tied)
        reading, error = _tie(index, tied)
        if reading is None:
            return _ambiguous(_unknown(raw, error, postal_code), found)
    if postal_code and postal and (reading is None or reading.group is None):
        reading = _postal_reading(index, key, reading, postal_code, postal) or reading
    if not found and (reading is None or reading.group is None):
        reading, found, error = _without_city(index, key, reading, postal_code)
        if reading is None and found:
            return _ambiguous(_unknown(raw, error or "", postal_code), found)
    if reading is None:
        return _unknown(raw, "no prefecture or municipality found", postal_code)

    _fuzzy_town(reading, key)
    result = _Result(index, text, key, positions, lookup)
    group = reading.group
    pref_code = reading.pref_code or (group.pref_code if group else "")
    result.pref(pref_code, reading.pref_alias, reading.end if group is None else 0)
    if group is not None:
        result.city(reading, group)
        if reading.town is not None:
            result.town(reading, reading.town)
        elif reading.candidates:
            error = error or "ambiguous town: " + ", ".join(
                sorted({t.name for t in reading.candidates})
            )
            found = [ambiguity.of_town(index, t) for t in reading.candidates]
    elif key[reading.end :].strip(" -"):
        result.score *= FACTOR_CITY_MISSING  # Text follows that names no municipality.
    result.error = result.error or error
    return _ambiguous(result.build(raw, postal_code, cut), found)


def _ambiguous(result: NormalizeResult, found: list[Candidate]) -> NormalizeResult:
    if found:
        result.candidates = ambiguity.listed(found)
    return result


def _tied_candidates(index: AddressIndex, tied: list[_Reading]) -> list[Candidate]:
    found: list[Candidate] = []
    for reading in tied:
        if reading.town is not None:
            found.append(ambiguity.of_town(index, reading.town))
        elif reading.candidates:
            found.extend(ambiguity.of_town(index, t) for t in reading.candidates)
        elif reading.group is not None:
            found.append(ambiguity.of_city(index, reading.group, reading.city))
    return found


def _without_city(
    index: AddressIndex, key: str, reading: _Reading | None, postal_code: str | None
) -> tuple[_Reading | None, list[Candidate], str | None]:
    """The reading of an input that names no municipality, through its town: the one
    municipality that has it, or the candidates (and their common prefecture, if any)."""
    by_town, towns = _town_reading(index, key, reading, postal_code)
    if by_town is not None:
        return by_town, [], None
    if not towns:
        return reading, [], None
    found = [ambiguity.of_town(index, t) for t in towns]
    error = "ambiguous town: " + ", ".join(
        sorted({f"{c.pref}{c.city}{c.ward or ''}{c.oaza_cho}" for c in found})
    )
    prefs = {index.cities[t.lg_code].pref_code for t in towns}
    if reading is None and len(prefs) == 1:
        reading = _Reading(prefs.pop(), EXACT)
    return reading, found, error


def _town_reading(
    index: AddressIndex, key: str, base: _Reading | None, postal_code: str | None
) -> tuple[_Reading | None, list[TownEntry]]:
    """A town written without its municipality (after the prefecture, if any): the reading
    of the one municipality that has it, or ``None`` and the towns of all that have it."""
    at = base.end if base is not None else 0
    pref_code = base.pref_code if base is not None else None
    _, towns = ambiguity.towns_without_city(index, key, at, pref_code)
    if len(towns) > 1 and postal_code:
        towns = [t for t in towns if postal_code in t.postal_codes] or towns
    if len({t.lg_code for t in towns}) != 1:
        return None, towns
    city = index.cities[towns[0].lg_code]
    group = CityGroup(city.lg_code, city.pref_code, city.name, (city,), EXACT)
    reading = _Reading(
        city.pref_code,
        base.pref_alias if base is not None else EXACT,
        group=group,
        city=city,
        city_start=at,
        city_end=at,
        end=at,
        city_from_town=True,
    )
    _read_town(reading, key, at, postal_code)
    if reading.town is None and not reading.candidates:
        return None, []
    return reading, []


def _one_substitution(written: str, name: str) -> tuple[str, str] | None:
    """The two characters where ``written`` and ``name`` (of one length) differ, when they
    differ in exactly one place; else ``None``."""
    found: tuple[str, str] | None = None
    for a, b in zip(written, name, strict=True):
        if a != b:
            if found is not None:
                return None
            found = (a, b)
    return found


def _near_miss_factor(written: str, name: str) -> float | None:
    """The score factor of reading ``written`` as the town key ``name`` (one length), or
    ``None`` when it is no near miss (see the module docstring)."""
    pair = _one_substitution(written, name)
    if pair is None:
        return None
    a, b = pair
    if not (a.isalpha() and b.isalpha()) or a.isascii() or b.isascii():
        return None  # Digits, dashes, spaces, ASCII letters: a number is another place.
    if a in _NEVER_SUBSTITUTED or b in _NEVER_SUBSTITUTED:
        return None
    if b in confusion_groups().get(a, ()):
        return FACTOR_CONFUSED_TOWN
    return FACTOR_FUZZY_TOWN if len(name) >= FUZZY_MIN_LENGTH else None


def _name_goes_on(key: str, at: int) -> bool:
    """Whether the input's name goes on at ``at`` (a letter, not a number, a dash or the
    end): a near miss must be the whole name written, not the start of a longer one."""
    return at < len(key) and key[at].isalpha() and not key[at].isascii()


def _fuzzy_town(reading: _Reading, key: str) -> None:
    """Read the town after the municipality as a near miss, when exactly one town of the
    municipality (or of the wards of the city) is one; several near misses read nothing."""
    group = reading.group
    if group is None or reading.town is not None or reading.candidates or reading.kyoto_st:
        return
    start = reading.end
    room = len(key) - start
    if room < 2 or key[start : start + 2].isascii():
        return  # Numbers or nothing: no town was written.
    found: dict[object, tuple[int, TownEntry, CityEntry, float]] = {}
    for member in group.members:
        for name, entries in member.towns.items():
            length = len(name)
            if length < 2 or length > room or _name_goes_on(key, start + length):
                continue
            factor = _near_miss_factor(key[start : start + length], name)
            if factor is None:
                continue
            for town, _ in entries:
                found.setdefault(town.id, (start + length, town, member, factor))
                if len(found) > 1:
                    return
    if len(found) != 1:
        return
    end, town, member, factor = next(iter(found.values()))
    reading.town = town
    reading.town_alias = EXACT
    reading.town_start = start
    reading.end = end
    reading.city = member
    reading.fuzzy = factor
