"""The payer's batch API: the transfer file holds every payee's account number and name, so
each hand-out of it is audited under the caller's name (the CLI's export is audited too)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiban.blocks import payments
from kiban.platform import db
from kiban.platform.models import AuditEntry
from kiban.web import create_app
from tests.blocks.payments.support import (
    MAKER,
    PAYER,
    PROGRAMME,
    approve,
    country,
    obligation,
    open_and_register,
)
from tests.staff_support import bearer, make_key


def test_each_hand_out_of_the_transfer_file_is_audited(engine: Engine) -> None:
    people = country(engine)[:2]
    with db.transaction(engine) as session:
        for n, person in enumerate(people):
            open_and_register(session, person.id, number=f"400000{n}", holder="ｼｹﾝ ﾀﾛｳ")
        payments.do_add_obligations(session, [obligation(p.id) for p in people], actor="test")
        batch = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        approve(session, batch.number)
        key = make_key(session, PAYER, "approval")
    path = f"/api/v1/payments/{PAYER}/batches/{batch.number}/transfer-file"

    with TestClient(create_app()) as client:
        answers = [client.get(path, headers=bearer(key)) for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]
    assert "ｼｹﾝ ﾀﾛｳ".encode("cp932") in answers[0].content
    with db.transaction(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "payments:batch:file_issued")
        ).all()
        found = [(e.subject, e.data["lines"], e.data["by"]["organisation"]) for e in entries]
    assert found == [(f"payments_batch:{batch.number}", 2, PAYER)] * 2
