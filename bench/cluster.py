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
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``bench`` importable as the tests import it.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster_checks import Report, backup_and_restore, check, drain
from bench.cluster_processes import (
    ROOT,
    VENV_BIN,
    Cluster,
    Postgres,
    free_ports,
    missing,
    nats_cluster,
    postgres_bin,
    wait_for_jetstream,
)

__all__ = ["ROOT", "Cluster", "Postgres", "Report", "missing", "run"]

LOCUSTFILE = ROOT / "bench" / "locustfile.py"
CHIYODA = "131016"


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
    from kiban.platform import events  # noqa: PLC0415
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
    # The event handlers every worker runs, for the exactly-once check afterwards.
    events.load_subscribers()
    subscriptions = {sub.consumer: sub.pattern for sub in events.subscriptions()}
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
                "consumers": subscriptions,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


def run_load(running: Cluster, *, users: int, seconds: float, faults: bool) -> Path:
    """Run locust headless against both servers. With ``faults``: ``seconds / 5`` of load, then
    each fault in turn, each followed by as long again once its component is back, so that no
    fault's window overlaps the next one's however long a restart takes."""
    log = running.root / "load.jsonl"
    env = running.env() | {
        "KIBAN_LOAD_SCENARIO": str(running.root / "scenario.json"),
        "KIBAN_LOAD_HOSTS": ",".join(running.hosts),
        "KIBAN_LOAD_LOG": str(log),
    }
    with (running.root / "locust.log").open("ab") as output:
        locust = subprocess.Popen(
            [str(VENV_BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
             "--spawn-rate", str(users), "--host", running.hosts[0], "--only-summary",
             "--stop-timeout", "10", "--exit-code-on-error", "0", "--loglevel", "WARNING"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    running.mark(f"load: {users} users")
    if faults:
        settle = seconds / 5
        for fault in (
            lambda: running.kill_serve(0),
            lambda: running.restart_nats_node(0),
            running.restart_postgres,
        ):
            time.sleep(settle)
            fault()
        time.sleep(settle)
    else:
        time.sleep(seconds)
    locust.send_signal(signal.SIGTERM)  # Locust stops its users and prints its summary.
    locust.wait(timeout=60)
    running.mark("load finished")
    return log


def run(*, users: int, seconds: float, residents: int, faults: bool = True) -> Report:
    """The whole exercise in a temporary directory; returns its report."""
    with tempfile.TemporaryDirectory(prefix="kiban-cluster-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        with cluster(root, residents=residents) as running:
            log = run_load(running, users=users, seconds=seconds, faults=faults)
            drain(running)
            running.mark("events drained")
            report = check(running, log)
            running.mark("checked")
            running.stop_kiban()
            report.problems += backup_and_restore(running)
            running.mark("backed up, restored into an empty database, verified")
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
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.residents, args.out)
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
