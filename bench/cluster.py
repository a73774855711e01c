"""A kiban cluster of its own, under load, with faults (issue 20; docs/adr/0035).

What it starts, all on loopback ports in one temporary directory:

- a PostgreSQL cluster (``initdb``/``pg_ctl`` from the installed server binaries — never the
  machine's shared server);
- NATS as a three-node JetStream cluster (the Debian ``nats-server``), the stream kept ×3;
- two ``kiban serve`` processes sharing one data directory (keys) and one database;
- ``kiban events relay`` and ``kiban events work``.

It seeds a small country (:func:`prepare`, in a child process), runs the locust scenario in
``bench/locustfile.py`` against both servers, and during the run kills one serve process with
SIGKILL, kills and restarts one NATS node, and crashes and restarts PostgreSQL. Afterwards it
drains the outbox and checks that every acknowledged write is there exactly once, that each
consumer handled each event once, and that ``kiban audit verify`` and ``kiban mesh verify``
pass; it reports requests/s, the errors in each fault's window and the recovery time.

Long form: ``.venv/bin/python bench/cluster.py --duration 180 --users 24``.
The bounded form is ``tests/test_cluster_faults.py`` (marked slow).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
CHIYODA = "131016"
STREAM = "KIBANCLUSTER"


# --- what this machine has ----------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The directory of the PostgreSQL server binaries (initdb, pg_ctl, postgres)."""
    candidates = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("initdb")
    if found:
        candidates.insert(0, Path(found).resolve().parent)
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def missing() -> list[str]:
    """Why a cluster cannot start here (empty when it can)."""
    reasons = []
    if postgres_bin() is None:
        reasons.append(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
            "/usr/lib/postgresql/*/bin"
        )
    if shutil.which("nats-server") is None:
        reasons.append("nats-server not found (Debian package nats-server)")
    if not (VENV_BIN / "locust").exists():
        reasons.append("locust not installed (pip install -e '.[bench]')")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        reasons.append("running as root without runuser to start PostgreSQL as another user")
    return reasons


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports nobody listens on right now."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            probes.append(probe)
        return [int(p.getsockname()[1]) for p in probes]
    finally:
        for probe in probes:
            probe.close()


def _wait_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


# --- PostgreSQL ---------------------------------------------------------------------------


@dataclass
class Postgres:
    """A PostgreSQL cluster in ``directory`` on ``port``, owned by this harness."""

    directory: Path
    port: int
    bindir: Path

    def _as_owner(self, *argv: str) -> list[str]:
        # initdb and postgres refuse to run as root: CI runs as root, so they run as the
        # Debian package's ``postgres`` user there.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kiban"

    def init(self) -> None:
        self.directory.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.directory.chmod(0o700)
        subprocess.run(
            self._as_owner(
                str(self.bindir / "initdb"),
                "-D",
                str(self.directory / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        subprocess.run(
            [*self._psql(), "-d", "postgres", "-c", "CREATE DATABASE kiban"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _psql(self) -> list[str]:
        psql = self.bindir / "psql"
        return [str(psql if psql.exists() else "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        subprocess.run(
            self._as_owner(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-l",
                str(self.directory / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            self._as_owner(
                str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "-w",
                "stop",
            ),  # fmt: skip
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def scalar(self, sql: str) -> str:
        done = subprocess.run(
            [*self._psql(), "-d", "kiban", "-At", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()


# --- NATS ---------------------------------------------------------------------------------


@dataclass
class NatsNode:
    name: str
    port: int
    cluster_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(
            ["nats-server", "-c", str(self.directory / "server.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def nats_cluster(directory: Path) -> list[NatsNode]:
    """Three JetStream nodes routed to each other on loopback ports (not started)."""
    ports = free_ports(6)
    nodes = [
        NatsNode(f"n{i + 1}", ports[i], ports[3 + i], directory / f"n{i + 1}") for i in range(3)
    ]
    for node in nodes:
        node.directory.mkdir(parents=True)
        routes = ", ".join(
            f"nats-route://127.0.0.1:{other.cluster_port}" for other in nodes if other is not node
        )
        (node.directory / "server.conf").write_text(
            f"server_name: {node.name}\n"
            f"listen: 127.0.0.1:{node.port}\n"
            f'jetstream {{ store_dir: "{node.directory / "js"}", max_mem: 64MB, max_file: 1GB }}\n'
            f"cluster {{ name: kiban, listen: 127.0.0.1:{node.cluster_port}, "
            f"routes: [{routes}] }}\n",
            encoding="utf-8",
        )
    return nodes


def wait_for_jetstream(urls: list[str], seconds: float = 60.0) -> None:
    """Until the cluster has a JetStream meta leader (the stream can be created)."""
    import nats  # noqa: PLC0415 - only the harness needs the client here.

    async def probe() -> None:
        nc = await nats.connect(urls, connect_timeout=2, max_reconnect_attempts=1)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    deadline = time.monotonic() + seconds
    while True:
        try:
            asyncio.run(probe())
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# --- the cluster --------------------------------------------------------------------------


@dataclass
class Cluster:
    """Everything started for one run; :meth:`close` stops all of it."""

    root: Path
    postgres: Postgres
    nats: list[NatsNode]
    serve_ports: list[int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{n.port}" for n in self.nats)

    @property
    def hosts(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.serve_ports]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIBAN_")}
        env.update(
            KIBAN_ENVIRONMENT="test",
            KIBAN_DATA_DIR=str(self.root / "data"),
            KIBAN_DATABASE_URL=self.postgres.url,
            KIBAN_EVENTS_URL=self.events_url,
            KIBAN_EVENTS_STREAM=STREAM,
            KIBAN_EVENTS_REPLICAS="3",
            KIBAN_BASE_URL=self.hosts[0],
            PYTHONPATH=str(ROOT),
        )
        return env

    def kiban(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "kiban"), *argv],
            env=self.env(),
            check=check,
            capture_output=True,
            text=True,
        )

    def spawn(self, name: str, *argv: str) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [str(VENV_BIN / "kiban"), *argv], env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )

    def start_serve(self, index: int) -> None:
        port = self.serve_ports[index]
        self.spawn(f"serve{index}", "serve", "--host", "127.0.0.1", "--port", str(port))
        _wait_port(port, 60)

    def mark(self, what: str) -> None:
        self.events.append((time.time(), what))
        print(f"  {time.strftime('%H:%M:%S')} {what}", flush=True)

    # Faults ----------------------------------------------------------------------------

    def kill_serve(self, index: int = 0) -> None:
        self.mark(f"fault: kill -9 serve{index}")
        self.processes[f"serve{index}"].send_signal(signal.SIGKILL)
        self.processes[f"serve{index}"].wait()
        # A supervisor (systemd Restart=always, compose restart: always) starts it again.
        time.sleep(1.0)
        self.start_serve(index)
        self.mark(f"serve{index} back")

    def restart_nats_node(self, index: int = 0) -> None:
        self.mark(f"fault: kill -9 NATS node {self.nats[index].name}")
        self.nats[index].kill()
        time.sleep(2.0)
        self.nats[index].start()
        self.mark(f"NATS node {self.nats[index].name} back")

    def restart_postgres(self) -> None:
        self.mark("fault: PostgreSQL crash (pg_ctl stop -m immediate)")
        self.postgres.stop("immediate")
        time.sleep(1.0)
        self.postgres.start()
        self.mark("PostgreSQL back")

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for node in self.nats:
            node.kill()
        self.postgres.stop("fast")


@contextlib.contextmanager
def cluster(root: Path, *, residents: int) -> Iterator[Cluster]:
    """Start the whole cluster under ``root``, seeded with ``residents`` card holders."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("; ".join(missing()))
    pg_port, serve_a, serve_b = free_ports(3)
    postgres = Postgres(root / "pg", pg_port, bindir)
    nodes = nats_cluster(root / "nats")
    running = Cluster(root, postgres, nodes, [serve_a, serve_b])
    try:
        postgres.init()
        for node in nodes:
            node.start()
        wait_for_jetstream([f"nats://127.0.0.1:{n.port}" for n in nodes])
        running.kiban("migrate")
        subprocess.run(
            [sys.executable, __file__, "prepare", "--residents", str(residents),
             "--out", str(root / "scenario.json")],
            env=running.env(),
            check=True,
        )  # fmt: skip
        for index in range(len(running.serve_ports)):
            running.start_serve(index)
        running.spawn("relay", "events", "relay")
        running.spawn("work", "events", "work", "--ack-wait", "10")
        yield running
    finally:
        running.close()


# --- the country the scenario plays in ----------------------------------------------------


def prepare(residents_wanted: int, out: Path) -> None:
    """Seed the cluster's database (run in a child with the cluster's environment): Chiyoda's
    residents, cards for ``residents_wanted`` adults in the data directory's card store, the
    reference agencies enrolled through the mesh, and an API key of Chiyoda's office."""
    from kiban.agencies import AGENCIES, wiring  # noqa: PLC0415
    from kiban.blocks import mesh, residents, staff  # noqa: PLC0415
    from kiban.cardreader.store import CardStore  # noqa: PLC0415
    from kiban.cli.card import issue_into  # noqa: PLC0415
    from kiban.platform.db import transaction  # noqa: PLC0415
    from kiban.platform.settings import get_settings  # noqa: PLC0415

    store_dir = get_settings().data_dir / "cards"
    store = CardStore(store_dir)
    with transaction() as session:
        residents.seed_population(session, size="tiny", seed=2026)
        people = residents.list_people(session, limit=1000)
        adults = [p for p in people if p.birth_date.year <= 2000][:residents_wanted]
        cards = [
            issue_into(session, store, p.id, auth_pin="1234", signing_pin="KIBAN2026")
            for p in adults
        ]
        wiring.register_reference_agencies(session)
        wiring.enrol_through_mesh(session, [p.id for p in people], seed=2026)
        government = [a for a in AGENCIES.values() if a.member_class == "GOV"]
        subsystems = {s.xroad_id: s.certificate_pem for s in mesh.list_subsystems(session)}
        agencies = [
            {
                "subsystem": agency.subsystem,
                "certificate_pem": subsystems[agency.subsystem],
                "codes": [mesh.agency_code(session, agency.subsystem, p.id) for p in people],
            }
            for agency in government
        ]
        try:
            staff.get_organisation(session, CHIYODA)
        except Exception:
            staff.do_add_organisation(
                session, CHIYODA, staff.OrganisationKind.MUNICIPALITY, "千代田区", "Chiyoda",
                actor="system:bench",
            )  # fmt: skip
        account = staff.do_create_service_account(session, name="負荷試験", actor="system:bench")
        staff.do_grant(
            session, account.id, organisation=CHIYODA, role="approval", actor="system:bench"
        )
        held = next(
            p
            for code, _, _, p in staff.list_roles(session, staff.OrganisationKind.MUNICIPALITY)
            if code == "approval"
        )
        key = staff.do_create_key(
            session,
            account.id,
            organisation=CHIYODA,
            permissions=list(held),
            actor="system:bench",
        )
    out.write_text(
        json.dumps(
            {
                "cards": [c.card_number for c in cards],
                "card_store": str(store_dir),
                "office": CHIYODA,
                "office_key": key.secret,
                "basic_four_service": mesh.BASIC_FOUR_SERVICE,
                "items": list(wiring.ENROL_ITEMS),
                "agencies": agencies,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


# --- the run and its checks ---------------------------------------------------------------


@dataclass
class Window:
    """Requests around one fault: from the fault to 10 s after its component was back."""

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
        out.append(
            "lost or duplicated: 0"
            if not self.problems
            else f"PROBLEMS ({len(self.problems)}): " + "; ".join(self.problems[:10])
        )
        return out


def run_load(running: Cluster, *, users: int, seconds: float, faults: bool) -> Path:
    """Run locust headless against both servers; inject the faults a third of the way in."""
    log = running.root / "load.jsonl"
    env = running.env() | {
        "KIBAN_LOAD_SCENARIO": str(running.root / "scenario.json"),
        "KIBAN_LOAD_HOSTS": ",".join(running.hosts),
        "KIBAN_LOAD_LOG": str(log),
    }
    locust = subprocess.Popen(
        [str(VENV_BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
         "--spawn-rate", str(users), "--run-time", f"{int(seconds)}s", "--host",
         running.hosts[0], "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0",
         "--loglevel", "WARNING"],
        env=env,
        stdout=(running.root / "locust.log").open("ab"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    running.mark(f"load: {users} users for {seconds:g} s")
    if faults:
        gap = seconds / 5
        time.sleep(gap)
        running.kill_serve(0)
        time.sleep(gap)
        running.restart_nats_node(0)
        time.sleep(gap)
        running.restart_postgres()
    locust.wait()
    running.mark("load finished")
    return log


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

    return asyncio.run(count())


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
    raise RuntimeError(f"events did not drain in {seconds:g} s (outbox pending, stream backlog = {state})")


def _windows(running: Cluster, entries: list[dict[str, Any]]) -> list[Window]:
    out = []
    marks = running.events
    for i, (at, what) in enumerate(marks):
        if not what.startswith("fault: "):
            continue
        back = next((t for t, w in marks[i + 1 :] if not w.startswith("fault")), at)
        end = back + 10.0
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
    for app_id in submitted | completed:
        state = q(f"SELECT state FROM procedures_applications WHERE id = '{app_id}'")  # noqa: S608
        if not state:
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
    for write in (w for w in writes if w["what"] == "exchange"):
        sides = q(
            "SELECT string_agg(side, ',' ORDER BY side) FROM mesh_access_records"  # noqa: S608
            f" WHERE message_id = '{write['id']}'"
        )
        if sides != "provider,requester":
            problems.append(f"exchange {write['id']}: access records {sides or 'none'}")
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
    span = (max(e["t"] for e in requests) - min(e["t"] for e in requests)) if requests else 0.0
    return Report(
        seconds=span,
        requests=len(requests),
        errors=sum(1 for e in requests if not e["ok"]),
        windows=_windows(running, requests),
        acknowledged=acknowledged,
        problems=problems,
    )


def _consumer_gaps(running: Cluster) -> list[str]:
    """Each subscription's consumer handled every event of its topics once (the unique pair
    forbids twice; this finds none)."""
    done = subprocess.run(
        [sys.executable, __file__, "consumers"],
        env=running.env(),
        check=True,
        capture_output=True,
        text=True,
    )
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
    for line in done.stdout.splitlines():
        consumer, pattern = line.split("\t")
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


def _print_consumers() -> None:
    from kiban.platform import events  # noqa: PLC0415

    events.load_subscribers()
    for subscription in events.subscriptions():
        print(f"{subscription.consumer}\t{subscription.pattern}")


def run(*, users: int, seconds: float, residents: int, faults: bool = True) -> Report:
    """The whole exercise in a temporary directory; returns its report."""
    with tempfile.TemporaryDirectory(prefix="kiban-cluster-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        with cluster(root, residents=residents) as running:
            log = run_load(running, users=users, seconds=seconds, faults=faults)
            drain(running)
            report = check(running, log)
        if report.problems or os.environ.get("KIBAN_CLUSTER_KEEP"):
            kept = Path(tempfile.mkdtemp(prefix="kiban-cluster-logs-"))
            for name in root.glob("*.log"):
                shutil.copy(name, kept)
            shutil.copy(root / "load.jsonl", kept)
            print(f"logs kept in {kept}", flush=True)
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    prep = sub.add_parser("prepare")
    prep.add_argument("--residents", type=int, default=20)
    prep.add_argument("--out", type=Path, required=True)
    sub.add_parser("consumers")
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.residents, args.out)
        return
    if args.command == "consumers":
        _print_consumers()
        return
    reasons = missing()
    if reasons:
        sys.exit("cannot start a cluster here: " + "; ".join(reasons))
    report = run(
        users=args.users, seconds=args.duration, residents=args.residents, faults=not args.no_faults
    )
    for line in report.lines():
        print(line)
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
