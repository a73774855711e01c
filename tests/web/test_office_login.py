"""Office sign-in chooses the municipality whose office the official works for."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.blocks import address
from kiban.platform.db import transaction


def test_the_official_signs_in_for_one_municipality(
    client: TestClient, engine: Engine, operator_token: str
) -> None:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016", "011011"])
    form = client.get("/office/login?lang=en").text
    assert '<option value="011011"' in form
    assert 'for="lg_code"' in form

    login = client.post(
        "/office/login",
        data={"token": operator_token, "lg_code": "011011", "next": "/office"},
        follow_redirects=False,
    )
    assert login.status_code == 303
    home = client.get("/office?lang=en").text
    assert "北海道札幌市中央区" in home
    assert "011011" in home


def test_an_unknown_municipality_is_refused_naming_the_field(
    client: TestClient, engine: Engine, operator_token: str
) -> None:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016"])
    refused = client.post(
        "/office/login?lang=en",
        data={"token": operator_token, "lg_code": "011011", "next": "/office"},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert 'href="#lg_code"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    # Nothing was started: the office still asks to sign in.
    assert client.get("/office", follow_redirects=False).status_code == 303
