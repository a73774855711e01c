"""Consent enforced by the gateway: a company's request passes only with the person's consent
in force, uses it up as the consent says, and is refused right after a revocation."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.kernel import clock
from tests.blocks.mesh.core_support import COMPANY, OPERATOR, SERVICE, Seen, build, person_code


def company_may_ask(session: Session) -> tuple[uuid.UUID, str]:
    build(session, Seen())
    mesh.grant(
        session,
        client=COMPANY,
        service=SERVICE,
        task="口座開設時の確認",
        legal_basis="本人同意",
        items=["benefit"],
        actor=OPERATOR,
    )
    return person_code(session, COMPANY)


def consent(session: Session, person: uuid.UUID, **kwargs: object) -> mesh.ConsentRead:
    granted = mesh.grant_consent(
        session,
        person_id=person,
        company=COMPANY,
        purpose_code="account_opening",
        purpose_text="口座開設時の確認 / Checks when opening an account",
        items=["benefit"],
        valid_from=date(2026, 1, 1),
        valid_until=clock.today_jst() + timedelta(days=30),
        data_life_days=30,
        actor=f"person:{person}",
        **kwargs,  # type: ignore[arg-type]
    )
    session.commit()
    return granted


def test_a_revoked_consent_refuses_the_companys_next_request(session: Session) -> None:
    person, code = company_may_ask(session)
    granted = consent(
        session, person, fetch_type="periodic", frequency={"unit": "day", "value": 10}
    )

    first = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    session.commit()
    assert first.ok, first.body

    mesh.set_consent_status(session, granted.id, "revoked", actor=f"person:{person}")
    session.commit()
    refused = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    session.commit()
    assert refused.status == 403
    assert refused.error_code == "mesh.consent_not_active"

    # Every use, and the refusal, is in the person's access records.
    records = pytest.importorskip("kiban.blocks.mesh.records")
    page = records.records_for_person(session, person, today=clock.today_jst())
    mine = sorted((r.outcome, r.consent_id) for r in page.records if r.side == "requester")
    assert mine == [("ok", granted.id), ("refused:mesh.consent_not_active", None)]


def test_a_once_consent_lets_one_request_through(session: Session) -> None:
    person, code = company_may_ask(session)
    consent(session, person)

    first = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    session.commit()
    assert first.ok, first.body
    second = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    session.commit()
    assert second.status == 403
    assert second.error_code == "mesh.consent_frequency_exceeded"


def test_a_consent_for_other_items_does_not_let_the_request_through(session: Session) -> None:
    person, code = company_may_ask(session)
    mesh.grant_consent(
        session,
        person_id=person,
        company=COMPANY,
        purpose_code="account_opening",
        purpose_text="x",
        items=["contributions"],
        valid_from=date(2026, 1, 1),
        valid_until=clock.today_jst() + timedelta(days=30),
        data_life_days=30,
        actor=f"person:{person}",
    )
    session.commit()
    response = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    assert response.status == 403
    assert response.error_code == "mesh.consent_items_not_covered"
