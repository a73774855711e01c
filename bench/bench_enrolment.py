"""Agency enrolment through the mesh: batch exchanges against one exchange per person, in one run.

Run: ``.venv/bin/python bench/bench_enrolment.py [DATABASE_URL] [SIZE] [SINGLES]``
(default: a fresh SQLite file, ``demo``, 300). A PostgreSQL URL must name an empty database
of your own; the script migrates it.

It seeds the register (``SIZE``), registers the reference agencies, then enrols every resident
with the four government agencies through ``agencies.wiring.enrol_through_mesh`` (batch
exchanges of 1,000 people, bulk codes and rows) in one transaction, as ``kiban seed`` does.
Its peer, in the same run on the same database, is the previous path: one signed exchange per
person per agency (``mesh.call`` and ``agency.enrol``) for ``SINGLES`` residents of a second
country seeded beside the first, so neither path finds the other's rows.

Times are CPU seconds of this process (``time.process_time``) and wall seconds: the machine is
shared, and wall time follows the other users' load. It prints residents per CPU-second of each
path, their ratio, and the projected time for 1,000,000 residents beside the issue's goal of
10 minutes (the ratio of the projection to the goal: below 1 meets it).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from kiban.agencies import wiring
from kiban.agencies.agency import Enrolment, enrol
from kiban.agencies.registry import AGENCIES
from kiban.blocks import mesh, residents
from kiban.platform import migrate
from kiban.platform.db import make_engine, transaction
from kiban.platform.settings import get_settings

GOAL_SECONDS = 600.0
NATION = 1_000_000


def _single(session: Session, person_ids: list[uuid.UUID], seed: int) -> None:
    """The path before batches: one exchange per person per government agency."""
    government = [a for a in AGENCIES.values() if a.member_class == "GOV"]
    for person_id in person_ids:
        for agency in government:
            code = mesh.agency_code(session, agency.subsystem, person_id)
            reply = mesh.call(
                session,
                client=agency.subsystem,
                service=mesh.BASIC_FOUR_SERVICE,
                agency_code=code,
                items=wiring.ENROL_ITEMS,
            )
            facts = reply.body
            enrol(
                session,
                agency,
                [Enrolment(code, date.fromisoformat(facts["birth_date"]), facts["address"])],
                seed=seed,
            )


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="kiban-bench-enrol-"))
    url = (sys.argv[1] if len(sys.argv) > 1 else "") or f"sqlite:///{scratch / 'kiban.db'}"
    size = sys.argv[2] if len(sys.argv) > 2 else "demo"
    singles = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    os.environ["KIBAN_DATA_DIR"] = str(scratch)
    os.environ["KIBAN_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        residents.seed_population(session, size=size, seed=2026)
        wiring.register_reference_agencies(session)
    with transaction(engine) as session:
        everyone = [p.id for p in residents.list_people(session, limit=10_000_000)]
    # The peer's people: a second, tiny-sized country would share towns; take the last
    # ``singles`` residents instead and enrol the others in batches.
    peer, batched = everyone[-singles:], everyone[:-singles]

    cpu, wall = time.process_time(), time.perf_counter()
    with transaction(engine) as session:
        made = wiring.enrol_through_mesh(session, batched, seed=2026)
    batch_cpu, batch_wall = time.process_time() - cpu, time.perf_counter() - wall

    cpu, wall = time.process_time(), time.perf_counter()
    with transaction(engine) as session:
        _single(session, peer, 2026)
    single_cpu, single_wall = time.process_time() - cpu, time.perf_counter() - wall

    batch_rate = len(batched) / batch_cpu
    single_rate = len(peer) / single_cpu
    projected = NATION / batch_rate
    print(f"database: {engine.dialect.name}; register: {len(everyone):,} residents ({size})")
    print(f"enrolled (batches): {made}")
    print(
        f"batches: {len(batched):,} residents in {batch_cpu:.1f} s CPU ({batch_wall:.1f} s wall)"
        f" = {batch_rate:,.0f} residents per CPU-second"
    )
    print(
        f"one exchange per person: {len(peer):,} residents in {single_cpu:.1f} s CPU"
        f" ({single_wall:.1f} s wall) = {single_rate:,.0f} residents per CPU-second"
    )
    print(f"batches / single exchanges: {batch_rate / single_rate:.1f}x")
    print(
        f"1,000,000 residents at the batch rate: {projected:,.0f} s of CPU;"
        f" goal {GOAL_SECONDS:.0f} s; ratio {projected / GOAL_SECONDS:.2f}"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
