"""HTTP shapes of the address API. A normalization result is the normalizer's own
:class:`~kiban.blocks.address.normalizer.NormalizeResult` (abr-geocoder v3 names), so the API
documents exactly what the block returns."""

from __future__ import annotations

from typing import Any

MAX_BATCH = 1000
"""The most addresses one ``POST /api/v1/address/normalize`` takes."""

MAX_TEXT = 2000
"""The longest address text the API accepts (the normalizer reads only the first part of a
longer line anyway)."""

NORMALIZE_EXAMPLE: dict[str, Any] = {
    "input": "〒100-0013 東京都千代田区霞が関1-3-1 合同庁舎4号館",
    "matched_address": "東京都千代田区霞が関一丁目",
    "unmatched_address": "3-1 合同庁舎4号館",
    "match_level": "machiaza_detail",
    "score": 1.0,
    "coordinates": {"lat": 35.673944, "lon": 139.752558},
    "coordinates_level": "machiaza_detail",
    "ids": {
        "lg_code": "131016",
        "machiaza_id": "0008001",
        "town_id": "d275bc0f-0eac-5d05-a77d-f71392364328",
        "rsdtdsp_blk_id": None,
        "rsdtdsp_rsdt_id": None,
        "prc_id": None,
    },
    "structured_address": {
        "pref": "東京都",
        "county": None,
        "city": "千代田区",
        "ward": None,
        "kyoto_st": None,
        "oaza_cho": "霞が関",
        "chome": "一丁目",
        "koaza": None,
        "blk_num": "3",
        "rsdt_num": "1",
        "rsdt_num2": None,
        "prc_num1": None,
        "prc_num2": None,
        "prc_num3": None,
    },
    "postal_code": "1000013",
    "error": None,
    "candidates": None,
}
"""One result as the API returns it (the ids are illustrative)."""

BATCH_EXAMPLE = ["東京都千代田区霞が関1-3-1", "大阪市北区梅田1丁目", "???"]
