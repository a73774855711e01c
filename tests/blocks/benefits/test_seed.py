"""``kiban seed`` defines the three programmes and pushes the flat payment to payments."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from kiban.blocks import benefits, payments
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
