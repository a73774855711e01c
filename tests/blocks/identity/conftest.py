"""Fixtures for the identity tests: a resident on a tiny register, and card keys.

Importing the identity subscribers registers them, so the resident register's events revoke
certificates in these tests as they do in the running system.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

import kiban.blocks.identity.subscribers  # noqa: F401 - registers the event handlers.
from kiban.blocks import address, corporations, identity, residents
from kiban.kernel import clock
from kiban.platform import events
from kiban.web import create_app

from .oidc_support import ReaderCard, card_in_reader

# As in tests/web/conftest.py: Starlette's one import-time warning about ``httpx2``.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

CHIYODA = "131016"
OFFICIAL = "official:test"
CORPORATE_NUMBER = "4011001098993"


def spki(key: rsa.RSAPrivateKey) -> bytes:
    """The DER SubjectPublicKeyInfo of ``key``, as a card hands it over."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class IssuedCard:
    card: identity.CardRead
    auth_key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey


@pytest.fixture
def towns(session: Session) -> dict[str, address.TownRead]:
    """Two towns of Chiyoda from the real registry data."""
    address.load_registry(session, lg_codes=[CHIYODA])
    session.commit()
    return {
        "marunouchi": address.find_town(session, CHIYODA, "丸の内"),
        "kudan": address.find_town(session, CHIYODA, "九段北"),
    }


@pytest.fixture
def resident(session: Session, towns: dict[str, address.TownRead]) -> residents.PersonRead:
    """山田花子, born 1982-02-03, living in 丸の内."""
    town = towns["marunouchi"]
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            birth_date=date(1982, 2, 3),
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
def issued(session: Session, resident: residents.PersonRead) -> IssuedCard:
    """A card issued to the resident, committed."""
    auth_key, signing_key = new_key(), new_key()
    card = identity.issue_card(
        session,
        resident.id,
        auth_public_key=spki(auth_key),
        signing_public_key=spki(signing_key),
        actor=OFFICIAL,
    )
    session.commit()
    return IssuedCard(card, auth_key, signing_key)


def settle(engine: Engine) -> None:
    """Deliver whatever events are pending (in the embedded mode they already were; with
    NATS configured, the relay is not running in these tests)."""
    events.deliver_pending(engine)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """A client of the real application on the test database."""
    with TestClient(create_app()) as client:
        yield client


def move_to(
    session: Session, person: residents.PersonRead, town: address.TownRead, block: str
) -> residents.PersonRead:
    """A change of address within the municipality (転居届), committed."""
    moved = residents.move_within(
        session,
        person.id,
        residents.MoveWithinCreate(
            moved_on=clock.today_jst(),
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number=block
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return moved


# --- business accounts ------------------------------------------------------------------------


@pytest.fixture
def corporation(
    session: Session, towns: dict[str, address.TownRead]
) -> corporations.CorporationRead:
    """A company represented by 山田花子 of 丸の内一丁目, the identity tests' resident."""
    town = towns["marunouchi"]
    found = corporations.register_corporation(
        session,
        corporations.CorporationCreate(
            corporate_number=CORPORATE_NUMBER,
            name="株式会社基盤テック",
            name_kana="キバンテック",
            head_office=corporations.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
            representative=corporations.RepresentativeInput(
                name="山田　花子",
                address=corporations.AddressInput(town_id=town.id, chome=1, block_number="2-3"),
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return found


@pytest.fixture
def member(session: Session, towns: dict[str, address.TownRead]) -> residents.PersonRead:
    """佐藤一郎, another resident, who will be invited."""
    person = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="佐藤",
            given_name="一郎",
            family_name_kana="サトウ",
            given_name_kana="イチロウ",
            birth_date=date(1990, 6, 1),
            sex=residents.Sex.MALE,
            address=residents.AddressInput(
                town_id=towns["kudan"].id, chome=1, block_number="5番6号"
            ),
            effective_on=date(2021, 4, 1),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return person


@pytest.fixture
def prime_card(session: Session, resident: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    return card_in_reader(session, resident, tmp_path / "cards")


@pytest.fixture
def member_card(session: Session, member: residents.PersonRead, tmp_path: Path) -> ReaderCard:
    """佐藤一郎's card in a reader of his own."""
    return card_in_reader(session, member, tmp_path / "member-cards")
