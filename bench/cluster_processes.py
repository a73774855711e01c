"""The processes of a kiban cluster of its own: PostgreSQL, NATS JetStream ×3, kiban (ADR 0035).

Used by ``bench/cluster.py``; nothing here knows the scenario or the checks.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiban.platform.nats_relay import run_sync

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEPLOY = ROOT / "deploy"
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
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                mode,
                "-w",
                "stop",
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def scalar(self, sql: str, database: str = "kiban") -> str:
        done = subprocess.run(
            [*self._psql(), "-d", database, "-At", "-c", sql],
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
        with (self.directory / "server.log").open("ab") as log:
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
            run_sync(probe())
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
        with (self.root / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(VENV_BIN / "kiban"), *argv],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
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

    def stop_kiban(self) -> None:
        """Stop serve, relay and work (as before a restore); PostgreSQL and NATS stay up."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

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
