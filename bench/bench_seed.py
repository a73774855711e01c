"""Seeding speed: kiban's synthetic-country seed against the storage engine's own bound.

Run: ``.venv/bin/python bench/bench_seed.py [PEOPLE]`` (default 50,000).

Both sides run in this process on fresh SQLite files in WAL mode. kiban draws the households,
people, record versions and audit entries and writes them through SQLAlchemy. The bound writes
the same number of person rows (the same columns, already drawn, as plain tuples) with
``sqlite3.executemany`` in one transaction: no Python-side work at all, so no seed can beat it.
The ratio says how much of the seed's time is kiban's own.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from kiban.blocks.residents import synthetic
from kiban.platform import migrate
from kiban.platform.db import make_engine, transaction

MUNICIPALITIES = ("131016", "011011", "261041", "141097", "472018", "402036")


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


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["KIBAN_DATA_DIR"] = scratch
        kiban_s, rows = run_kiban(Path(scratch) / "kiban.db", people)
        bound_s = run_bound(Path(scratch) / "bound.db", rows)
    print(f"people: {people:,}")
    print(f"kiban seed:            {kiban_s:7.2f} s  {people / kiban_s:10,.0f} people/s")
    print(f"sqlite3 bound (1 table): {bound_s:5.2f} s  {people / bound_s:10,.0f} rows/s")
    print(f"ratio kiban / bound:   {kiban_s / bound_s:7.1f}x")


if __name__ == "__main__":
    main()
