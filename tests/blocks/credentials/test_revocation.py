"""The register's events revoke resident credentials, and verifiers see it."""

from __future__ import annotations

from joserfc.jwk import ECKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import address, credentials, residents
from kiban.kernel import clock
from kiban.platform import events

from .conftest import OFFICIAL, TestClient, present

VERIFY = "/api/v1/credentials/verify"


def _code(client: TestClient, presentation: str) -> str | None:
    answer = client.post(
        VERIFY,
        json={
            "presentation": presentation,
            "nonce": "n-0S6_WzA2Mj",
            "audience": "https://shop.example.jp",
        },
    )
    return None if answer.status_code == 200 else answer.json()["error"]["code"]


def test_an_address_change_revokes_the_resident_credential(
    client: TestClient,
    session: Session,
    engine: Engine,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    # A first check caches the status list; the revocation must not wait for its ttl.
    assert _code(client, present(issued, holder_key, ["age_over_20"])) is None
    town = towns["kudan"]
    residents.move_within(
        session,
        resident.id,
        residents.MoveWithinCreate(
            moved_on=clock.today_jst(),
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="5番6号"
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    events.deliver_pending(engine)
    session.expire_all()
    assert credentials.get_status(session, issued.id) == "revoked"
    session.rollback()  # SQLite: every transaction takes the write lock (BEGIN IMMEDIATE).
    assert _code(client, present(issued, holder_key, ["age_over_20"])) == (
        "credentials.presentation.revoked"
    )


def test_a_death_revokes_it_and_a_repeated_event_changes_nothing(
    client: TestClient,
    session: Session,
    engine: Engine,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
    resident: residents.PersonRead,
) -> None:
    residents.record_death(
        session, resident.id, residents.DeathCreate(died_on=clock.today_jst()), actor=OFFICIAL
    )
    session.commit()
    events.deliver_pending(engine)
    session.expire_all()
    assert credentials.get_status(session, issued.id) == "revoked"
    assert (
        credentials.revoke_credentials_for_person(
            session, resident.id, credential_type="resident", reason="died", actor="t"
        )
        == 0
    )
    session.rollback()
    assert _code(client, present(issued, holder_key, ["age_over_18"])) == (
        "credentials.presentation.revoked"
    )


def test_a_name_change_revokes_it(
    session: Session,
    engine: Engine,
    issued: credentials.IssuedCredential,
    resident: residents.PersonRead,
) -> None:
    residents.change_name(
        session,
        resident.id,
        residents.NameChangeCreate(
            family_name="佐藤",
            given_name="花子",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
            effective_on=clock.today_jst(),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    events.deliver_pending(engine)
    session.expire_all()
    assert credentials.get_status(session, issued.id) == "revoked"
    session.rollback()
