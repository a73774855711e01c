"""Read records: what recording a listing costs, against the same listing unrecorded and against
recording it one statement per person, in the same run.

Run: ``.venv/bin/python bench/bench_reads.py [PEOPLE] [ROUNDS]`` (default 1000, 15).

A fresh SQLite file gets the demo country (3,000 residents); each round is one transaction,
committed, as a request is:

- **plain**: ``residents.list_people`` of ``PEOPLE`` people (the bound: no record);
- **recorded**: ``residents.access_people_by_municipality`` of the same people (the listing and
  one read record per person, in one statement);
- **one per person**: the same rows written with one ``do_record_reads`` call per person, as a
  naive recorder would.

The figures are the median milliseconds a round and the ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.platform import migrate
from kiban.platform.db import make_engine
from kiban.platform.settings import get_settings

PURPOSE = residents.ReadPurpose.REGISTER_ADMINISTRATION


def _median_ms(engine: Engine, rounds: int, work: Callable[[Session], object]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        with Session(engine) as session:
            work(session)
            session.commit()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(people: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KIBAN_DATA_DIR"] = tmp
        get_settings.cache_clear()
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            residents.seed_population(session, size="demo", seed=2026)
            session.commit()
        with Session(engine) as session:
            ids = [p.id for p in residents.list_people(session, limit=people)]

        def each(session: Session) -> None:
            for person_id in ids:
                residents.do_record_reads(
                    session,
                    "operator",
                    [person_id],
                    items=residents.PERSON_ITEMS,
                    purpose=PURPOSE,
                    route="bench",
                )

        plain = _median_ms(engine, rounds, lambda s: residents.list_people(s, limit=people))
        recorded = _median_ms(
            engine,
            rounds,
            lambda s: residents.access_people_by_municipality(
                s, "operator", lg_code=None, limit=people, purpose=PURPOSE, route="bench"
            ),
        )
        one_by_one = _median_ms(engine, rounds, each)
        engine.dispose()

    print(f"people per listing: {len(ids)}, rounds: {rounds}")
    print(f"plain listing:                {plain:8.1f} ms")
    print(f"recorded listing:             {recorded:8.1f} ms  ({recorded / plain:.2f}x the plain)")
    print(f"records only, one per person: {one_by_one:8.1f} ms")
    print(f"plain + one record per person: {(plain + one_by_one) / recorded:.1f}x the recorded")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 1000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 15,
    )
