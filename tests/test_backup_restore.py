"""Backup and restore (docs/deploy.md): ``deploy/backup.sh`` then ``deploy/restore.sh`` into an
empty database, on a PostgreSQL cluster this test starts itself; both logs verify afterwards,
and the same database without its keys does not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import cluster

pytestmark = pytest.mark.slow

DEPLOY = cluster.ROOT / "deploy"


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, check=False, capture_output=True, text=True)


@pytest.fixture
def postgres(tmp_path: Path) -> cluster.Postgres:
    bindir = cluster.postgres_bin()
    if bindir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path / "pg"
    tmp_path.chmod(0o755)
    (port,) = cluster.free_ports(1)
    server = cluster.Postgres(root, port, bindir)
    server.init()
    yield server
    server.stop("immediate")


def test_a_backup_restored_into_an_empty_database_verifies(
    postgres: cluster.Postgres, tmp_path: Path
) -> None:
    kiban = str(cluster.VENV_BIN / "kiban")
    base = {k: v for k, v in os.environ.items() if not k.startswith("KIBAN_")}
    live = base | {
        "KIBAN_ENVIRONMENT": "test",
        "KIBAN_DATABASE_URL": postgres.url,
        "KIBAN_DATA_DIR": str(tmp_path / "live"),
        "PG_BIN": str(postgres.bindir),
    }
    # Given a running installation with residents, cards, agencies and mesh records.
    for argv in ([kiban, "migrate"], [kiban, "seed", "--size", "tiny"], [kiban, "mesh", "checkpoint"]):
        done = _run(argv, live)
        assert done.returncode == 0, done.stderr[-2000:]
    people = postgres.scalar("SELECT count(*) FROM residents_persons")
    records = postgres.scalar("SELECT count(*) FROM mesh_access_records")
    audit = postgres.scalar("SELECT count(*) FROM platform_audit_entries")
    assert int(records) > 0

    # When it is backed up and restored into an empty database with a fresh data directory.
    backup = tmp_path / "backup"
    done = _run([str(DEPLOY / "backup.sh"), str(backup)], live)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in backup.iterdir()} == {"kiban.dump", "keys.tar.gz", "SHA256SUMS"}
    postgres.scalar("SELECT 1")
    subprocess.run(
        [*postgres._psql(), "-d", "postgres", "-c", "CREATE DATABASE restored"], check=True
    )
    restored = live | {
        "KIBAN_DATABASE_URL": postgres.url.removesuffix("/kiban") + "/restored",
        "KIBAN_DATA_DIR": str(tmp_path / "restored"),
        "KIBAN": kiban,
    }
    done = _run([str(DEPLOY / "restore.sh"), str(backup)], restored)

    # Then both logs verify there, and everything came back.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "access records intact" in done.stdout
    count = _psql_count(postgres, "restored")
    assert count("residents_persons") == people
    assert count("mesh_access_records") == records
    assert count("platform_audit_entries") == audit

    # The database alone is not a backup: without the keys the checkpoints do not verify.
    shutil.rmtree(tmp_path / "restored" / "keys")
    (tmp_path / "restored" / "keys").mkdir()
    keyless = _run([kiban, "mesh", "verify"], restored)
    assert keyless.returncode != 0, keyless.stdout
    # And restore refuses to overwrite keys that are there.
    again = _run([str(DEPLOY / "restore.sh"), str(backup)], restored)
    assert again.returncode == 2
    assert "refusing to overwrite keys" in again.stderr


def _psql_count(postgres: cluster.Postgres, database: str):  # type: ignore[no-untyped-def]
    def count(table: str) -> str:
        done = subprocess.run(
            [*postgres._psql(), "-d", database, "-At", "-c", f"SELECT count(*) FROM {table}"],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    return count
