"""The issue's done-when, with tools kiban did not write: ``openssl verify`` accepts an exported
card's certificates, and ``openssl ocsp`` against the running server reports the signing
certificate ``good`` before and ``revoked`` after the resident's address changes, while the
authentication certificate stays ``good``.

The card is issued and exported with the real ``kiban card`` commands; the server is the real
application under uvicorn on a loopback port.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import address, residents
from kiban.cli import app
from kiban.web import create_app
from tests.blocks.identity.conftest import move_to, settle
from tests.live import serving

# Not skipped when missing: this test is the acceptance check (apt-get install openssl).
OPENSSL = shutil.which("openssl")


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, on the test database."""
    with serving(create_app(), "kiban-pki-server") as url:
        yield url


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None, "openssl is not installed"
    return subprocess.run(
        [OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _ocsp(server: str, kind: str, directory: Path) -> str:
    """What ``openssl ocsp`` says about the card's ``kind`` certificate (good/revoked/...)."""
    result = _openssl(
        "ocsp",
        "-issuer",
        f"ca-{kind}.pem",
        "-cert",
        f"{kind}.pem",
        "-url",
        f"{server}/pki/ocsp/{kind}",
        "-CAfile",
        "root.pem",
        cwd=directory,
    )
    assert result.returncode == 0, result.stderr
    # openssl checks the response's signature against root.pem and the nonce it sent.
    assert "Response verify OK" in result.stderr, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{kind}.pem: "), result.stdout
    return first.removeprefix(f"{kind}.pem: ").strip()


def test_openssl_verifies_the_export_and_sees_the_revocation(
    session: Session,
    engine: Engine,
    server: str,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    cards, exported = tmp_path / "cards", tmp_path / "export"
    issued = runner.invoke(
        app,
        [
            "card",
            "issue",
            "--person-id",
            str(resident.id),
            "--auth-pin",
            "1234",
            "--signing-pin",
            "ABC123",
            "--cards",
            str(cards),
        ],
    )
    assert issued.exit_code == 0, issued.output
    card_number = issued.stdout.strip()
    assert (cards / f"{card_number}.card").exists()
    exported_run = runner.invoke(
        app, ["card", "export", "--person-id", str(resident.id), "--dir", str(exported)]
    )
    assert exported_run.exit_code == 0, exported_run.output

    for kind in ("auth", "signing"):
        result = _openssl(
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            f"chain-{kind}.pem",
            f"{kind}.pem",
            cwd=exported,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{kind}.pem: OK"
    # The signing chain does not vouch for the authentication certificate.
    crossed = _openssl(
        "verify", "-CAfile", "root.pem", "-untrusted", "chain-signing.pem", "auth.pem",
        cwd=exported,
    )  # fmt: skip
    assert crossed.returncode != 0

    assert _ocsp(server, "signing", exported) == "good"
    assert _ocsp(server, "auth", exported) == "good"

    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)

    assert _ocsp(server, "signing", exported) == "revoked"
    assert _ocsp(server, "auth", exported) == "good"
