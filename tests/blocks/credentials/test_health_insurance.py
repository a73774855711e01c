"""The health-insurance eligibility credential: read from the insurer through the mesh under a
grant (an exchange the person sees in their records), refused for someone not eligible."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import Engine

from kiban import agencies
from kiban.agencies import wiring
from kiban.blocks import credentials, mesh, residents
from kiban.platform import db, sdjwt

from .conftest import TestClient, present, public

HOSPITAL = "https://hospital.example.jp"


@pytest.fixture
def insured(engine: Engine) -> list[residents.PersonRead]:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=4)
        wiring.register_reference_agencies(session)
    with db.transaction(engine) as session:
        people = residents.list_people(session, limit=20)
        wiring.enrol_through_mesh(session, [p.id for p in people], seed=4)
    return people


def _eligibility(engine: Engine, person: residents.PersonRead) -> dict[str, Any]:
    insurer = agencies.get_agency("insurer")
    with db.transaction(engine) as session:
        code = mesh.agency_code(session, insurer.subsystem, person.id)
        row = agencies.get_record(session, insurer, code)
        assert row is not None
        return {"until": row.eligible_until, "symbol": row.symbol, "number": row.number}


def test_the_insurers_answer_is_issued_and_the_read_is_in_the_persons_records(
    engine: Engine, client: TestClient, insured: list[residents.PersonRead], holder_key: ECKey
) -> None:
    person = next(p for p in insured if _eligibility(engine, p)["until"] is None)
    on_file = _eligibility(engine, person)
    with db.transaction(engine) as session:
        issued = credentials.issue_credential(
            session,
            person_id=person.id,
            credential_type="health-insurance",
            holder_jwk=public(holder_key),
            actor="operator:test",
        )
    answer = client.post(
        "/api/v1/credentials/verify",
        json={
            "presentation": present(
                issued, holder_key, ["insurer_number", "symbol", "number"], audience=HOSPITAL
            ),
            "nonce": "n-0S6_WzA2Mj",
            "audience": HOSPITAL,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["claims"] == {
        "insurer_number": "01130012",
        "symbol": on_file["symbol"],
        "number": on_file["number"],
    }
    payload = sdjwt.peek(sdjwt.split(issued.credential).issuer_jwt)[1]
    assert payload["vct"].endswith("/credentials/types/health-insurance")
    with db.transaction(engine) as session:
        page = mesh.records_for_person(session, person.id)
        asked = [r for r in page.records if r.service == credentials.INSURER_SERVICE]
        assert asked, "the insurer's answer is an exchange in the person's records"
        sides = {(r.side, r.member, r.counterpart) for r in asked}
        assert any(credentials.MESH_SUBSYSTEM in (m, c) for _, m, c in sides)
        assert all(r.legal_basis for r in asked)


def test_someone_no_longer_insured_gets_no_credential(
    engine: Engine, insured: list[residents.PersonRead], holder_key: ECKey
) -> None:
    with db.transaction(engine) as session:
        # Another scheme now: the insurer ends the eligibility (as its own table says).
        person = insured[0]
        insurer = agencies.get_agency("insurer")
        row = agencies.get_record(
            session, insurer, mesh.agency_code(session, insurer.subsystem, person.id)
        )
        assert row is not None
        row.eligible_until = row.eligible_from  # type: ignore[attr-defined]
    with db.transaction(engine) as session, pytest.raises(credentials.NotInsured):
        credentials.issue_credential(
            session,
            person_id=person.id,
            credential_type="health-insurance",
            holder_jwk=public(holder_key),
            actor="operator:test",
        )
