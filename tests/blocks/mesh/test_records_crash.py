"""``kill -9`` under load loses no acknowledged access record.

A child process (``records_crash_child.py``) writes records from eight threads through the
group-commit writer and prints each exchange's message id once its write returned; the test
kills it with SIGKILL mid-run and looks for every printed id in the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh.record_models import MeshAccessRecord
from tests.blocks.mesh import records_crash_child

CHILD = Path(records_crash_child.__file__)
ROOT = CHILD.parents[3]
ACKNOWLEDGED_BEFORE_KILL = 300


def test_kill_9_under_load_loses_no_acknowledged_record(database_url: str, engine: Engine) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "8"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    try:
        # Given a process that has acknowledged a few hundred exchanges and is still writing,
        assert child.stdout.readline().strip() == "ready"
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "the child ended"
            acknowledged.append(line.strip())
        # when it is killed without warning,
        child.send_signal(signal.SIGKILL)
        # (ids it printed before dying were acknowledged too)
        rest, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    acknowledged += [line for line in rest.splitlines() if line]
    assert child.returncode == -signal.SIGKILL
    # then every acknowledged exchange has both sides' records,
    with Session(engine) as session:
        stored = list(session.scalars(select(MeshAccessRecord.message_id)))
        counts: dict[str, int] = {}
        for message_id in stored:
            counts[message_id] = counts.get(message_id, 0) + 1
        missing = [m for m in acknowledged if counts.get(m) != 2]
        assert missing == []
        # and the chain written up to the kill verifies.
        report = mesh.verify_log(session)
        assert report.ok, report.problems[:3]
        assert report.records >= 2 * len(acknowledged)
