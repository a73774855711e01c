"""Licence credentials (``qualification-<code>``): issued from the qualifications registry,
suspended, reinstated and revoked by its events, as the published status list and
``POST /api/v1/credentials/verify`` show."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import credentials, qualifications, residents
from kiban.cli import app
from kiban.platform import events, sdjwt, status_list
from tests.staff_support import make_key

from .conftest import OFFICIAL, TestClient, present, public

VERIFY = "/api/v1/credentials/verify"
HOSPITAL = "https://hospital.example.jp"
NURSE = "qualification-nurse"
CLAIMS = [
    "qualification",
    "name",
    "name_kana",
    "registration_number",
    "registered_on",
    "issuing_authority",
]


def _verify(client: TestClient, presentation: str) -> Any:
    return client.post(
        VERIFY,
        json={"presentation": presentation, "nonce": "n-0S6_WzA2Mj", "audience": HOSPITAL},
    )


def _refusal(client: TestClient, presentation: str) -> str | None:
    answer = _verify(client, presentation)
    return None if answer.status_code == 200 else answer.json()["error"]["code"]


@pytest.fixture
def nurse(session: Session, resident: residents.PersonRead) -> qualifications.HolderRead:
    """山田花子, registered as a nurse (看護師) by 厚生労働省."""
    made = qualifications.register_as_system(
        session,
        qualification="nurse",
        person_id=resident.id,
        registration_number="1234567",
        registered_on=date(2005, 5, 1),
        actor=OFFICIAL,
    )
    session.commit()
    return made


@pytest.fixture
def licence(
    session: Session, nurse: qualifications.HolderRead, holder_key: ECKey
) -> credentials.IssuedCredential:
    found = credentials.issue_credential(
        session,
        person_id=nurse.person_id,
        credential_type=NURSE,
        holder_jwk=public(holder_key),
        actor=OFFICIAL,
    )
    session.commit()
    return found


def _change(session: Session, engine: Engine, holder_id: Any, action: str) -> None:
    qualifications.change_as_system(session, holder_id, action, reason="処分", actor=OFFICIAL)
    session.commit()
    events.deliver_pending(engine)
    session.expire_all()
    session.rollback()  # SQLite: every transaction takes the write lock (BEGIN IMMEDIATE).


def _published_status(client: TestClient, issued: credentials.IssuedCredential) -> int:
    """The credential's status as a verifier elsewhere reads the published list."""
    answer = client.get(issued.status_uri.removeprefix(credentials.issuer_id()))
    assert answer.status_code == 200
    payload = sdjwt.peek(answer.text)[1]
    bits = payload["status_list"]["bits"]
    array = status_list.decode(payload["status_list"]["lst"])
    return status_list.status_at(array, issued.status_index, bits)


def test_a_nurse_licence_carries_the_agreed_claims_and_verifies(
    client: TestClient, licence: credentials.IssuedCredential, holder_key: ECKey
) -> None:
    assert licence.vct == credentials.vct_of(NURSE)
    assert licence.vct.endswith("/credentials/types/qualification-nurse")
    answer = _verify(client, present(licence, holder_key, CLAIMS, audience=HOSPITAL))
    assert answer.status_code == 200, answer.text
    claims = answer.json()["claims"]
    assert claims == {
        "qualification": "nurse",
        "name": "山田\u3000花子",
        "name_kana": "ヤマダ\u3000ハナコ",
        "registration_number": "1234567",
        "registered_on": "2005-05-01",
        "issuing_authority": "厚生労働省",
    }
    # The type metadata is served at the vct.
    served = client.get("/credentials/types/qualification-nurse")
    assert served.status_code == 200
    assert {c["path"][0] for c in served.json()["claims"]} >= set(CLAIMS)


def test_suspension_publishes_2_and_is_refused_reinstatement_clears_it(
    client: TestClient,
    session: Session,
    engine: Engine,
    nurse: qualifications.HolderRead,
    licence: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    shown = present(licence, holder_key, ["qualification"], audience=HOSPITAL)
    assert _refusal(client, shown) is None  # Caches the list: the change must not wait.
    assert _published_status(client, licence) == status_list.VALID

    _change(session, engine, nurse.id, "suspended")
    assert credentials.get_status(session, licence.id) == "suspended"
    session.rollback()
    assert _published_status(client, licence) == status_list.SUSPENDED
    shown = present(licence, holder_key, ["qualification"], audience=HOSPITAL)
    answer = _verify(client, shown)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "credentials.presentation.suspended"

    _change(session, engine, nurse.id, "reinstated")
    assert _published_status(client, licence) == status_list.VALID
    shown = present(licence, holder_key, ["qualification"], audience=HOSPITAL)
    assert _refusal(client, shown) is None


def test_revocation_publishes_1_and_is_refused_for_good(
    client: TestClient,
    session: Session,
    engine: Engine,
    nurse: qualifications.HolderRead,
    licence: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    _change(session, engine, nurse.id, "suspended")
    _change(session, engine, nurse.id, "revoked")
    assert _published_status(client, licence) == status_list.INVALID
    shown = present(licence, holder_key, ["qualification"], audience=HOSPITAL)
    assert _refusal(client, shown) == "credentials.presentation.revoked"
    # A repeated event changes nothing (the handlers are idempotent).
    assert (
        credentials.revoke_credentials_for_person(
            session, nurse.person_id, credential_type=NURSE, reason="again", actor="t"
        )
        == 0
    )
    session.rollback()
    # And no new licence is issued while there is no active registration.
    with pytest.raises(credentials.NotQualified):
        credentials.issue_credential(
            session,
            person_id=nurse.person_id,
            credential_type=NURSE,
            holder_jwk=public(holder_key),
            actor=OFFICIAL,
        )


def test_a_repeated_suspension_event_is_idempotent(
    session: Session,
    engine: Engine,
    nurse: qualifications.HolderRead,
    licence: credentials.IssuedCredential,
) -> None:
    _change(session, engine, nurse.id, "suspended")
    audited = session.execute(
        text(
            "select count(*) from platform_audit_entries"
            " where tag = 'credentials:credential:suspended'"
        )
    ).scalar_one()
    session.rollback()
    # The same event delivered again (at-least-once) suspends nothing twice.
    events.emit(
        session,
        qualifications.SUSPENDED,
        {"holder_id": str(nurse.id), "person_id": str(nurse.person_id), "qualification": "nurse"},
        key=str(nurse.person_id),
    )
    session.commit()
    events.deliver_pending(engine)
    again = session.execute(
        text(
            "select count(*) from platform_audit_entries"
            " where tag = 'credentials:credential:suspended'"
        )
    ).scalar_one()
    assert audited == again == 1
    assert credentials.get_status(session, licence.id) == "suspended"


def test_no_licence_without_a_registration(
    session: Session, resident: residents.PersonRead, holder_key: ECKey
) -> None:
    with pytest.raises(credentials.NotQualified):
        credentials.issue_credential(
            session,
            person_id=resident.id,
            credential_type="qualification-physician",
            holder_jwk=public(holder_key),
            actor=OFFICIAL,
        )


def test_the_cli_issues_a_licence_that_kiban_verifies(
    tmp_path: Path,
    client: TestClient,
    nurse: qualifications.HolderRead,
    holder_key: ECKey,
) -> None:
    key_file = tmp_path / "holder.jwk"
    key_file.write_text(json.dumps(holder_key.as_dict(private=False)))
    out = tmp_path / "nurse.sd-jwt"
    result = CliRunner().invoke(
        app,
        ["credentials", "issue", "--person-id", str(nurse.person_id), "--type", NURSE,
         "--holder-key", str(key_file), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["type"] == NURSE
    written = out.read_text()
    answer = _verify(
        client, present(written, holder_key, ["registration_number"], audience=HOSPITAL)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["claims"] == {"registration_number": "1234567"}
    # The reference library reads the same credential with the published key.
    issuer_key = JWK.from_json(json.dumps(credentials.issuer_public_jwk()))
    claims = SDJWTVerifier(written, lambda _i, _h: issuer_key).get_verified_payload()
    assert claims["qualification"] == "nurse"
    assert claims["issuing_authority"] == "厚生労働省"


def test_the_cli_refuses_a_licence_the_person_does_not_hold(
    tmp_path: Path, resident: residents.PersonRead, holder_key: ECKey
) -> None:
    key_file = tmp_path / "holder.jwk"
    key_file.write_text(json.dumps(holder_key.as_dict(private=False)))
    out = tmp_path / "x.sd-jwt"
    result = CliRunner().invoke(
        app,
        ["credentials", "issue", "--person-id", str(resident.id), "--type",
         "qualification-physician", "--holder-key", str(key_file), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "(person_id)" in result.stderr
    assert not out.exists()


def test_the_registering_authority_offers_the_licence_and_a_municipality_may_not(
    client: TestClient, session: Session, nurse: qualifications.HolderRead
) -> None:
    mhlw_key = make_key(session, "agency:mhlw", "qualifications")
    town_key = make_key(session, "131016", "approval")  # Holds credentials.offer for residents.
    session.commit()
    body = {"person_id": str(nurse.person_id), "credential_type": NURSE}
    refused = client.post(
        "/api/v1/credentials/offers", json=body, headers={"Authorization": f"Bearer {town_key}"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "staff.other_organisation"
    made = client.post(
        "/api/v1/credentials/offers", json=body, headers={"Authorization": f"Bearer {mhlw_key}"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["credential_offer"]["credential_configuration_ids"] == [NURSE]
    # No licence to offer where there is no registration.
    physician = {**body, "credential_type": "qualification-physician"}
    none = client.post(
        "/api/v1/credentials/offers",
        json=physician,
        headers={"Authorization": f"Bearer {mhlw_key}"},
    )
    assert none.status_code == 409
    assert none.json()["error"]["code"] == "credentials.not_qualified"
