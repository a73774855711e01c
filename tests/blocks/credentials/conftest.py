"""Fixtures for the credentials tests: a resident on a tiny register, a holder key, a client.

Importing the credentials subscribers registers them, so the register's events revoke
``resident`` credentials here as they do in the running system.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

import kiban.blocks.credentials.subscribers  # noqa: F401 - registers the event handlers.
from kiban.blocks import address, credentials, residents
from kiban.platform import sdjwt
from kiban.web import create_app

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

CHIYODA = "131016"
OFFICIAL = "official:test"
SHOP = "https://shop.example.jp"


@pytest.fixture(autouse=True)
def _fresh_status_cache() -> Iterator[None]:
    credentials.clear_status_cache()
    yield
    credentials.clear_status_cache()


@pytest.fixture
def towns(session: Session) -> dict[str, address.TownRead]:
    address.load_registry(session, lg_codes=[CHIYODA])
    session.commit()
    return {
        "marunouchi": address.find_town(session, CHIYODA, "丸の内"),
        "kudan": address.find_town(session, CHIYODA, "九段北"),
    }


def register(
    session: Session, town: address.TownRead, birth: date, given: str = "花子"
) -> residents.PersonRead:
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name=given,
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            birth_date=birth,
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
            ),
            household=residents.HouseholdChoice(household_id=None, relationship="世帯主"),
            effective_on=date(2020, 4, 1),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return person


@pytest.fixture
def resident(session: Session, towns: dict[str, address.TownRead]) -> residents.PersonRead:
    """山田花子, born 1982-02-03, living in 丸の内."""
    return register(session, towns["marunouchi"], date(1982, 2, 3))


@pytest.fixture
def holder_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


def public(key: ECKey) -> dict[str, Any]:
    return key.as_dict(private=False)


@pytest.fixture
def issued(
    session: Session, resident: residents.PersonRead, holder_key: ECKey
) -> credentials.IssuedCredential:
    """A resident credential about 山田花子 bound to the holder key, committed."""
    found = credentials.issue_credential(
        session,
        person_id=resident.id,
        credential_type="resident",
        holder_jwk=public(holder_key),
        actor=OFFICIAL,
    )
    session.commit()
    return found


def present(
    issued: credentials.IssuedCredential | str,
    key: ECKey,
    claims: list[str],
    *,
    nonce: str = "n-0S6_WzA2Mj",
    audience: str = SHOP,
    at: float | None = None,
) -> str:
    return sdjwt.present(
        issued if isinstance(issued, str) else issued.credential,
        key,
        disclose=claims,
        nonce=nonce,
        audience=audience,
        issued_at=int(time.time() if at is None else at),
    )


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client
