"""``kiban seed`` defines the three programmes and pushes the flat payment to payments."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from kiban.agencies import wiring
from kiban.blocks import benefits, notifications, payments, residents
from kiban.cli import app
from kiban.platform.db import transaction

runner = CliRunner()


def test_the_seed_pushes_the_flat_payment(engine: Engine) -> None:
    seeded = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "pushed flat-payment" in seeded.output
    with transaction(engine) as session:
        assert {p.code for p in benefits.list_programmes(session)} == {
            "flat-payment",
            "child-allowance",
            "exempt-household",
        }
        (run,) = benefits.list_runs(session)
        assert run.by_status == {"obligated": run.determinations}
        owed = payments.list_obligations(session, programme="flat-payment")
        assert len(owed) == run.determinations
        assert sum(o.amount for o in owed) == run.total_yen
        assert run.total_yen % 100_000 == 0
        # Each notice names the account the payment goes to, or asks for one.
        told = {"account": 0, "none": 0}
        for obligation in owed:
            inbox = notifications.list_inbox(session, obligation.person_id).items
            (notice,) = [n for n in inbox if n.template == "benefits.determined"]
            account = payments.get_active_account(session, obligation.person_id)
            if account is None:
                assert "Register one on the portal" in notice.body_en
                told["none"] += 1
            else:
                assert f"{account.bank_name} {account.branch_name}" in notice.body_ja
                assert account.account_number not in notice.body_ja
                told["account"] += 1
        assert told["account"] > 0
        # About the national run's share of the residents have a verified receiving account
        # (issue 16): the bank's customers and others alike, children by their parents.
        people = [p.id for p in residents.list_people(session, limit=1000)]
        held = payments.get_active_accounts(session, people)
        share = len(held) / len(people)
        assert abs(share - wiring.DEMO_ACCOUNT_SHARE) <= 0.1, (len(held), len(people))
