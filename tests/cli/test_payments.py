"""``kiban payments`` from the operator's terminal: approval by two officials through the
policy, the Zengin file, the reference bank's result, reconciliation; a process killed (SIGKILL)
mid-export and mid-import, then run again, pays every line once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from kiban.blocks import payments
from kiban.cli import app
from kiban.platform import db
from tests.blocks.payments.support import PAYER, PROGRAMME, country, obligation, open_and_register
from tests.staff_support import make_official

runner = CliRunner()

# A child process that runs one kiban command and is killed (SIGKILL) at the named facade
# call, after that call did its work and before the command's transaction commits.
KILLED_AT = """
import os, signal, sys
from kiban.blocks import payments
target = sys.argv[1]
original = getattr(payments, target)
def dying(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(payments, target, dying)
from kiban.cli import app
app(sys.argv[2:])
"""


def _killed(target: str, *args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AT, target, *args],
        env=os.environ.copy(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    return done.returncode


def _batch(engine: Engine) -> tuple[int, list[str]]:
    people = country(engine)
    with db.transaction(engine) as session:
        for n, person in enumerate(people[:3]):
            open_and_register(session, person.id, number=f"77{n:05d}", holder="ｷﾊﾞﾝ ﾀﾛｳ")
        payments.do_add_obligations(session, [obligation(p.id) for p in people[:3]], actor="t")
        maker = make_official(session, PAYER, "approval", name="作成　職員")
        batch = payments.do_build_batch(
            session, programme=PROGRAMME, payer=PAYER, actor=maker.actor
        )
        checkers = [make_official(session, PAYER, "approval") for _ in range(2)]
        counter = make_official(session, PAYER, "counter")
    as_ = [f"staff:{p.account_id}@{p.organisation}/{p.role}" for p in (*checkers, counter, maker)]
    return batch.number, as_


def test_approve_export_pay_reconcile(engine: Engine, tmp_path: Path) -> None:
    number, (first, second, counter, maker) = _batch(engine)
    batch = str(number)
    for refused_as, why in ((counter, "payments.batch.approve"), (maker, "")):
        refused = runner.invoke(app, ["payments", "approve", batch, "--as", refused_as])
        assert refused.exit_code == 1, refused.output
        assert why in refused.output
    assert runner.invoke(app, ["payments", "approve", batch, "--as", first]).exit_code == 0
    again = runner.invoke(app, ["payments", "approve", batch, "--as", first])
    assert again.exit_code == 1
    done = runner.invoke(app, ["payments", "approve", batch, "--as", second])
    assert done.exit_code == 0, done.output
    assert "approved" in done.output
    listed = runner.invoke(app, ["payments", "batches", "--format", "json"])
    assert [(b["number"], b["status"], b["total"]) for b in json.loads(listed.stdout)] == [
        (number, "approved", 300_000)
    ]

    transfer = tmp_path / "transfer.txt"
    # Killed after the file is written, before the export commits: the rerun writes the
    # same bytes and marks the batch exported once.
    assert _killed("do_mark_exported", "payments", "export", batch, "--out", str(transfer)) < 0
    first_bytes = transfer.read_bytes()
    with db.transaction(engine) as session:
        assert payments.get_batch(session, number).status == "approved"
    exported = runner.invoke(app, ["payments", "export", batch, "--out", str(transfer)])
    assert exported.exit_code == 0, exported.output
    assert transfer.read_bytes() == first_bytes
    assert payments.parse_transfer_file(first_bytes).total == 300_000

    result = tmp_path / "result.txt"
    banked = runner.invoke(app, ["payments", "reference-bank", str(transfer), "--out", str(result)])
    assert banked.exit_code == 0, banked.output
    assert "3 paid" in banked.output
    # Killed mid-import (after the lines were applied, before the commit): nothing of it stays;
    # the rerun pays each line once.
    assert _killed("do_import_result", "payments", "import-result", batch, str(result)) < 0
    with db.transaction(engine) as session:
        assert payments.reconcile(session, number).bank_pending == 300_000
    for _ in range(2):
        imported = runner.invoke(app, ["payments", "import-result", batch, str(result)])
        assert imported.exit_code == 0, imported.output
    assert "settled (paid 3)" in imported.output
    report = runner.invoke(app, ["payments", "reconcile", batch, "--format", "json"])
    assert report.exit_code == 0, report.output
    body = json.loads(report.stdout)
    assert body["reconciled"] is True
    assert (body["bank_paid"], body["ledger_paid"], body["ledger_sum"]) == (300_000, 300_000, 0)
    assert body["balances"]["paid"] == 300_000
