"""A national push-type payment on PostgreSQL: eligibility and notices, obligations, the batch,
two approvals and the Zengin file for N residents, each phase beside a bound measured in the
same run.

Run (an empty database of your own; it is migrated here)::

    createdb -h 127.0.0.1 -U postgres kiban_bench_run
    .venv/bin/python bench/bench_national_run.py --residents 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kiban_bench_run

``--stage setup`` sets the register up and stops; ``--stage run`` then runs it (the same
``--residents``), so a million residents are set up once. ``--profile DIR`` writes each phase's
cProfile (cumulative and own time) to ``DIR``.

Setup, not timed: the synthetic register of N residents (``residents.seed_population``), the
Zengin list, the three shipped programmes, and a verified receiving account for 85 % of the
residents (the demo's share), written straight into ``payments_accounts`` in bulk: registering
a million accounts through the bank's mesh check is its own job, not this run. The setup ends
with ``ANALYZE``, so that the planner knows the tables' sizes, as in a database in service.

Events are written to the outbox as deployed with PostgreSQL (``KIBAN_EVENTS_URL``, NATS): the
relay that publishes them is not part of the run, and no in-process subscriber runs after each
commit (the SQLite default, where a run of a million would deliver a million events inline).

Timed phases, each its own transaction, as kiban's code runs them:

1. **eligibility and notices**: ``benefits.do_run_programme`` while the opt-out window is open
   — every household determined, a determination and an inbox notice per recipient;
2. **obligations**: the same call after the window — every determination handed to payments;
3. **batch**: ``payments.do_build_batch`` (lines for those with a verified account);
4. **approvals**: two ``payments.do_approve_batch`` (the second freezes lines and total and
   moves the ledger);
5. **Zengin file**: ``payments.transfer_file`` (120-byte records, cp932) written to disk.

The bound: PostgreSQL's ``COPY`` of the same number of rows (id, person, amount, a short text)
into a fresh table, through psycopg, in the same run. Nothing kiban writes row by row can beat
it; each phase's ratio to it says how much is kiban's own work. Each phase prints its wall time,
the CPU seconds of this process and those of the database's PostgreSQL backends (read from
``/proc``: the server must run on this machine), and both ratios: on a shared machine the CPU
ratio is the steadier one.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text

from kiban.blocks import benefits, payments
from kiban.blocks.payments.models import PaymentsAccount
from kiban.blocks.residents import synthetic
from kiban.kernel import clock
from kiban.platform import bulk, migrate
from kiban.platform.db import make_engine, transaction
from kiban.platform.settings import get_settings

MUNICIPALITIES = ("131016", "011011", "261041", "141097", "472018", "402036")
PROGRAMME = "flat-payment"
ACCOUNT_SHARE = 0.85
ACTOR = "system:bench"


T = TypeVar("T")


def _pg_cpu(database: str) -> dict[int, float]:
    """CPU seconds (user + system) of each PostgreSQL backend serving ``database``, read from
    ``/proc`` (the server runs on this machine): the database's share of a phase's work."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or f" {database} ".encode() not in command:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


@dataclass
class Phase:
    """One timed phase: wall seconds, CPU seconds of this process and of PostgreSQL."""

    wall: float
    cpu: float
    db_cpu: float


class Timer:
    """Times phases (wall, process CPU, the database's backends' CPU), optionally profiled."""

    def __init__(self, database: str, profile: Path | None) -> None:
        self.database = database
        self.profile = profile
        self.phases: dict[str, Phase] = {}

    def __call__(self, name: str, work: Callable[[], T]) -> T:
        db_before = _pg_cpu(self.database)
        cpu_before, started = time.process_time(), time.perf_counter()
        profiler = cProfile.Profile() if self.profile is not None else None
        if profiler is not None:
            profiler.enable()
        value = work()
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_before
        db_after = _pg_cpu(self.database)
        db_cpu = sum(after - db_before.get(pid, 0.0) for pid, after in db_after.items())
        self.phases[name] = Phase(wall, cpu, db_cpu)
        print(
            f"  {name}: {wall:,.1f} s wall, {cpu:,.1f} s CPU, PostgreSQL {db_cpu:,.1f} s CPU",
            flush=True,
        )
        if profiler is not None and self.profile is not None:
            self.profile.mkdir(parents=True, exist_ok=True)
            out = self.profile / f"{name.replace(' ', '_')}.txt"
            with out.open("w") as stream:
                pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(60)
                pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(40)
        return value


def _setup(engine: Engine, people: int) -> int:
    synthetic.SIZES["bench"] = (MUNICIPALITIES, people)
    with transaction(engine) as session:
        synthetic.seed_population(session, size="bench", seed=1)
    with transaction(engine) as session:
        payments.do_load_banks(session, actor=ACTOR)
        for programme in benefits.SHIPPED:
            benefits.do_define_programme(session, programme, actor=ACTOR)
        branches = [(b.bank_code, b.code) for b in payments.list_branches(session, "0005")[:50]]
        ids = list(session.scalars(text("SELECT id FROM residents_persons")))
    rng = random.Random(1)
    now = clock.now()
    rows = []
    for n, person_id in enumerate(ids):
        if rng.random() >= ACCOUNT_SHARE:
            continue
        bank_code, branch_code = rng.choice(branches)
        rows.append(
            {
                "id": uuid.uuid4(),
                "person_id": person_id,
                "version": 1,
                "bank_code": bank_code,
                "branch_code": branch_code,
                "account_type": "ordinary",
                "account_number": f"{n % 10_000_000:07d}",
                "holder_kana": "ｼｹﾝ ﾀﾛｳ",
                "status": "active",
                "verification": "exists",
                "created_at": now,
                "valid_to": None,
                "actor": ACTOR,
            }
        )
    with transaction(engine) as session:
        bulk.insert_rows(session, PaymentsAccount, rows)
    with engine.connect() as conn:
        # A register and accounts loaded a moment ago have no planner statistics yet (the
        # autovacuum daemon would gather them within a minute); a production database's are
        # current. Without them, PostgreSQL plans the run's joins for empty tables.
        conn.execute(text("ANALYZE"))
        conn.commit()
    return len(rows)


def _copy_bound(engine: Engine, rows: int, timer: Timer) -> Phase:
    """COPY of ``rows`` rows of the shape of an obligation into a fresh table."""
    data = [(uuid.uuid4(), uuid.uuid4(), 100_000, "特別定額給付金") for _ in range(rows)]
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_bound")
            cursor.execute(
                "CREATE TABLE bench_copy_bound (id uuid PRIMARY KEY, person_id uuid, "
                "amount bigint, reason text)"
            )
            raw.commit()

            def copy() -> None:
                with cursor.copy("COPY bench_copy_bound FROM STDIN") as stream:
                    for row in data:
                        stream.write_row(row)
                raw.commit()

            plain = Timer(timer.database, None)
            plain("bound: COPY", copy)
            cursor.execute("DROP TABLE bench_copy_bound")
            raw.commit()
    finally:
        raw.close()
    return plain.phases["bound: COPY"]


def _report(
    residents: int,
    run: benefits.RunRead,
    batch: payments.BatchRead,
    size: int,
    *,
    bound: Phase,
    phases: dict[str, Phase],
) -> None:
    rows = run.determinations
    print(
        f"\n{residents:,} residents, {rows:,} recipients "
        f"({run.total_yen:,} yen), batch of {batch.line_count:,} lines, file {size:,} bytes"
    )
    print(
        f"bound: COPY of {rows:,} rows: {bound.wall:,.2f} s wall, {bound.cpu:,.2f} s CPU, "
        f"PostgreSQL {bound.db_cpu:,.2f} s CPU"
    )
    whole = Phase(*(sum(getattr(p, f) for p in phases.values()) for f in ("wall", "cpu", "db_cpu")))
    print(
        f"  {'phase':<24} {'wall':>9}  {'rows/s':>10}  {'x bound':>8}  "
        f"{'CPU':>8}  {'PG CPU':>8}  {'CPU x bound':>11}"
    )
    bound_cpu = bound.cpu + bound.db_cpu
    for name, phase in [*phases.items(), ("whole run", whole)]:
        print(
            f"  {name:<24} {phase.wall:8,.1f}s  {rows / phase.wall:10,.0f}  "
            f"{phase.wall / bound.wall:7,.1f}x  {phase.cpu:7,.1f}s  {phase.db_cpu:7,.1f}s  "
            f"{(phase.cpu + phase.db_cpu) / bound_cpu:10,.1f}x"
        )


def _phases(
    engine: Engine, timer: Timer, tmp: str
) -> tuple[benefits.RunRead, payments.BatchRead, int]:
    """The timed national run, phase by phase, as kiban's code runs it."""
    with transaction(engine) as session:
        window = benefits.get_programme(session, PROGRAMME).definition.opt_out_days
    ago = timedelta(days=window + 1)
    base = clock.today_jst() - ago

    def determine() -> benefits.RunRead:
        with clock.travel(-ago), transaction(engine) as session:
            return benefits.do_run_programme(session, PROGRAMME, base, actor=ACTOR)

    def settle() -> benefits.RunRead:
        with transaction(engine) as session:
            return benefits.do_run_programme(session, PROGRAMME, base, actor=ACTOR)

    def build() -> payments.BatchRead:
        with transaction(engine) as session:
            return payments.do_build_batch(
                session, programme=PROGRAMME, payer=benefits.PAYER, actor=ACTOR
            )

    print("national run:")
    run = timer("eligibility and notices", determine)
    timer("obligations", settle)
    batch = timer("batch", build)

    def approve() -> None:
        for n in (1, 2):
            with transaction(engine) as session:
                payments.do_approve_batch(session, batch.number, actor=f"staff:bench-{n}@x")

    def export() -> int:
        with transaction(engine) as session:
            data = payments.transfer_file(session, batch.number)
        Path(tmp, "zengin.txt").write_bytes(data)
        return len(data)

    timer("approvals", approve)
    size = timer("Zengin file", export)
    return run, batch, size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "KIBAN_BENCH_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/kiban_bench_run",
        ),
    )
    parser.add_argument("--events-url", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--profile", type=Path, help="write each phase's cProfile (top functions) to this folder"
    )
    parser.add_argument(
        "--stage",
        choices=("all", "setup", "run"),
        default="all",
        help="setup only (an empty database), the run only (a database set up before), or both",
    )
    return parser


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url: the national run is measured on PostgreSQL")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KIBAN_DATA_DIR"] = tmp
        # As deployed on PostgreSQL: events go out through the outbox relay to NATS, not to
        # in-process subscribers after each commit. The run writes its outbox rows (timed);
        # delivering them is the relay's work, outside the run.
        os.environ["KIBAN_EVENTS_URL"] = args.events_url
        get_settings.cache_clear()
        migrate.upgrade(args.database_url)
        engine = make_engine(args.database_url)
        with engine.connect() as conn:
            people = int(conn.execute(text("SELECT count(*) FROM residents_persons")).scalar_one())
            runs = int(conn.execute(text("SELECT count(*) FROM benefits_runs")).scalar_one())
        if args.stage != "run" and people:
            parser.error("--database-url: the database must be empty (a fresh createdb)")
        if args.stage == "run" and (people != args.residents or runs):
            parser.error(f"--database-url: not a set-up register of {args.residents:,} residents")
        database = str(engine.url.database)
        timer = Timer(database, args.profile)
        if args.stage != "run":
            print(f"setup: {args.residents:,} residents on {engine.url.render_as_string()}")
            started = time.perf_counter()
            accounts = _setup(engine, args.residents)
            print(f"  setup took {time.perf_counter() - started:,.1f} s ({accounts:,} accounts)")
        if args.stage == "setup":
            engine.dispose()
            return

        run, batch, size = _phases(engine, timer, tmp)
        bound = _copy_bound(engine, run.determinations, timer)
        engine.dispose()

    _report(args.residents, run, batch, size, bound=bound, phases=timer.phases)


if __name__ == "__main__":
    main()
