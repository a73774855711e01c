"""Seeding speed: kiban's synthetic-country seed against the storage engine's own bound.

Run: ``.venv/bin/python bench/bench_seed.py [PEOPLE]`` (default 50,000) for SQLite, or
``.venv/bin/python bench/bench_seed.py PEOPLE --postgresql URL`` for PostgreSQL, where URL is
an empty database of your own (``postgresql+psycopg://postgres@127.0.0.1:5432/kiban_bench``);
``--all-municipalities`` spreads the people over every municipality in the registry, as
``kiban seed --size large`` does (loading the whole address registry is then part of the
phase, as in the seed).

SQLite: both sides run in this process on fresh files in WAL mode. kiban draws the households,
people, record versions and audit entries and writes them through SQLAlchemy. The bound writes
the same number of person rows (the same columns, already drawn, as plain tuples) with
``sqlite3.executemany`` in one transaction: no Python-side work at all, so no seed can beat it.

PostgreSQL: kiban's register phase (``seed_population``: the same draws, written with COPY in
one transaction) against a bound in the same run: the rows kiban wrote to the three tables
(households, persons, record versions), dumped to files beforehand, copied back with
``COPY … FROM STDIN`` in one transaction into bare tables of the same columns without any
index, key or constraint. That is the server's ingest of the same bytes with nothing else to
do. Beside wall time it prints the CPU seconds of this process (the drawing, all threads) and
of the server process serving the connection (from ``/proc``, so the server must run on this
machine).

The ratio says how much of the seed's time is kiban's own.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from kiban.blocks.residents import synthetic
from kiban.platform import migrate
from kiban.platform.db import make_engine, transaction

MUNICIPALITIES = ("131016", "011011", "261041", "141097", "472018", "402036")
TABLES = ("residents_households", "residents_persons", "residents_record_versions")


def run_kiban(path: Path, people: int) -> tuple[float, list[tuple[object, ...]]]:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    synthetic.SIZES["bench"] = (MUNICIPALITIES, people)
    started = time.perf_counter()
    with transaction(engine) as session:
        synthetic.seed_population(session, size="bench", seed=1)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM residents_persons")]
    engine.dispose()
    return elapsed, rows


def run_bound(path: Path, rows: list[tuple[object, ...]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    columns = ", ".join(f"c{i}" for i in range(len(rows[0])))
    conn.execute(f"CREATE TABLE people ({columns})")
    marks = ", ".join("?" * len(rows[0]))
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO people VALUES ({marks})", rows)  # noqa: S608 - fixed text.
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def sqlite_main(people: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["KIBAN_DATA_DIR"] = scratch
        kiban_s, rows = run_kiban(Path(scratch) / "kiban.db", people)
        bound_s = run_bound(Path(scratch) / "bound.db", rows)
    print(f"people: {people:,}")
    print(f"kiban seed:            {kiban_s:7.2f} s  {people / kiban_s:10,.0f} people/s")
    print(f"sqlite3 bound (1 table): {bound_s:5.2f} s  {people / bound_s:10,.0f} rows/s")
    print(f"ratio kiban / bound:   {kiban_s / bound_s:7.1f}x")


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a local server process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time, this process's CPU time and the server process's CPU time of one phase."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.server = _server_cpu(server_pid)

    def stop(self) -> tuple[float, float, float]:
        return (
            time.perf_counter() - self.wall,
            time.process_time() - self.cpu,
            _server_cpu(self.pid) - self.server,
        )


def _kiban_postgresql(engine: Engine, people: int, *, everywhere: bool) -> tuple[float, ...]:
    synthetic.SIZES["bench"] = (None if everywhere else MUNICIPALITIES, people)
    first: list[float] = []
    last = [0]

    def progress(done: int, total: int) -> None:
        if not first:
            first.append(time.perf_counter() - clock.wall)
        if done // 100_000 > last[0] // 100_000 or done == total:
            wall = time.perf_counter() - clock.wall
            print(f"  {done:>9,} / {total:,} residents  {done / wall:8,.0f}/s", flush=True)
        last[0] = done

    with transaction(engine) as session:
        pid = int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
        clock = _Clock(pid)
        summary = synthetic.seed_population(session, size="bench", seed=1, progress=progress)
        # The commit is part of the phase: the WAL is flushed there.
        session.commit()
        wall, cpu, server = clock.stop()
    print(
        f"kiban register phase:  {wall:8.2f} s wall  {people / wall:9,.0f} residents/s  "
        f"python {cpu:7.2f} s CPU  postgres {server:7.2f} s CPU  "
        f"({summary.households:,} households, {summary.municipalities:,} municipalities; the "
        f"address registry's load and the first batch took {first[0]:.1f} s of it)"
    )
    return wall, cpu, server


def _bound_postgresql(dsn: str, scratch: Path) -> tuple[float, ...]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        sizes = []
        for table in TABLES:
            with (
                (scratch / table).open("wb") as out,
                conn.cursor().copy(f"COPY {table} TO STDOUT") as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            sizes.append((scratch / table).stat().st_size)
            conn.execute(f"DROP TABLE IF EXISTS bound_{table}")
            # LIKE copies the columns and their types, no index, key or constraint.
            conn.execute(f"CREATE TABLE bound_{table} (LIKE {table})")
        pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        conn.autocommit = False
        clock = _Clock(pid)
        for table in TABLES:
            with (
                (scratch / table).open("rb") as source,
                conn.cursor().copy(f"COPY bound_{table} FROM STDIN") as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        wall, cpu, server = clock.stop()
        conn.autocommit = True
        for table in TABLES:
            conn.execute(f"DROP TABLE bound_{table}")
    print(
        f"COPY bound (3 tables): {wall:8.2f} s wall  {sum(sizes) / 1e6:9,.0f} MB of rows  "
        f"python {cpu:7.2f} s CPU  postgres {server:7.2f} s CPU"
    )
    return wall, cpu, server


def postgresql_main(people: int, url: str, *, everywhere: bool) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["KIBAN_DATA_DIR"] = scratch
        migrate.upgrade(url)
        engine = make_engine(url)
        print(f"people: {people:,} on PostgreSQL ({os.cpu_count()} cores, load {os.getloadavg()})")
        kiban = _kiban_postgresql(engine, people, everywhere=everywhere)
        engine.dispose()
        bound = _bound_postgresql(dsn, Path(scratch))
    print(
        f"ratio kiban / bound:   {kiban[0] / bound[0]:8.1f}x wall  "
        f"{(kiban[1] + kiban[2]) / (bound[1] + bound[2]):6.1f}x CPU (python + postgres)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", nargs="?", type=int, default=50_000)
    parser.add_argument("--postgresql", metavar="URL", help="an empty database of your own")
    parser.add_argument("--all-municipalities", action="store_true")
    args = parser.parse_args()
    if args.postgresql:
        postgresql_main(args.people, args.postgresql, everywhere=args.all_municipalities)
    else:
        sqlite_main(args.people)


if __name__ == "__main__":
    main()
