"""``kiban payments fees`` from the operator's terminal: the list, a reconciliation that finds a
capture the ledger does not know (exit 1, JSON naming it), ``check`` booking it, a refund by an
official through the policy, and a refund beyond what is left refused naming the amount."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Engine
from typer.testing import CliRunner

from kiban.blocks import payments, residents
from kiban.cli import app
from kiban.kernel import clock
from kiban.platform import db
from tests.staff_support import make_official

runner = CliRunner()


def test_list_reconcile_check_refund(engine: Engine) -> None:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with db.transaction(engine) as session:
        person = residents.list_people(session, limit=1)[0]
        fee = payments.do_start_fee(
            session,
            application_id=uuid.uuid4(),
            procedure="residence_certificate",
            office="131016",
            person_id=person.id,
            amount=300,
            description="住民票の写し 1通",
            return_url="http://127.0.0.1/r",
            actor="t",
        )
        official = make_official(session, "131016", "approval", name="決裁　職員")
    payments.local_provider().confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    day = clock.today_jst().isoformat()

    # The applicant never came back: the provider captured, the ledger does not know.
    missing = runner.invoke(
        app, ["payments", "fees", "reconcile", "--date", day, "--format", "json"]
    )
    assert missing.exit_code == 1, missing.output
    report = json.loads(missing.output)
    assert report["differences"] == [
        {
            "kind": "capture",
            "payment_id": fee.provider_id,
            "reference": str(fee.application_id),
            "provider": 300,
            "ledger": 0,
        }
    ]
    checked = runner.invoke(app, ["payments", "fees", "check", str(fee.id)])
    assert checked.exit_code == 0, checked.output
    assert "succeeded" in checked.output
    listed = runner.invoke(app, ["payments", "fees", "list", "--format", "json"])
    assert [f["status"] for f in json.loads(listed.output)] == ["succeeded"]
    clean = runner.invoke(app, ["payments", "fees", "reconcile", "--date", day])
    assert clean.exit_code == 0, clean.output
    assert "reconciled" in clean.output

    acting = f"staff:{official.account_id}@131016/approval"
    too_much = runner.invoke(
        app,
        [
            "payments",
            "fees",
            "refund",
            str(fee.id),
            "--amount",
            "301",
            "--reason",
            "x",
            "--as",
            acting,
        ],
    )
    assert too_much.exit_code == 1
    assert "(amount)" in too_much.output
    done = runner.invoke(
        app,
        [
            "payments",
            "fees",
            "refund",
            str(fee.id),
            "--amount",
            "100",
            "--reason",
            "誤り",
            "--as",
            acting,
        ],
    )
    assert done.exit_code == 0, done.output
    assert "refunded 100 of 300" in done.output
    after = runner.invoke(app, ["payments", "fees", "reconcile", "--date", day, "--format", "json"])
    assert after.exit_code == 0, after.output
    assert json.loads(after.output)["balances"] == {
        "fee_income": -300,
        "fee_cash": 200,
        "fee_refunds": 100,
    }
