"""What a cluster run must show afterwards (ADR 0035): every acknowledged write there exactly
once, every event handled once by each consumer, both logs verifying, a backup that restores;
and the figures — requests/s, errors and recovery time per fault.

Used by ``bench/cluster.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cluster_processes import DEPLOY, STREAM, VENV_BIN, Cluster

from kiban.platform.nats_relay import run_sync


@dataclass
class Window:
    """Requests around one fault: from the fault to 10 s after its component was back (or to
    the next fault, if sooner)."""

    fault: str
    requests: int
    errors: int
    recovery_s: float


@dataclass
class Report:
    seconds: float
    requests: int
    errors: int
    windows: list[Window]
    acknowledged: dict[str, int]
    problems: list[str]
    storage: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        out = [
            f"held {self.rps:,.1f} requests/s over {self.seconds:,.0f} s "
            f"({self.requests:,} requests, {self.errors:,} errors, "
            f"{100 * self.errors / max(self.requests, 1):.2f} %)",
            "acknowledged writes: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(self.acknowledged.items())),
        ]
        out += [
            f"  {w.fault}: {w.errors}/{w.requests} requests failed, recovered in "
            f"{w.recovery_s:.1f} s"
            for w in self.windows
        ]
        if self.storage:
            out.append(self.storage)
        out.append(
            "lost or duplicated: 0"
            if not self.problems
            else f"PROBLEMS ({len(self.problems)}): " + "; ".join(self.problems[:10])
        )
        return out


def _stream_backlog(urls: list[str]) -> int:
    """Messages of the stream that some durable consumer has not acknowledged yet (waiting,
    or delivered and not acknowledged: a handler cut off by a fault is redelivered after the
    consumer's ack wait)."""
    import nats  # noqa: PLC0415

    async def count() -> int:
        nc = await nats.connect(urls, connect_timeout=2, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            total = 0
            for info in await js.consumers_info(STREAM):
                total += info.num_pending + info.num_ack_pending
            return total
        finally:
            await nc.close()

    return run_sync(count())


def drain(running: Cluster, seconds: float = 120.0) -> None:
    """Wait until the relay published every outbox row and every consumer acknowledged every
    message (what a fault cut off comes back after the ack wait)."""
    deadline = time.monotonic() + seconds
    urls = running.events_url.split(",")
    state: tuple[str, int] = ("", -1)
    while time.monotonic() < deadline:
        pending = running.postgres.scalar(
            "SELECT count(*) FROM platform_outbox_events WHERE status = 'pending'"
        )
        try:
            backlog = _stream_backlog(urls)
        except Exception:
            backlog = -1
        if pending == "0" and backlog == 0 and state == (pending, backlog):
            return
        state = (pending, backlog)
        time.sleep(2.0)
    raise RuntimeError(
        f"events did not drain in {seconds:g} s (outbox pending, stream backlog = {state})"
    )


def _windows(running: Cluster, entries: list[dict[str, Any]]) -> list[Window]:
    out = []
    marks = running.events
    for i, (at, what) in enumerate(marks):
        if not what.startswith("fault: "):
            continue
        back = next((t for t, w in marks[i + 1 :] if not w.startswith("fault")), at)
        following = next((t for t, w in marks[i + 1 :] if w.startswith("fault")), float("inf"))
        end = min(back + 10.0, following)
        inside = [e for e in entries if at <= e["t"] <= end]
        failures = [e["t"] for e in inside if not e["ok"]]
        recovery = (max(failures) - at) if failures else 0.0
        out.append(Window(what.removeprefix("fault: "), len(inside), len(failures), recovery))
    return out


def check(running: Cluster, log: Path) -> Report:
    """Every acknowledged write present exactly once; the logs verify."""
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    requests = [e for e in entries if e["kind"] == "request"]
    writes = [e for e in entries if e["kind"] == "write"]
    problems: list[str] = []
    q = running.postgres.scalar

    acknowledged: dict[str, int] = {}
    for write in writes:
        acknowledged[write["what"]] = acknowledged.get(write["what"], 0) + 1
    submitted = {w["id"] for w in writes if w["what"] == "submit"}
    completed = {w["id"] for w in writes if w["what"] == "complete"}
    states = _by_key(
        running,
        "SELECT id::text, state FROM procedures_applications WHERE id::text IN ({})",
        submitted | completed,
    )
    for app_id in submitted | completed:
        state = states.get(app_id)
        if state is None:
            problems.append(f"application {app_id} acknowledged but absent")
        elif app_id in completed and state != "completed":
            problems.append(f"application {app_id} completed but {state}")
    # Each completed move changed the register once per mover, and nothing else did.
    mismatched = q(
        "SELECT count(*) FROM (SELECT p.applicant_id, count(*) AS n FROM procedures_applications p"
        " WHERE p.code = 'move_within' AND p.state = 'completed' GROUP BY p.applicant_id) a"
        " FULL JOIN (SELECT person_id, count(*) AS n FROM residents_record_versions"
        " WHERE reason = 'move_within' GROUP BY person_id) r ON r.person_id = a.applicant_id"
        " WHERE a.n IS DISTINCT FROM r.n"
    )
    if mismatched != "0":
        problems.append(f"{mismatched} resident(s) whose register changes ≠ completed moves")
    exchanged = {w["id"] for w in writes if w["what"] == "exchange"}
    sides = _by_key(
        running,
        "SELECT message_id, string_agg(side, ',' ORDER BY side) FROM mesh_access_records"
        " WHERE message_id IN ({}) GROUP BY message_id",
        exchanged,
    )
    for message_id in exchanged:
        if sides.get(message_id) != "provider,requester":
            problems.append(f"exchange {message_id}: access records {sides.get(message_id)}")
    # Events: none left, none dead, each consumer handled each of its events exactly once.
    pending = q("SELECT count(*) FROM platform_outbox_events WHERE status = 'pending'")
    dead = q("SELECT count(*) FROM platform_delivery_failures WHERE dead")
    if pending != "0" or dead != "0":
        problems.append(f"events pending {pending}, dead {dead}")
    problems += _consumer_gaps(running)
    for argv in (("audit", "verify"), ("mesh", "verify")):
        done = running.kiban(*argv, check=False)
        if done.returncode != 0:
            problems.append(f"kiban {' '.join(argv)}: {done.stdout.strip()[-300:]}")
    sizes = q(
        "SELECT pg_database_size('kiban') || ',' || (SELECT count(*) FROM residents_persons)"
    ).split(",")
    per_row = []
    for table, label in (
        ("mesh_access_records", "access records"),
        ("platform_audit_entries", "audit entries"),
        ("platform_outbox_events", "events"),
        ("procedures_applications", "applications"),
    ):
        rows, size = q(
            f"SELECT count(*) || ',' || pg_total_relation_size('{table}') FROM {table}"  # noqa: S608
        ).split(",")
        each = f", {int(size) / int(rows):,.0f} B each" if int(rows) else ""
        per_row.append(f"{int(rows):,} {label} ({int(size) / 1e6:,.1f} MB{each})")
    storage = (
        f"database {int(sizes[0]) / 1e6:,.1f} MB for {int(sizes[1]):,} residents: "
        + ", ".join(per_row)
    )
    span = (max(e["t"] for e in requests) - min(e["t"] for e in requests)) if requests else 0.0
    return Report(
        seconds=span,
        requests=len(requests),
        errors=sum(1 for e in requests if not e["ok"]),
        windows=_windows(running, requests),
        acknowledged=acknowledged,
        problems=problems,
        storage=storage,
    )


def _by_key(running: Cluster, sql: str, keys: set[str]) -> dict[str, str]:
    """``{key: value}`` from a two-column query over ``keys`` (ids the servers answered, checked
    to be ids before they go into the statement)."""
    if not keys:
        return {}
    if not all(re.fullmatch(r"[0-9A-Za-z-]{1,64}", key) for key in keys):
        raise ValueError("an acknowledged id that is not an id")
    listed = ", ".join(f"'{key}'" for key in sorted(keys))
    rows = running.postgres.scalar(sql.format(listed)).splitlines()
    return dict(row.split("|", 1) for row in rows if row)


def _consumer_gaps(running: Cluster) -> list[str]:
    """Each subscription's consumer handled every event of its topics once (the unique pair
    forbids twice; this finds none)."""
    scenario = json.loads((running.root / "scenario.json").read_text(encoding="utf-8"))
    gaps = []
    topics = [
        line.split("|") for line in running.postgres.scalar(
            "SELECT topic, count(*) FROM platform_outbox_events GROUP BY topic"
        ).splitlines() if line
    ]  # fmt: skip
    consumed = dict(
        line.split("|")
        for line in running.postgres.scalar(
            "SELECT consumer, count(*) FROM platform_consumed_events GROUP BY consumer"
        ).splitlines()
        if line
    )
    for consumer, pattern in scenario["consumers"].items():
        wanted = sum(int(n) for topic, n in topics if _matches(pattern, topic))
        if int(consumed.get(consumer, "0")) != wanted:
            gaps.append(f"consumer {consumer}: {consumed.get(consumer, 0)} handled of {wanted}")
    return gaps


def _matches(pattern: str, topic: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return pattern == topic


RESTORED_TABLES = (
    "residents_persons",
    "residents_record_versions",
    "procedures_applications",
    "mesh_access_records",
    "mesh_record_checkpoints",
    "platform_audit_entries",
    "platform_outbox_events",
    "platform_consumed_events",
)


def backup_and_restore(running: Cluster) -> list[str]:
    """``deploy/backup.sh``, then ``deploy/restore.sh`` into an empty database and a data
    directory without keys (it runs ``kiban audit verify`` and ``kiban mesh verify``); the
    copy must hold what the original holds, and without its keys it must not verify."""
    problems = []
    backup = running.root / "backup"
    env = running.env() | {"PG_BIN": str(running.postgres.bindir)}
    done = subprocess.run(
        [str(DEPLOY / "backup.sh"), str(backup)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return [f"backup.sh failed: {done.stderr.strip()[-300:]}"]
    subprocess.run(
        [*running.postgres._psql(), "-d", "postgres", "-c", "CREATE DATABASE restored"],
        check=True,
    )
    restored = env | {
        "KIBAN_DATABASE_URL": running.postgres.url.removesuffix("/kiban") + "/restored",
        "KIBAN_DATA_DIR": str(running.root / "restored"),
        "KIBAN": str(VENV_BIN / "kiban"),
    }
    done = subprocess.run(
        [str(DEPLOY / "restore.sh"), str(backup)],
        env=restored,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return [f"restore.sh failed: {(done.stdout + done.stderr).strip()[-400:]}"]
    for table in RESTORED_TABLES:
        counts = [
            running.postgres.scalar(f"SELECT count(*) FROM {table}", database=db)  # noqa: S608
            for db in ("kiban", "restored")
        ]
        if counts[0] != counts[1]:
            problems.append(f"restored {table}: {counts[1]} rows of {counts[0]}")
    # The database alone is no backup: with other keys its checkpoints do not verify.
    shutil.rmtree(running.root / "restored" / "keys")
    keyless = subprocess.run(
        [str(VENV_BIN / "kiban"), "mesh", "verify"],
        env=restored,
        capture_output=True,
        text=True,
        check=False,
    )
    if keyless.returncode == 0:
        problems.append("the restored database verified without its keys")
    return problems
