"""``/api/v1/benefits``: the operator's officials preview and run programmes; others may not."""

from __future__ import annotations

import warnings

from starlette.exceptions import StarletteDeprecationWarning

from kiban.web import create_app
from tests.blocks.benefits.conftest import CHIYODA, Country
from tests.staff_support import admin_key, bearer, municipality_key

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient


def test_an_operator_official_previews_and_runs(country: Country) -> None:
    key = admin_key()
    with TestClient(create_app()) as client:
        listed = client.get("/api/v1/benefits/programmes", headers=bearer(key))
        assert listed.status_code == 200
        assert {p["code"] for p in listed.json()} == {
            "flat-payment",
            "child-allowance",
            "exempt-household",
        }
        preview = client.get(
            "/api/v1/benefits/programmes/flat-payment/preview",
            params={"base_date": "2026-12-01", "sample": 2},
            headers=bearer(key),
        )
        assert preview.status_code == 200, preview.text
        assert (preview.json()["recipients"], len(preview.json()["sample"])) == (3, 2)
        ran = client.post(
            "/api/v1/benefits/programmes/flat-payment/runs",
            json={"base_date": "2026-12-01"},
            headers=bearer(key),
        )
        assert ran.status_code == 200, ran.text
        assert ran.json()["total_yen"] == 700_000
        runs = client.get("/api/v1/benefits/runs", headers=bearer(key)).json()
        assert [(r["programme"], r["determinations"]) for r in runs] == [("flat-payment", 3)]
        wrong_month = client.post(
            "/api/v1/benefits/programmes/child-allowance/runs",
            json={"base_date": "2026-11-01"},
            headers=bearer(key),
        )
        assert wrong_month.status_code == 422
        assert wrong_month.json()["error"]["field"] == "base_date"


def test_a_municipality_may_not_run_a_national_programme(country: Country) -> None:
    key = municipality_key(CHIYODA)
    with TestClient(create_app()) as client:
        answer = client.post(
            "/api/v1/benefits/programmes/flat-payment/runs",
            json={"base_date": "2026-12-01"},
            headers=bearer(key),
        )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"].startswith("staff.")
