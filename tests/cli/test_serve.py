"""``kiban serve --workers N``: several worker processes answer on one port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

pytestmark = pytest.mark.slow


def _workers(pid: int) -> set[int]:
    """The worker processes uvicorn spawned under ``pid`` (not multiprocessing's helpers)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and "spawn_main" in _cmdline(int(entry.name)):
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
def test_serve_runs_the_workers_it_is_asked_for(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KIBAN_DATA_DIR": str(tmp_path),
        "KIBAN_DATABASE_URL": "",
        "KIBAN_BASE_URL": f"http://127.0.0.1:{port}",
    }
    kiban = [sys.executable, "-m", "kiban"]
    subprocess.run([*kiban, "migrate"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*kiban, "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if answer.status_code == 200 and len(_workers(server.pid)) == 2:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "kiban serve exited"
            assert time.monotonic() < deadline, "kiban serve --workers 2 did not come up"
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text()
    except OSError:
        return ""
