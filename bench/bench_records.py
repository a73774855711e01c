"""Access-record writes: group commit against one commit per record, in the same run.

Run: ``.venv/bin/python bench/bench_records.py [SECONDS] [THREADS]`` (default 5, 8).

Both modes run on a fresh SQLite file in WAL mode with ``synchronous=FULL`` on the writing
connection, so every commit waits for the disk (that is the durability the gateway promises
before a response). ``THREADS`` request threads each write both sides' records of one exchange
after another:

- **group commit**: through one :class:`kiban.blocks.mesh.RecordWriter`, which commits whatever
  is queued in one transaction;
- **one commit per record**: each thread appends and commits its records itself, one record per
  transaction, as a naive gateway would.

The figure is records per second (both sides count) and the ratio of the two.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.platform import migrate
from kiban.platform.db import make_engine
from kiban.platform.settings import get_settings


def exchange(person: uuid.UUID, message_id: str) -> list[mesh.AccessRecordCreate]:
    """Both sides' records of one exchange, of a realistic size."""
    now = datetime.now(UTC)
    digest = hashlib.sha256(message_id.encode()).hexdigest()
    return [
        mesh.AccessRecordCreate(
            person_id=person,
            side=side,
            member=here,
            counterpart=there,
            agency_code=f"code-{side}-{person.hex[:16]}",
            service="JP/MUN/131016/residents/address",
            items=["address", "moved_on"],
            legal_basis="国民年金法第108条",
            consent_id=None,
            message_id=message_id,
            request_hash=digest,
            response_hash=digest,
            outcome="ok",
            requested_at=now,
            provided_at=now,
        )
        for side, here, there in (
            ("requester", "JP/GOV/00001/pension", "JP/MUN/131016/residents"),
            ("provider", "JP/MUN/131016/residents", "JP/GOV/00001/pension"),
        )
    ]


def _fresh(scratch: Path, name: str) -> Engine:
    url = f"sqlite:///{scratch / name}"
    migrate.upgrade(url)
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _full(dbapi_connection: Any, _record: Any) -> None:
        # The naive mode gets the same durability as the writer's own connection.
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    return engine


def _run(threads: int, seconds: float, write: Any) -> int:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def worker(n: int) -> None:
        person = uuid.uuid4()
        i = 0
        while time.monotonic() < stop:
            write(exchange(person, f"t{n}-{i}"))
            counts[n] += 2
            i += 1

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sum(counts)


def main(seconds: float, threads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        os.environ["KIBAN_DATA_DIR"] = str(scratch)
        get_settings.cache_clear()

        grouped_engine = _fresh(scratch, "grouped.db")
        with mesh.RecordWriter(grouped_engine) as writer:
            grouped = _run(threads, seconds, writer.write)
        batches = writer.batches

        single_engine = _fresh(scratch, "single.db")

        def one_by_one(records: list[mesh.AccessRecordCreate]) -> None:
            for item in records:
                with Session(single_engine) as session:
                    mesh.append_records(session, [item])
                    session.commit()

        single = _run(threads, seconds, one_by_one)

        for engine in (grouped_engine, single_engine):
            with Session(engine) as session:
                assert mesh.verify_log(session).ok  # noqa: S101 - a benchmark sanity check.
            engine.dispose()

    grouped_rate, single_rate = grouped / seconds, single / seconds
    print(f"threads: {threads}, seconds per mode: {seconds:g}")
    print(
        f"group commit:           {grouped_rate:10,.0f} records/s "
        f"({grouped} records in {batches} transactions, {grouped / max(batches, 1):.1f}/commit)"
    )
    print(f"one commit per record:  {single_rate:10,.0f} records/s")
    print(f"ratio:                  {grouped_rate / max(single_rate, 1e-9):10.1f}x")


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 5.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else 8,
    )
