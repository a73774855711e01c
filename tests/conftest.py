"""Shared fixtures: a migrated database per test on every configured backend, no outside network.

Every test that takes ``database_url`` (or ``engine``/``session``) runs once on SQLite and, when
``KIBAN_TEST_DATABASE_URL`` is set (CI sets it), once more on PostgreSQL. The schema is built by
running the migrations: once per run into a SQLite template file that each test copies, and once
per run on PostgreSQL, where each test starts from emptied tables. The fixture also points the
process settings (``KIBAN_DATABASE_URL``, ``KIBAN_DATA_DIR``, ``KIBAN_EVENTS_URL``,
``KIBAN_EVENTS_STREAM``) at that database, so CLI and web code under test use it too.

The suite can run in parallel under pytest-xdist (``make test PYTEST_WORKERS=2``, ADR 0036): each
worker (``PYTEST_XDIST_WORKER``) gets a PostgreSQL database of its own, created beside the given
one and dropped at the end, and a JetStream stream and subject prefix of its own; temporary
directories and loopback ports are per test already.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, Engine, MetaData, create_engine, make_url, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from kiban.blocks import mesh
from kiban.platform import db, migrate, throttle
from kiban.platform.settings import get_settings

PG_URL = os.environ.get("KIBAN_TEST_DATABASE_URL", "")
NATS_URL = os.environ.get("KIBAN_TEST_EVENTS_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _is_local(address: Any) -> bool:
    if isinstance(address, str):  # A Unix socket path.
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback services only (CONVENTIONS.md §9)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach {address!r}; only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    """Queued throttle failures live in the process (the counts in each test's own database)."""
    throttle.reset_all()
    yield
    throttle.reset_all()


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from default settings with its own data directory."""
    for name in list(os.environ):
        if name.startswith("KIBAN_") and not name.startswith("KIBAN_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KIBAN_ENVIRONMENT", "test")
    monkeypatch.setenv("KIBAN_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    db.dispose_engines()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kiban.db"
    migrate.upgrade(f"sqlite:///{path}")
    # Tests copy the main file only: fold the WAL into it first, or a copy may miss the last
    # migrations. The migration engine's checkpoint thread may still be in a checkpoint of its
    # own as it stops (SQLite runs one at a time and answers busy): try again until it is done.
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        for _ in range(200):
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0:
                break
            time.sleep(0.05)
        assert busy == 0, "the migrated template's WAL could not be checkpointed"
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database through SQLite's backup API: a plain file copy misses what is
    still in the write-ahead log (``-wal``), such as a migration's last steps."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _admin(url: URL, statement: str) -> None:
    """Run ``CREATE``/``DROP DATABASE`` (outside a transaction) on the server of ``url``."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgresql_migrated() -> Iterator[str]:
    """The migrated PostgreSQL database of this run, or of this xdist worker: a worker's database
    is ``<given name>_<worker>``, made anew beside the given one and dropped at the end."""
    if not WORKER:
        migrate.upgrade(PG_URL)
        yield PG_URL
        return
    given = make_url(PG_URL)
    name = f"{given.database}_{WORKER}"
    _admin(given, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(given, f'CREATE DATABASE "{name}"')
    url = given.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _PG_ENGINES.pop(url, None)
        db.dispose_engines()
        _admin(given, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def events_stream() -> Iterator[str]:
    """This run's (or worker's) JetStream stream on the test NATS server, named after its
    PostgreSQL database so that parallel workers and other runs sharing the server do not see
    each other's events (the subject prefix follows the stream's name); deleted at the end."""
    database = make_url(PG_URL).database or "kiban"
    stream = re.sub(r"[^A-Za-z0-9_-]", "_", f"KIBAN_{database}_{WORKER or 'main'}").upper()
    yield stream
    from kiban.platform import nats_relay  # noqa: PLC0415 - only NATS runs need it.

    nats_relay.delete_stream(url=NATS_URL, stream=stream)


# Per database URL: one engine for emptying it between tests, and the names of its tables (the
# schema does not change during a run: migrated once, no test alters it).
_PG_ENGINES: dict[str, tuple[Engine, list[str]]] = {}


def _truncate_all(url: str) -> None:
    """Empty every table that holds rows: one query finds them, one ``TRUNCATE`` empties them
    (most tests fill a handful of the tables; truncating all of them cost a tenth of a second
    or more per test)."""
    if url not in _PG_ENGINES:
        engine = create_engine(url, poolclass=NullPool)
        meta = MetaData()
        with engine.connect() as conn:
            meta.reflect(conn)
        names = [t.name for t in meta.sorted_tables if t.name != "alembic_version"]
        _PG_ENGINES[url] = (engine, names)
    engine, names = _PG_ENGINES[url]
    if not names:
        return
    probe = " UNION ALL ".join(
        f"SELECT '{name}' FROM (SELECT 1 FROM {name} LIMIT 1) AS t{i}"  # noqa: S608 - names from the schema.
        for i, name in enumerate(names)
    )
    with engine.begin() as conn:
        used = list(conn.execute(text(probe)).scalars())
        if used:
            conn.execute(text(f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The URL of a freshly migrated, empty database; the settings point at it."""
    if request.param == "sqlite":
        path = tmp_path / "kiban.db"
        _copy_sqlite(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgresql_migrated")
        _truncate_all(url)
        if NATS_URL:
            monkeypatch.setenv("KIBAN_EVENTS_URL", NATS_URL)
            monkeypatch.setenv("KIBAN_EVENTS_STREAM", request.getfixturevalue("events_stream"))
    monkeypatch.setenv("KIBAN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    # A group-commit record writer a test started holds a connection of this engine: stop it
    # first, so that its connection goes back to a pool that closes it.
    mesh.stop_record_writers()
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database; the test commits when it wants the data visible."""
    with db.session_factory(engine)() as session:
        yield session
