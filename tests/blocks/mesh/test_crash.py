"""``kill -9`` of the kiban server under load loses no record of an exchange that returned 2xx.

The whole two-process path: the kiban app runs under uvicorn in its own process (the gateway,
with the reference agencies' services served in it), and client threads here send signed
``/r1`` requests over loopback as an outside member would. Midway the server is killed with
SIGKILL. Every exchange a client saw succeed must then have both sides' access records in the
database, and the log written up to the kill must verify.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies.wiring import register_reference_agencies
from kiban.blocks import mesh
from kiban.blocks.mesh.record_models import MeshAccessRecord
from kiban.platform import db
from tests.live import free_port

PEOPLE = 40
THREADS = 4
ACKNOWLEDGED_BEFORE_KILL = 150
ITEMS = ["pension_number"]

pytestmark = pytest.mark.slow


def _people(engine: Engine) -> list[str]:
    """The reference agencies on the mesh, people the pension service knows; the tax office's
    codes for them."""
    pension, tax = agencies.get_agency("pension"), agencies.get_agency("tax")
    codes = []
    with db.transaction(engine) as session:
        register_reference_agencies(session)
        for n in range(PEOPLE):
            person = uuid.uuid4()
            enrolment = agencies.Enrolment(
                mesh.agency_code(session, pension.subsystem, person),
                date(1950 + n % 30, 4, 1),
                "東京都千代田区千代田1-1",
            )
            assert agencies.enrol(session, pension, [enrolment], seed=1) == 1
            codes.append(mesh.agency_code(session, tax.subsystem, person))
    return codes


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the kiban server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)


def test_kill_9_of_the_server_under_load_loses_no_record_of_a_2xx(
    engine: Engine, tmp_path: Path
) -> None:
    codes = _people(engine)
    tax = agencies.get_agency("tax")
    service = f"{agencies.get_agency('pension').subsystem}/pension-record"
    with Session(engine) as session:
        certificate = next(
            s.certificate_pem for s in mesh.list_subsystems(session) if s.xroad_id == tax.subsystem
        )
    key = mesh.subsystem_key(tax.subsystem)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "kiban.web:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    acknowledged: list[str] = []
    other: list[int] = []
    lock = threading.Lock()
    enough = threading.Event()

    def client(index: int) -> None:
        n = index
        with httpx.Client(timeout=10) as http:
            while True:
                message_id = str(uuid.uuid4())
                token, body = mesh.client_request(
                    client=tax.subsystem,
                    certificate_pem=certificate,
                    key=key,
                    service=service,
                    agency_code=codes[n % len(codes)],
                    items=ITEMS,
                    message_id=message_id,
                )
                try:
                    reply = http.post(
                        f"http://127.0.0.1:{port}/r1/{service}",
                        content=body,
                        headers={
                            "X-Road-Client": tax.subsystem,
                            "X-Road-Id": message_id,
                            "X-Road-Signature": token,
                        },
                    )
                except httpx.HTTPError:
                    return  # The server is gone.
                with lock:
                    if 200 <= reply.status_code < 300:
                        assert reply.headers["X-Road-Id"] == message_id
                        acknowledged.append(message_id)
                        if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                            enough.set()
                    else:
                        other.append(reply.status_code)
                n += THREADS

    try:
        _wait_for(port, server, log)
        # Given clients hammering the gateway from several threads,
        workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(THREADS)]
        for worker in workers:
            worker.start()
        assert enough.wait(60), f"too few 2xx before the kill; other statuses: {other[:5]}"
        # when the server is killed without warning, mid-load,
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        for worker in workers:
            worker.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == -signal.SIGKILL
    assert other == [], log.read_text()[-2000:]
    # then every exchange a client saw succeed has its records on both sides,
    with db.session_factory(engine)() as session:
        stored = dict(
            session.execute(
                select(MeshAccessRecord.message_id, func.count())
                .where(MeshAccessRecord.message_id.in_(acknowledged))
                .group_by(MeshAccessRecord.message_id)
            ).all()
        )
        missing = [m for m in acknowledged if stored.get(m) != 2]  # Both sides.
        assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged lost"
        sides = set(
            session.execute(
                select(MeshAccessRecord.side, MeshAccessRecord.member).where(
                    MeshAccessRecord.message_id == acknowledged[0]
                )
            ).all()
        )
        assert sides == {("requester", tax.subsystem), ("provider", service.rsplit("/", 1)[0])}
        # and the log written up to the kill verifies.
        report = mesh.verify_log(session)
        assert report.ok, report.problems[:3]
        assert report.records >= 2 * len(acknowledged)
