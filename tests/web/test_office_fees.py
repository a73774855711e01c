"""The office's fees page, as officials of 千代田区 use it: the fees paid for their office's
procedures (not another office's), a refund beyond what is left refused naming the amount and
changing nothing, a partial refund told to the applicant, a stale card sent to the card first,
and the counter (no ``payments.fee.refund``) refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from kiban.blocks import notifications, payments, residents
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.models import WebSessionRecord
from kiban.web import create_app
from tests.staff_support import make_official
from tests.web.test_office_staff import _as

CHIYODA, SAPPORO = "131016", "011011"


@pytest.fixture
def http(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _paid_fee(engine: Engine, office: str) -> payments.FeeRead:
    with transaction(engine) as session:
        if not residents.list_people(session, limit=1):
            residents.seed_population(session, size="tiny", seed=3)
    with transaction(engine) as session:
        person = residents.list_people(session, limit=1)[0]
        fee = payments.do_start_fee(
            session,
            application_id=uuid.uuid4(),
            procedure="residence_certificate",
            office=office,
            person_id=person.id,
            amount=300,
            description="住民票の写し 1通",
            return_url="http://127.0.0.1/r",
            actor="system:test",
        )
    payments.local_provider().confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    with transaction(engine) as session:
        return payments.do_check_fee(session, fee.id, actor="system:test")


def test_the_fees_page_lists_and_refunds(http: TestClient, engine: Engine) -> None:
    ours, theirs = _paid_fee(engine, CHIYODA), _paid_fee(engine, SAPPORO)
    with transaction(engine) as session:
        approver = make_official(session, CHIYODA, "approval", name="決裁　花子")
        counter = make_official(session, CHIYODA, "counter", name="窓口　太郎")
    office = _as(http, engine, approver)
    page = office.get("/office/fees?lang=en")
    assert page.status_code == 200
    assert f"/office/fees/{ours.id}/refund" in page.text
    assert f"/office/fees/{theirs.id}/refund" not in page.text  # Another office's fee.

    # Beyond what is left: refused naming the amount; nothing refunded.
    too_much = office.post(
        f"/office/fees/{ours.id}/refund?lang=en", {"amount": "301", "reason": "x"}
    )
    assert too_much.status_code == 422
    assert 'aria-invalid="true"' in too_much.text
    assert "¥300" in too_much.text
    with transaction(engine) as session:
        assert payments.get_fee(session, ours.id).refunded == 0

    done = office.post(
        f"/office/fees/{ours.id}/refund?lang=en", {"amount": "120", "reason": "二重納付"}
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/office/fees?refunded=1")
    with transaction(engine) as session:
        fee = payments.get_fee(session, ours.id)
        assert (fee.status, fee.refunded) == ("refunded", 120)
        assert fee.refunds[0].official == approver.actor
        told = notifications.list_inbox(session, fee.person_id).items
        assert any(n.template == payments.REFUNDED_NOTICE and "二重納付" in n.body_ja for n in told)

    # Another office's fee: refused by the policy.
    assert (
        office.post(f"/office/fees/{theirs.id}/refund", {"amount": "1", "reason": "x"}).status_code
        == 403
    )
    # The counter reads, but may not refund.
    clerk = _as(http, engine, counter)
    assert clerk.get("/office/fees").status_code == 200
    assert (
        clerk.post(f"/office/fees/{ours.id}/refund", {"amount": "1", "reason": "x"}).status_code
        == 403
    )
    # A card presented more than five minutes ago: to the card first, nothing refunded.
    office = _as(http, engine, approver)
    with transaction(engine) as session:
        session.execute(
            update(WebSessionRecord)
            .where(WebSessionRecord.subject == str(approver.account_id))
            .values(authenticated_at=clock.now() - timedelta(minutes=10))
        )
    stale = office.post(f"/office/fees/{ours.id}/refund", {"amount": "1", "reason": "x"})
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/office/login/start?step_up=true")
    with transaction(engine) as session:
        assert payments.get_fee(session, ours.id).refunded == 120
