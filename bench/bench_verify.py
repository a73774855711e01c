"""Verifying the access-record log (`kiban mesh verify`) beside the physical floor, in one run.

Run: ``.venv/bin/python bench/bench_verify.py [--records N] [--database-url URL] [--full]``
(default: 1,000,000 records in a fresh SQLite file). A PostgreSQL URL must name an empty
database of your own; the script migrates it. ``--reuse`` verifies the log a previous run built
there again; set ``KIBAN_DATA_DIR`` to a directory of your own for both runs (the checkpoint key
is kept there).

It builds the log through kiban's own bulk record path: appends of 2,000 records — the
requester's and the provider's record of each subject of a 1,000-subject batch exchange, as
enrolment writes them — with ``mesh.append_records`` (``COPY`` on PostgreSQL, one
``executemany`` on SQLite), committed one append at a time, and a signed checkpoint every
10,000 records, as the checkpointer makes them. Nothing is forged: every hash is kiban's.

Then, on the same database in the same run:

- **kiban**: ``mesh.verify_log`` on a fresh session, the function ``kiban mesh verify`` runs,
  in this process (``workers=1``) and as the command runs it (one process per core from
  200,000 records);
- **floor**: the same ``SELECT`` on the same kind of cursor (a server-side one on
  PostgreSQL), and per record one SHA-256 over as many bytes as its canonical encoding
  has, its RFC 6962 leaf and the tree's nodes: reading the rows and hashing the same bytes,
  with no encoding and no checks;
- with ``--full``, the full analysis ``verify_log`` falls back to for a log that is not
  intact (every record read through the ORM and held in memory), which was the only path
  before (ADR 0038).

Each prints wall seconds, CPU seconds of this process and its finished children (the
verify's worker processes) and, on PostgreSQL, of the server process that served the session
(from ``/proc``; the workers' own server processes are not counted), and the ratio kiban /
floor. The machine is shared: compare the ratios and the CPU seconds, not wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import record_scan, record_verify, records
from kiban.blocks.mesh.record_chain import _json
from kiban.platform import migrate
from kiban.platform.db import make_engine
from kiban.platform.settings import get_settings

GOAL_SECONDS = 10.0
BATCH_SUBJECTS = 1_000
CHECKPOINT_EVERY = 10_000
AGENCIES = (
    ("JP/GOV/00001/pension", "厚生年金保険法第100条の2第5項"),
    ("JP/GOV/00002/tax", "所得税法第225条"),
    ("JP/GOV/00003/insurer", "健康保険法第197条"),
    ("JP/GOV/00004/licence", "道路交通法第108条の2"),
)
PROVIDER = "JP/GOV/kiban/residents"
SERVICE = f"{PROVIDER}/basic-four"
ITEMS = ["name", "address", "birth_date", "sex"]


def _code(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()[:32].upper()


def batch_records(number: int, start: datetime) -> list[mesh.AccessRecordCreate]:
    """The records of batch exchange ``number``: both sides of each of its subjects."""
    client, basis = AGENCIES[number % len(AGENCIES)]
    message_id = f"enrol-{number:08d}"
    request_hash = hashlib.sha256(message_id.encode()).hexdigest()
    requested = start + timedelta(milliseconds=40 * number)
    provided = requested + timedelta(milliseconds=25)
    out: list[mesh.AccessRecordCreate] = []
    for subject in range(BATCH_SUBJECTS):
        person = uuid.UUID(int=(number // len(AGENCIES)) * BATCH_SUBJECTS + subject + 1)
        answer = hashlib.sha256(f"{message_id}/{subject}".encode()).hexdigest()
        for side, member, counterpart in (
            ("requester", client, PROVIDER),
            ("provider", PROVIDER, client),
        ):
            out.append(
                mesh.AccessRecordCreate(
                    person_id=person,
                    side=side,
                    member=member,
                    counterpart=counterpart,
                    agency_code=_code(f"{member}/{person}".encode()),
                    service=SERVICE,
                    items=ITEMS,
                    legal_basis=basis,
                    consent_id=None,
                    message_id=message_id,
                    request_hash=request_hash,
                    response_hash=answer,
                    outcome="ok",
                    requested_at=requested,
                    provided_at=provided,
                )
            )
    return out


def build(engine: Engine, count: int) -> float:
    """Write ``count`` records (a multiple of 2,000 rounded up) with checkpoints; wall seconds."""
    began = time.perf_counter()
    start = datetime(2026, 12, 1, tzinfo=UTC)
    written, number, checkpointed = 0, 0, 0
    while written < count:
        with Session(engine) as session:
            records.append_records(session, batch_records(number, start))
            session.commit()
        written += 2 * BATCH_SUBJECTS
        number += 1
        if written - checkpointed >= CHECKPOINT_EVERY or written >= count:
            with Session(engine) as session:
                mesh.make_checkpoint(session)
                session.commit()
            checkpointed = written
        if written % 100_000 == 0:
            print(f"  built {written:,} records ({time.perf_counter() - began:.0f} s)", flush=True)
    return time.perf_counter() - began


@dataclass
class Timing:
    wall: float
    cpu: float
    server_cpu: float | None


def _server_cpu(session: Session) -> Callable[[], float | None]:
    """CPU seconds so far of the PostgreSQL backend serving ``session`` (same machine)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: None
    pid = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
    session.rollback()
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / tick

    return read


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the verify's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@contextmanager
def timed(session: Session, into: list[Timing]) -> Iterator[None]:
    server = _server_cpu(session)
    s0, w0, c0 = server(), time.perf_counter(), _cpu()
    yield
    w1, c1, s1 = time.perf_counter(), _cpu(), server()
    into.append(Timing(w1 - w0, c1 - c0, None if s0 is None or s1 is None else s1 - s0))


def encoded_length() -> int:
    """The mean length (bytes) of the canonical encoding of the bench's records."""
    sample = batch_records(0, datetime(2026, 12, 1, tzinfo=UTC))
    now = datetime.now(UTC)
    total = sum(
        len(_json(records.canonical_fields(r, seq=n, recorded_at=now, prev_hash="0" * 64)).encode())
        for n, r in enumerate(sample, start=1)
    )
    return total // len(sample)


def floor(session: Session, length: int) -> int:
    """Read every column in order on the driver's cursor, as the verify does, and per record
    hash ``length`` bytes (its canonical encoding's length) and its Merkle leaf and nodes."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    cursor: Any = record_scan._rows(connection.dialect, driver)
    sha256 = hashlib.sha256
    block = b"x" * length
    frontier: list[tuple[int, bytes]] = []
    count = 0
    try:
        for _row in cursor:
            digest = sha256(block).digest()
            node, height = sha256(b"\x00" + digest).digest(), 0
            while frontier and frontier[-1][0] == height:
                node = sha256(b"\x01" + frontier.pop()[1] + node).digest()
                height += 1
            frontier.append((height, node))
            count += 1
    finally:
        cursor.close()
    return count


def _line(name: str, timing: Timing, peer: Timing | None = None) -> str:
    server = "" if timing.server_cpu is None else f"  server CPU {timing.server_cpu:6.2f} s"
    line = f"{name:<23} wall {timing.wall:7.2f} s  CPU {timing.cpu:7.2f} s{server}"
    if peer is not None:
        line += (
            f"  ratio to floor: wall {timing.wall / max(peer.wall, 1e-9):.2f}x,"
            f" CPU {timing.cpu / max(peer.cpu, 1e-9):.2f}x"
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="an empty database of your own")
    parser.add_argument("--full", action="store_true", help="also time the full analysis")
    parser.add_argument(
        "--reuse", action="store_true", help="verify the log already in --database-url"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        # The checkpoint key lives in the data directory: --reuse needs the one of the build.
        tmp = os.environ.setdefault("KIBAN_DATA_DIR", scratch)
        get_settings.cache_clear()
        url = args.database_url or f"sqlite:///{Path(tmp) / 'records.db'}"
        engine = make_engine(url)
        if args.reuse:
            print(f"database: {engine.dialect.name}, the log already there", flush=True)
        else:
            migrate.upgrade(url)
            print(f"database: {engine.dialect.name}, building {args.records:,} records")
            built = build(engine, args.records)
            print(f"built in {built:.1f} s (wall)", flush=True)

        timings: list[Timing] = []
        length = encoded_length()
        with Session(engine) as session, timed(session, timings):
            rows = floor(session, length)
        peer = timings[-1]
        print(f"records: {rows:,}, canonical encoding {length} bytes per record")
        print(_line("floor (cursor+sha256)", peer))
        kiban = peer
        for workers in (1, None):
            with Session(engine) as session, timed(session, timings):
                report = mesh.verify_log(session, workers=workers)
            if not report.ok or report.records != rows:  # A benchmark's sanity check.
                raise SystemExit(f"the log does not verify: {report.first}")
            kiban = timings[-1]
            name = "verify, 1 process" if workers == 1 else "verify, CLI default"
            print(_line(name, kiban, peer), flush=True)
        print(f"checkpoints verified: {report.checkpoints}")
        if args.full:
            with Session(engine) as session, timed(session, timings):
                full = record_verify._analyse(record_verify.load_log(session), None)
            if not full.ok:
                raise SystemExit("the full analysis disagrees")
            print(_line("full analysis (before)", timings[-1], peer))
        single = timings[1]
        per_million = single.cpu * 1_000_000 / max(rows, 1)
        print(
            f"CPU per 1,000,000 records in one process: {per_million:.2f} s;"
            f" goal {GOAL_SECONDS:.0f} s (ratio {per_million / GOAL_SECONDS:.2f}; below 1 meets it)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
