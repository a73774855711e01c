"""Fixtures for the corporate registry: real towns in Chiyoda and a valid registration."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address, corporations
from kiban.web import create_app
from tests.staff_support import admin_key

# Starlette warns at import time when it falls back to ``httpx`` (see tests/web/conftest.py).
with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

CHIYODA = "131016"
NUMBER = "4011001098993"
OPERATOR = "operator:test"
OPERATOR_TOKEN = "test-operator-token-corporations"  # noqa: S105 - a test fixture value.


@pytest.fixture
def towns(session: Session) -> dict[str, address.TownRead]:
    """Two towns of Chiyoda from the real registry data."""
    address.load_registry(session, lg_codes=[CHIYODA])
    found = {
        "marunouchi": address.find_town(session, CHIYODA, "丸の内"),
        "kudan": address.find_town(session, CHIYODA, "九段北"),
    }
    # SQLite transactions begin IMMEDIATE: end this one so the app and the CLI can write.
    session.commit()
    return found


def corporation_create(
    towns: dict[str, address.TownRead], *, number: str = NUMBER
) -> corporations.CorporationCreate:
    return corporations.CorporationCreate(
        corporate_number=number,
        name="株式会社基盤テック",
        name_kana="キバンテック",
        head_office=corporations.AddressInput(
            town_id=towns["marunouchi"].id, chome=1, block_number="1-1"
        ),
        representative=corporations.RepresentativeInput(
            name="山田　太郎",
            name_kana="ヤマダ　タロウ",
            address=corporations.AddressInput(
                town_id=towns["kudan"].id, chome=2, block_number="2番3号"
            ),
        ),
    )


@pytest.fixture
def operator_token(client: TestClient) -> str:
    """An API key of kiban's operator administrator (the shared token no longer acts)."""
    return admin_key()


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client
