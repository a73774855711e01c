"""Shared fixtures: a migrated database per test on every configured backend, no outside network.

Every test that takes ``database_url`` (or ``engine``/``session``) runs once on SQLite and, when
``KIBAN_TEST_DATABASE_URL`` is set (CI sets it), once more on PostgreSQL. The schema is built by
running the migrations: once per run into a SQLite template file that each test copies, and once
per run on PostgreSQL, where each test starts from truncated tables. The fixture also points the
process settings (``KIBAN_DATABASE_URL``, ``KIBAN_DATA_DIR``, ``KIBAN_EVENTS_URL``) at that
database, so CLI and web code under test use it too.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, text
from sqlalchemy.orm import Session

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
    """Throttle counts live in the process: each test starts with none."""
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
    # The engine's WAL checkpoint thread closes its connection up to a second after the
    # migration's engine is disposed; until then the last migrations may sit in the WAL, and
    # a copy of the database file alone would miss them. Move them into the file first.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return path


@pytest.fixture(scope="session")
def postgresql_migrated() -> str:
    migrate.upgrade(PG_URL)
    return PG_URL


def _truncate_all(url: str) -> None:
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            names = [t.name for t in meta.sorted_tables if t.name != "alembic_version"]
            if names:
                conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The URL of a freshly migrated, empty database; the settings point at it."""
    if request.param == "sqlite":
        path = tmp_path / "kiban.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgresql_migrated")
        _truncate_all(url)
        if NATS_URL:
            monkeypatch.setenv("KIBAN_EVENTS_URL", NATS_URL)
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
