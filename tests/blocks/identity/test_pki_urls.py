"""Issue 15 item 2: a card's certificates point at the server that issued them, not at port
8000. kiban is served with the real ``kiban serve`` command on a free port named only by
``KIBAN_BASE_URL``; a card is issued with ``kiban card issue``; OpenSSL then follows the URLs
written in the certificate itself — the OCSP responder of the AIA, the CRL of the distribution
point (signature checked by ``openssl crl``) and the CA issuer's certificate — before and after
the signing certificate is revoked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import address, residents
from kiban.cli import app
from kiban.platform.settings import get_settings
from tests.blocks.identity.conftest import move_to, settle
from tests.live import free_port

OPENSSL = shutil.which("openssl")
KIBAN = Path(sys.executable).with_name("kiban")


@contextmanager
def kiban_serve(args: list[str], base: str, log_path: Path) -> Iterator[None]:
    """The real ``kiban serve`` in its own process, until it answers at ``base``."""
    log = log_path.open("w+")
    server = subprocess.Popen(
        [str(KIBAN), "serve", *args], env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"kiban serve did not answer at {base}:\n{log.read()}")
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture
def served(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """``kiban serve`` with no ``--port``: the base URL alone says where it listens."""
    base = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("KIBAN_BASE_URL", base)
    get_settings.cache_clear()
    with kiban_serve([], base, tmp_path / "serve.log"):
        yield base


def test_a_port_without_a_configured_base_url_becomes_the_base_url(
    database_url: str, tmp_path: Path
) -> None:
    """``kiban serve --port P`` alone: the issuer (and every URL built from the base URL) is
    on port P, not 8000."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with kiban_serve(["--port", str(port)], base, tmp_path / "serve.log"):
        metadata = httpx.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == base
    assert metadata["jwks_uri"] == f"{base}/oidc/jwks"


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None, "openssl is not installed"
    result = subprocess.run(
        [OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def _urls(directory: Path, certificate: str) -> dict[str, str]:
    """The OCSP, CRL and CA-issuer URLs of a certificate, as OpenSSL reads them."""
    ocsp = _openssl("x509", "-in", certificate, "-noout", "-ocsp_uri", cwd=directory)
    extensions = _openssl(
        "x509",
        "-in",
        certificate,
        "-noout",
        "-ext",
        "crlDistributionPoints,authorityInfoAccess",
        cwd=directory,
    ).stdout
    crl = re.search(r"Full Name:\s*URI:(\S+)", extensions)
    issuer = re.search(r"CA Issuers - URI:(\S+)", extensions)
    assert crl is not None, extensions
    assert issuer is not None, extensions
    return {"ocsp": ocsp.stdout.strip(), "crl": crl.group(1), "ca_issuers": issuer.group(1)}


def _ocsp_status(directory: Path, url: str) -> str:
    result = _openssl(
        "ocsp",
        "-issuer",
        "ca-signing.pem",
        "-cert",
        "signing.pem",
        "-url",
        url,
        "-CAfile",
        "root.pem",
        cwd=directory,
    )
    assert "Response verify OK" in result.stderr, result.stderr
    return result.stdout.splitlines()[0].removeprefix("signing.pem: ").strip()


def _crl_text(directory: Path, url: str) -> str:
    """Download the CRL from ``url`` and have OpenSSL check its signature and print it."""
    (directory / "signing.crl").write_bytes(httpx.get(url, timeout=10).content)
    result = _openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        "signing.crl",
        "-CAfile",
        "chain-signing.pem",
        "-noout",
        "-text",
        cwd=directory,
    )
    assert "verify OK" in result.stderr + result.stdout, result.stderr
    return result.stdout


def test_openssl_follows_the_certificate_urls_to_a_server_on_another_port(
    session: Session,
    engine: Engine,
    served: str,
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
    exported_run = runner.invoke(
        app, ["card", "export", "--person-id", str(resident.id), "--dir", str(exported)]
    )
    assert exported_run.exit_code == 0, exported_run.output

    urls = _urls(exported, "signing.pem")
    port = urlsplit(served).port
    assert port != 8000
    for url in urls.values():
        assert url.startswith(f"{served}/pki/"), urls
        assert urlsplit(url).port == port
    assert _urls(exported, "auth.pem")["ocsp"] == f"{served}/pki/ocsp/auth"

    # The CA issuer's certificate at the AIA URL is the one that signed the card's certificate.
    (exported / "issuer.der").write_bytes(httpx.get(urls["ca_issuers"], timeout=10).content)
    issuer = _openssl(
        "x509", "-inform", "DER", "-in", "issuer.der", "-noout", "-fingerprint", cwd=exported
    )
    expected = _openssl("x509", "-in", "ca-signing.pem", "-noout", "-fingerprint", cwd=exported)
    assert issuer.stdout == expected.stdout
    serial = (
        _openssl("x509", "-in", "signing.pem", "-noout", "-serial", cwd=exported)
        .stdout.strip()
        .removeprefix("serial=")
    )

    assert _ocsp_status(exported, urls["ocsp"]) == "good"
    assert serial not in _crl_text(exported, urls["crl"])

    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)

    assert _ocsp_status(exported, urls["ocsp"]) == "revoked"
    assert serial in _crl_text(exported, urls["crl"])
