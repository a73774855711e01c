"""The mesh gateway: one hop in process, and the full path between processes over loopback,
each beside a direct call of the same provider in the same run.

Run: ``.venv/bin/python bench/bench_mesh.py [SECONDS] [HTTP_SECONDS] [THREADS]`` (defaults 5,
10, 4; ``HTTP_SECONDS`` 0 skips the HTTP part). Issue 5's figures: ``bench_mesh.py 5 60 4``.

1. **In process, on one core** (the process is pinned to one CPU): one gateway hop,
   ``mesh.exchange`` of a request the client signed (before the clock, as a client does on its
   own machine; the HTTP gateway does the same with each request it receives) — verify it,
   check the client, the service and the grant, convert the agency code, sign the forwarded
   request, run the provider (which verifies it against the mesh CA and signs its answer),
   verify the answer, write both sides' access records — on a fresh SQLite file, 1,000 people.
   Two ways: one thread, the records appended in the caller's transaction and committed with it
   (one commit a request); and ``THREADS`` threads with ``group_commit=True``, the records made
   durable (``synchronous=FULL``) by the record writer before each call returns, as the HTTP
   gateway does. Then ``mesh.call``, an in-process client's call, which signs the request as
   well. Beside them, the provider's handler called directly with the same request. Each line
   also gives requests per CPU-second of this process, since other processes share the machine.
2. **Two processes over loopback**: the kiban app under uvicorn (the gateway) and the provider
   in its own process (``provider_app``); ``THREADS`` client threads send signed requests to
   ``/r1/...``, each forwarded over HTTP to the provider, for ``HTTP_SECONDS``. Beside it, the
   same threads sending mesh-signed requests straight to the provider. Each line also gives the
   CPU time a request cost each process (client threads, gateway, provider).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = "JP/GOV/00001/pension"
CLIENT = "JP/MUN/131016/juki"
SERVICE = f"{PROVIDER}/records"
PEOPLE = 1000
OPENAPI = {"openapi": "3.1.0", "info": {"title": "年金記録", "version": "1"}, "paths": {}}


TABLE: dict[str, dict[str, Any]] = {}


def handler(request: Any) -> Any:
    """The provider: look the person up by its own code."""
    row = TABLE.get(request.agency_code)
    if row is None:
        return (404, {"error": "not found"})
    return {"code": request.agency_code, **row}


def rate(name: str, seconds: float, step: Callable[[int], None]) -> float:
    done = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        step(done)
        done += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    per_second = done / elapsed
    print(
        f"  {name:<46} {done:>8} in {elapsed:5.1f} s = {per_second:>9.0f}/s"
        f"  ({done / max(cpu, 1e-9):,.0f} per CPU-second)"
    )
    return per_second


def setup(scratch: Path) -> list[tuple[uuid.UUID, str]]:
    """Migrate a fresh database and build the little mesh; returns (person, client code)."""
    from kiban.blocks import mesh  # noqa: PLC0415 - after the settings are pointed at scratch.
    from kiban.platform import migrate  # noqa: PLC0415
    from kiban.platform.db import get_engine, transaction  # noqa: PLC0415

    migrate.upgrade(os.environ["KIBAN_DATABASE_URL"])
    people = []
    with transaction(get_engine()) as session:
        mesh.register_member(
            session, member_class="GOV", member_code="00001", name="年金", actor="b"
        )
        mesh.register_member(
            session, member_class="MUN", member_code="131016", name="千代田区", actor="b"
        )
        mesh.register_subsystem(session, "JP/GOV/00001", "pension", actor="b")
        mesh.register_subsystem(session, "JP/MUN/131016", "juki", actor="b")
        mesh.register_service(
            session,
            PROVIDER,
            "records",
            openapi=OPENAPI,
            items=["contributions", "benefit"],
            provider=handler,
            actor="b",
        )
        mesh.enable_service(session, SERVICE, actor="b")
        mesh.grant(
            session,
            client=CLIENT,
            service=SERVICE,
            task="国民年金の資格確認",
            legal_basis="番号法 別表第二",
            items=["contributions"],
            actor="b",
        )
        for n in range(PEOPLE):
            person = uuid.uuid4()
            code = mesh.agency_code(session, CLIENT, person)
            TABLE[mesh.agency_code(session, PROVIDER, person)] = {"months": n % 480}
            people.append((person, code))
    return people


def in_process(seconds: float, threads: int, people: list[tuple[uuid.UUID, str]]) -> None:
    from kiban.blocks import mesh  # noqa: PLC0415
    from kiban.platform.db import get_engine, transaction  # noqa: PLC0415

    engine = get_engine()
    cpu = _one_core()
    print(f"In process, on one core ({cpu}):")

    with transaction(engine) as session:
        certificate = next(
            s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT
        ).certificate_pem
    key = mesh.subsystem_key(CLIENT)

    def signed(n: int) -> tuple[str, bytes]:
        """A request as the client sends it: signed with its key, a new message id each."""
        return mesh.client_request(
            client=CLIENT,
            certificate_pem=certificate,
            key=key,
            service=SERVICE,
            path="records",
            agency_code=people[n % len(people)][1],
        )

    # The client signs on its own machine: its requests are signed before the clock starts, a
    # set for each of the two runs, one for every request a run could make (4,000/s).
    per_run = int(seconds * 4000)
    signed_requests = [[signed(n) for n in range(per_run)] for _ in range(2)]

    def checked(response: Any) -> None:
        if not response.ok:
            raise SystemExit(f"gateway refused: {response.error} {response.body}")

    def hop(n: int, *, group_commit: bool) -> None:
        if n >= per_run:
            raise SystemExit("the gateway outran the requests signed for the run")
        token, body = signed_requests[1 if group_commit else 0][n]
        with transaction(engine) as session:
            checked(
                mesh.exchange(
                    session,
                    token=token,
                    body=body,
                    service=SERVICE,
                    client_header=CLIENT,
                    group_commit=group_commit,
                )
            )

    def call(n: int) -> None:
        with transaction(engine) as session:
            checked(
                mesh.call(
                    session,
                    client=CLIENT,
                    service=SERVICE,
                    path="records",
                    agency_code=people[n % len(people)][1],
                )
            )

    def direct(n: int) -> None:
        request = mesh.ProviderRequest(
            service=SERVICE,
            client=CLIENT,
            method="POST",
            path="records",
            message_id=str(n),
            user_id=None,
            agency_code=next(iter(TABLE)),
            items=["contributions"],
            body=None,
        )
        handler(request)

    # A gateway that has run a while knows every person's codes: one pass before the clock.
    for n in range(len(people)):
        call(n)
    single = rate(
        "gateway hop, 1 thread, records in its transaction",
        seconds,
        lambda n: hop(n, group_commit=False),
    )
    grouped = rate_threads(
        f"gateway hop, {threads} threads, group commit",
        seconds,
        threads,
        lambda n: hop(n, group_commit=True),
    )
    called = rate("mesh.call: the client signs in process too", seconds, call)
    direct_rate = rate("direct call of the provider function", seconds, direct)
    print(
        f"  ratio direct/gateway: {direct_rate / single:,.0f}x (1 thread),"
        f" {direct_rate / grouped:,.0f}x ({threads} threads), {direct_rate / called:,.0f}x"
        " (mesh.call)"
    )
    os.sched_setaffinity(0, _all_cores)


_all_cores: set[int] = set()


def _one_core() -> str:
    """Pin this process to one CPU, so that "one core" is literal (the HTTP part undoes it)."""
    _all_cores.update(os.sched_getaffinity(0))
    core = min(_all_cores)
    os.sched_setaffinity(0, {core})
    return f"CPU {core} of {len(_all_cores)}"


def rate_threads(name: str, seconds: float, threads: int, step: Callable[[int], None]) -> float:
    """Like :func:`rate` with ``threads`` threads sharing the steps (and the process's one core);
    CPU time is printed beside wall time, since other processes share the machine."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(index: int) -> None:
        n = index
        while time.perf_counter() < stop:
            step(n)
            counts[index] += 1
            n += threads

    cpu_started = time.process_time()
    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    done = sum(counts)
    per_second = done / elapsed
    print(
        f"  {name:<46} {done:>8} in {elapsed:5.1f} s = {per_second:>9.0f}/s"
        f"  ({done / max(cpu, 1e-9):,.0f} per CPU-second)"
    )
    return per_second


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("a server process did not start") from None
            time.sleep(0.1)


def provider_main(port: int) -> None:
    """The provider process: the pension table keyed by the provider's codes, served by
    ``provider_app``."""
    import uvicorn  # noqa: PLC0415

    from kiban.blocks import mesh  # noqa: PLC0415
    from kiban.platform.db import get_engine, transaction  # noqa: PLC0415

    with transaction(get_engine()) as session:
        cert = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
        from sqlalchemy import select  # noqa: PLC0415

        from kiban.blocks.mesh.models import MeshAgencyCode  # noqa: PLC0415

        for (code,) in session.execute(
            select(MeshAgencyCode.code).where(MeshAgencyCode.member == "JP/GOV/00001")
        ):
            TABLE[code] = {"months": 12}
    app = mesh.provider_app(
        {SERVICE: handler, f"{PROVIDER}/remote": handler},
        key=mesh.subsystem_key(PROVIDER),
        certificate_pem=cert.certificate_pem,
        ca_pem=mesh.ca_pem(),
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def over_http(  # noqa: PLR0915 - one linear script: set up, serve, measure, tear down.
    seconds: float, threads: int, people: list[tuple[uuid.UUID, str]]
) -> None:
    import httpx  # noqa: PLC0415

    from kiban.blocks import mesh  # noqa: PLC0415
    from kiban.platform.db import get_engine, transaction  # noqa: PLC0415

    provider_port, gateway_port = _free_port(), _free_port()
    provider_url = f"http://127.0.0.1:{provider_port}"
    with transaction(get_engine()) as session:
        mesh.disable_service(session, SERVICE, actor="b")
        mesh.register_service(
            session,
            PROVIDER,
            "remote",
            openapi=OPENAPI,
            items=["contributions"],
            provider=provider_url,
            actor="b",
        )
        mesh.enable_service(session, f"{PROVIDER}/remote", actor="b")
        mesh.grant(
            session,
            client=CLIENT,
            service=f"{PROVIDER}/remote",
            task="国民年金の資格確認",
            legal_basis="番号法 別表第二",
            items=["contributions"],
            actor="b",
        )
        client_cert = next(
            s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT
        ).certificate_pem
        provider_codes = {
            code: mesh.agency_code(session, PROVIDER, person) for person, code in people
        }
    env = dict(os.environ)
    provider = subprocess.Popen(
        [sys.executable, __file__, "--provider", str(provider_port)], env=env
    )
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "kiban.web:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(gateway_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    try:
        _wait(provider_port, provider)
        _wait(gateway_port, gateway)
        key = mesh.subsystem_key(CLIENT)
        print(f"Two processes over loopback ({threads} client threads, {seconds:.0f} s each):")

        def run(name: str, send: Callable[[httpx.Client, int], int]) -> float:
            counts = [0] * threads
            errors = [0] * threads
            stop = time.perf_counter() + seconds
            cpu_before = {p.pid: _cpu_seconds(p.pid) for p in (gateway, provider)}
            own_before = time.process_time()

            def worker(index: int) -> None:
                with httpx.Client(timeout=30) as client:
                    n = index
                    while time.perf_counter() < stop:
                        status = send(client, n)
                        if 200 <= status < 300:
                            counts[index] += 1
                        else:
                            errors[index] += 1
                        n += threads

            started = time.perf_counter()
            workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - started
            per_second = sum(counts) / elapsed
            done = max(sum(counts) + sum(errors), 1)
            cpu = {
                "client": time.process_time() - own_before,
                "gateway": _cpu_seconds(gateway.pid) - cpu_before[gateway.pid],
                "provider": _cpu_seconds(provider.pid) - cpu_before[provider.pid],
            }
            print(
                f"  {name:<46} {sum(counts):>8} in {elapsed:5.1f} s = {per_second:>9.0f}/s"
                f"  errors {sum(errors)}"
            )
            print(
                "    CPU ms a request: "
                + ", ".join(f"{k} {v * 1000 / done:.2f}" for k, v in cpu.items())
            )
            return per_second

        def via_gateway(client: httpx.Client, n: int) -> int:
            _, code = people[n % len(people)]
            token, body = mesh.client_request(
                client=CLIENT,
                certificate_pem=client_cert,
                key=key,
                service=f"{PROVIDER}/remote",
                path="records",
                agency_code=code,
            )
            reply = client.post(
                f"http://127.0.0.1:{gateway_port}/r1/{PROVIDER}/remote/records",
                content=body,
                headers={"X-Road-Client": CLIENT, "X-Road-Signature": token},
            )
            return reply.status_code

        def straight(client: httpx.Client, n: int) -> int:
            _, code = people[n % len(people)]
            token, body = mesh.client_request(
                client=CLIENT,
                certificate_pem=client_cert,
                key=key,
                service=SERVICE,
                path="records",
                agency_code=provider_codes[code],
            )
            reply = client.post(
                f"{provider_url}/records",
                content=body,
                headers={"X-Road-Client": CLIENT, "X-Road-Signature": token},
            )
            return reply.status_code

        gateway_rate = run("client -> gateway -> provider (HTTP)", via_gateway)
        direct_rate = run("client -> provider directly (HTTP)", straight)
        print(f"  ratio direct/gateway: {direct_rate / max(gateway_rate, 1e-9):.1f}x")
    finally:
        for process in (gateway, provider):
            process.terminate()
            process.wait(timeout=20)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--provider":
        provider_main(int(sys.argv[2]))
        return
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    http_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    scratch = Path(tempfile.mkdtemp(prefix="kiban-bench-mesh-"))
    os.environ["KIBAN_DATA_DIR"] = str(scratch)
    os.environ["KIBAN_DATABASE_URL"] = f"sqlite:///{scratch / 'kiban.db'}"
    os.environ.setdefault("KIBAN_SECRET_KEY", "bench-secret-key-0123456789abcdef")
    people = setup(scratch)
    in_process(seconds, threads, people)
    if http_seconds > 0:
        over_http(http_seconds, threads, people)


if __name__ == "__main__":
    main()
