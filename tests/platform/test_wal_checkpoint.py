"""A file SQLite database is checkpointed by its engine's own thread, not by a request's commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiban.platform import db

THREAD = "kiban-wal-checkpoint"


def _checkpoint_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == THREAD)


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_wal_reaches_the_file_without_another_commit(tmp_path: Path) -> None:
    # Given a file database and one committed transaction (in WAL mode the file itself is
    # still empty: the pages are in the WAL),
    path = tmp_path / "kiban.db"
    before = _checkpoint_threads()
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE marker (value TEXT)")
            connection.exec_driver_sql("INSERT INTO marker VALUES ('checkpointed-by-the-thread')")
            # its connections leave checkpoints to the thread up to the backstop,
            pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == db.BACKSTOP_PAGES
        assert _checkpoint_threads() == before + 1
        # then the thread copies the pages into the database file, with no commit after it.
        assert _wait_for(
            lambda: b"checkpointed-by-the-thread" in path.read_bytes(),
            10 * db.CHECKPOINT_SECONDS,
        )
    finally:
        engine.dispose()
    # Disposing of the engine stops its thread.
    assert _wait_for(lambda: _checkpoint_threads() == before, 10 * db.CHECKPOINT_SECONDS)


def test_an_in_memory_database_keeps_sqlites_own_checkpoints() -> None:
    before = _checkpoint_threads()
    engine = db.make_engine("sqlite://")
    try:
        with engine.begin() as connection:
            pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == 1000
        assert _checkpoint_threads() == before
    finally:
        engine.dispose()
