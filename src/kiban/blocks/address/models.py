"""Tables of the address base registry: prefectures, municipalities and towns (町字).

Reference data loaded in bulk by :func:`kiban.blocks.address.service.load_registry`; other
blocks refer to a town by its ``id`` (no foreign keys across blocks) and read it through the
facade.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, TimestampMixin


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
