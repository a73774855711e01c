"""Agency enrolment through the mesh against a bound and the single-exchange path, in one run.

Run: ``.venv/bin/python bench/bench_enrolment.py [DATABASE_URL] [SIZE] [SINGLES]``
(default: a fresh SQLite file, ``demo``, 300). ``SIZE`` is ``tiny``, ``demo``, ``large`` or a
number of residents (spread over the demo's six municipalities). A PostgreSQL URL must name
an empty database of your own; the script migrates it.

It seeds the register (not timed), registers the reference agencies, then enrols the residents
with the four government agencies through ``agencies.wiring.enrol_through_mesh`` (batch
exchanges of 1,000 people, bulk codes, records and rows) in one transaction, as ``kiban seed``
does, and checkpoints and verifies the access-record log (``kiban mesh verify``'s check).

Its bound, in the same run on PostgreSQL: the same rows the enrolment wrote (access records,
agency codes, the agencies' rows), read back as COPY text and written again with
``COPY … FROM STDIN`` into tables like the real ones (same columns and indexes) in one
transaction. That is the cost of storing the enrolment's output with no work to make it; the
ratio enrolment / bound says how much the making costs beside it. Its peer is the previous
path: one signed exchange per person per agency (``mesh.call`` and ``agency.enrol``) for the
last ``SINGLES`` residents (0 skips it).

Times are wall seconds, CPU seconds of this process (``time.process_time``) and, when the
server runs on this machine, CPU seconds of the PostgreSQL backend serving the session (from
``/proc``): the machine is shared, so wall time follows the other users' load. It prints
residents per second of wall time and per CPU-second (this process plus the backend), the
ratios, and the projection for 1,000,000 residents beside the issue's goal of 10 minutes.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kiban.agencies import wiring
from kiban.agencies.agency import Enrolment, enrol
from kiban.agencies.registry import AGENCIES
from kiban.blocks import mesh, residents
from kiban.blocks.residents import synthetic
from kiban.platform import migrate
from kiban.platform.db import make_engine, transaction
from kiban.platform.settings import get_settings

CHUNK = 1 << 20
GOAL_SECONDS = 600.0
NATION = 1_000_000
DEMO_MUNICIPALITIES = ("131016", "011011", "261041", "141097", "472018", "402036")
# The tables an enrolment writes: their rows are the bound's input.
WRITTEN = (
    "mesh_access_records",
    "mesh_agency_codes",
    "agencies_pension_records",
    "agencies_tax_taxpayers",
    "agencies_tax_incomes",
    "agencies_insurer_members",
    "agencies_licence_holders",
)


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


def _backend_cpu(session: Session) -> float | None:
    """CPU seconds of the PostgreSQL backend serving the session (None: not readable here)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall, this process's CPU and the backend's CPU over a block."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.backend = _backend_cpu(session)

    def stop(self) -> tuple[float, float, float | None]:
        backend = _backend_cpu(self.session)
        spent = None if backend is None or self.backend is None else backend - self.backend
        return time.perf_counter() - self.wall, time.process_time() - self.cpu, spent


def _bound(engine: Engine) -> tuple[int, tuple[float, float, float | None]]:
    """Read the enrolment's rows as COPY text, then time writing them again with COPY into
    tables like the real ones, in one transaction (rolled back)."""
    with transaction(engine) as session:
        driver = session.connection().connection.driver_connection
        dumps: dict[str, bytes] = {}
        rows = 0
        cursor = driver.cursor()
        for table in WRITTEN:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for data in copy:
                    buffer.write(data)
            dumps[table] = buffer.getvalue()
            rows += dumps[table].count(b"\n")
        for table in WRITTEN:
            cursor.execute(f"CREATE TEMPORARY TABLE bound_{table} (LIKE {table} INCLUDING ALL)")
        clock = Clock(session)
        for table, data in dumps.items():
            with cursor.copy(f"COPY bound_{table} FROM STDIN") as copy:
                for start in range(0, len(data), CHUNK):
                    copy.write(data[start : start + CHUNK])
        spent = clock.stop()
        session.rollback()
    return rows, spent


def _size(name: str) -> str:
    if name.isdigit():
        # A register of that many residents in the demo's municipalities (as bench_seed does).
        synthetic.SIZES["bench"] = (DEMO_MUNICIPALITIES, int(name))
        return "bench"
    return name


def _per_s(count: int, seconds: float | None) -> str:
    return "n/a" if not seconds else f"{count / seconds:,.0f}"


def main() -> None:  # noqa: PLR0915 - one linear report.
    scratch = Path(tempfile.mkdtemp(prefix="kiban-bench-enrol-"))
    url = (sys.argv[1] if len(sys.argv) > 1 else "") or f"sqlite:///{scratch / 'kiban.db'}"
    size = sys.argv[2] if len(sys.argv) > 2 else "demo"
    singles = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    os.environ["KIBAN_DATA_DIR"] = str(scratch)
    os.environ["KIBAN_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate.upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as session:
        residents.seed_population(session, size=_size(size), seed=2026)
        wiring.register_reference_agencies(session)
    register_wall = time.perf_counter() - started
    with transaction(engine) as session:
        everyone = residents.list_person_ids(session)
    peer, batched = everyone[len(everyone) - singles :], everyone[: len(everyone) - singles]

    with transaction(engine) as session:
        clock = Clock(session)
        made = wiring.enrol_through_mesh(session, batched, seed=2026)
        session.flush()
        wall, cpu, backend = clock.stop()
    commit_wall = time.perf_counter() - clock.wall - wall
    postgresql = engine.dialect.name == "postgresql"
    bound = _bound(engine) if postgresql else None

    started = time.perf_counter()
    with transaction(engine) as session:
        checkpoint = mesh.make_checkpoint(session)
        report = mesh.verify_log(session)
    verify_wall = time.perf_counter() - started

    single = None
    if peer:
        with transaction(engine) as session:
            single = Clock(session)
            _single(session, peer, 2026)
            single_spent = single.stop()

    n = len(batched)
    both = cpu + (backend or 0.0)
    print(f"database: {engine.dialect.name}; register: {len(everyone):,} residents ({size})")
    print(f"register seeded in {register_wall:,.1f} s wall (not part of the figures below)")
    print(f"enrolled (batches): {made}")
    print(
        f"enrolment: {n:,} residents in {wall:,.1f} s wall (+ commit {commit_wall:,.1f} s),"
        f" {cpu:,.1f} s CPU of this process"
        + ("" if backend is None else f", {backend:,.1f} s CPU of the PostgreSQL backend")
    )
    print(
        f"  = {_per_s(n, wall)} residents/s of wall time, {_per_s(n, cpu)} per CPU-second"
        f" of this process, {_per_s(n, both)} per CPU-second of both"
    )
    if bound is not None:
        rows, (b_wall, b_cpu, b_backend) = bound
        b_both = b_cpu + (b_backend or 0.0)
        print(
            f"bound: COPY of the same {rows:,} rows into like tables: {b_wall:,.1f} s wall,"
            f" {b_both:,.1f} s CPU (this process + backend)"
        )
        print(f"  enrolment / bound: {wall / b_wall:.1f}x wall, {both / b_both:.1f}x CPU")
    print(
        f"checkpoint of {checkpoint.tree_size if checkpoint else 0:,} records and verify:"
        f" {'ok' if report.ok else report.first} ({report.records:,} records,"
        f" {report.checkpoints} checkpoints) in {verify_wall:,.1f} s"
    )
    if single is not None:
        s_wall, s_cpu, s_backend = single_spent
        s_both = s_cpu + (s_backend or 0.0)
        print(
            f"one exchange per person: {len(peer):,} residents in {s_cpu:.1f} s CPU"
            f" ({s_wall:.1f} s wall) = {_per_s(len(peer), s_both)} per CPU-second of both;"
            f" batches are {(n / both) / (len(peer) / s_both):.1f}x faster per CPU-second"
        )
    projected_wall = NATION / n * wall
    projected_cpu = NATION / n * both
    print(
        f"1,000,000 residents at this rate: {projected_wall:,.0f} s wall"
        f" ({projected_cpu:,.0f} s CPU of both processes); goal {GOAL_SECONDS:.0f} s;"
        f" ratio {projected_wall / GOAL_SECONDS:.2f} (wall), {projected_cpu / GOAL_SECONDS:.2f}"
        " (CPU, as if the two had a core each and no one else ran)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
