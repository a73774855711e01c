"""``kiban card-reader`` from the resident's terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from kiban.cardreader.store import CardStore
from kiban.cli import app
from tests.cardreader.conftest import AUTH_PIN, CARD_NUMBER, Pki
from tests.live import free_port

runner = CliRunner()


def test_list_unlock_and_change_pin(store: CardStore, card: str, pki: Pki) -> None:
    cards = str(store.directory)
    listed = runner.invoke(app, ["card-reader", "list", "--cards", cards, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {
            "card_number": CARD_NUMBER,
            "holder_name": "山田 太郎",
            "auth_tries_left": 3,
            "auth_locked": False,
            "signing_tries_left": 5,
            "signing_locked": False,
        }
    ]
    table = runner.invoke(app, ["card-reader", "list", "--cards", cards])
    assert CARD_NUMBER in table.stdout

    bad = runner.invoke(
        app,
        [
            "card-reader",
            "change-pin",
            card,
            "--cards",
            cards,
            "--old-pin",
            "0000",
            "--new-pin",
            "5678",
        ],
    )
    assert bad.exit_code == 1
    assert "2 more wrong tries" in bad.output
    changed = runner.invoke(
        app,
        [
            "card-reader",
            "change-pin",
            card,
            "--cards",
            cards,
            "--old-pin",
            AUTH_PIN,
            "--new-pin",
            "5678",
        ],
    )
    assert changed.exit_code == 0, changed.output
    assert store.sign(card, "auth", "5678", b"x")

    refused = runner.invoke(
        app,
        ["card-reader", "unlock", card, "--cards", cards, "--token", pki.signing.unlock_token()],
    )
    assert refused.exit_code == 1
    assert "token" in refused.output
    unlocked = runner.invoke(
        app, ["card-reader", "unlock", card, "--cards", cards, "--token", pki.auth.unlock_token()]
    )
    assert unlocked.exit_code == 0, unlocked.output


def test_serve_refuses_a_bad_server(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["card-reader", "serve", "--cards", str(tmp_path), "--server", "ftp://x"]
    )
    assert result.exit_code == 1
    assert "server" in result.output


def test_serve_answers_on_loopback(store: CardStore, card: str, tmp_path: Path) -> None:
    port = free_port()
    kiban = Path(sys.executable).parent / "kiban"
    log = tmp_path / "reader.log"
    command = [
        str(kiban),
        "card-reader",
        "serve",
        "--port",
        str(port),
        "--cards",
        str(store.directory),
        "--server",
        "http://127.0.0.1:8000",
    ]
    with (
        log.open("wb") as output,
        subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ}
        ) as process,
    ):
        try:
            health = None
            for _ in range(400):  # Wait until the server is up (not a timing assertion).
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
                    break
                except httpx.TransportError:
                    if process.poll() is not None:
                        break
                    time.sleep(0.05)
            assert health is not None, log.read_text()
            assert health.json() == {"status": "ok", "cards": 1, "server": "http://127.0.0.1:8000"}
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert f"card reader on http://127.0.0.1:{port}/" in log.read_text()
