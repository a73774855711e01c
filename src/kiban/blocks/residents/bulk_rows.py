"""Writing many new rows of one table at once: the synthetic country's bulk path.

On PostgreSQL the rows go through ``COPY … FROM STDIN`` on the driver's connection, inside the
transaction SQLAlchemy began, so an interrupted seed still leaves nothing behind. COPY skips
the parse, plan and bind of every row that even a pipelined ``executemany`` pays; at a million
residents it is the difference between a quarter of an hour and a couple of minutes
(``bench/bench_seed.py --postgresql``). Elsewhere (SQLite) the rows go through one Core insert
with ``executemany``, which is already close to the engine's own speed.

The rows are the dictionaries a Core insert would take, with Python values (UUIDs, dates,
aware datetimes, dictionaries for JSON columns); every row of one call has the same keys.
See ``docs/adr/0041-the-seed-writes-with-copy.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert


def write_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in the connection's transaction (never commits)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    names = list(rows[0])
    # JSON goes as its text (JSONB parses it on the server); everything else through the
    # driver's own dumpers, which escape text for COPY's format.
    json_at = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    values = itemgetter(*names)
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - only a closed connection has none.
        raise RuntimeError("the connection is closed")
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        if not json_at:
            for row in rows:
                write(values(row))
            return
        for row in rows:
            out = list(values(row))
            for i in json_at:
                out[i] = json.dumps(out[i], ensure_ascii=False, separators=(",", ":"))
            write(out)
