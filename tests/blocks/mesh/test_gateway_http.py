"""The gateway over HTTP: X-Road headers, refusals, the directory, metrics, and a provider
running in a second process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import mesh
from kiban.blocks.mesh import gateway
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.blocks.mesh.core_support import (
    CLIENT,
    OPENAPI,
    OPERATOR,
    PROVIDER,
    SERVICE,
    Seen,
    build,
    person_code,
)
from tests.live import free_port
from tests.staff_support import admin_key

# As in tests/web/conftest.py: Starlette's one import-time warning about ``httpx2``.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "mesh-operator-token-0123456789abcdef"  # noqa: S105 - a test value.


@pytest.fixture
def client(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    mesh.set_limits(mesh.Limits())
    with TestClient(create_app()) as client:
        yield client
    mesh.set_limits(mesh.Limits())


def signed(
    session: Session, code: str, *, body: object = None, path: str = "records", method: str = "POST"
) -> tuple[dict[str, str], bytes]:
    cert = next(s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT)
    token, data = mesh.client_request(
        client=CLIENT,
        certificate_pem=cert.certificate_pem,
        key=mesh.subsystem_key(CLIENT),
        service=SERVICE,
        path=path,
        method=method,
        agency_code=code,
        body=body,
        user_id="JP1234",
    )
    headers = {"X-Road-Client": CLIENT, "X-Road-Signature": token}
    # SQLite transactions take the write lock from the start: end this one before the app
    # handles the request.
    session.commit()
    return headers, data


def test_an_http_request_gets_x_road_headers(client: TestClient, session: Session) -> None:
    seen = Seen()
    build(session, seen)
    _, code = person_code(session)
    session.commit()
    headers, data = signed(session, code, body={"q": "年金"})
    reply = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Road-Request-Hash"] == gateway.digest(headers["X-Road-Signature"])
    assert reply.headers["X-Road-Id"]
    provider = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    claims = gateway.verify(reply.headers["X-Road-Signature"], provider.certificate_pem)
    assert claims["bodyHash"] == gateway.digest(reply.content)
    assert reply.json()["echo"] == {"q": "年金"}
    (request,) = seen.requests
    assert request.user_id == "JP1234"
    assert request.path == "records"


def test_a_replayed_http_request_is_refused_with_x_road_error(
    client: TestClient, session: Session
) -> None:
    seen = Seen()
    build(session, seen)
    _, code = person_code(session)
    session.commit()
    headers, data = signed(session, code)
    first = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert again.status_code == 409
    assert again.headers["X-Road-Error"] == "Client.ReplayedRequest"
    assert again.headers["X-Road-Id"] == first.headers["X-Road-Id"]
    assert len(seen.requests) == 1


def test_http_refusals_carry_x_road_error(client: TestClient, session: Session) -> None:
    build(session, Seen(), grant=False)
    _, code = person_code(session)
    session.commit()
    headers, data = signed(session, code)
    refused = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["X-Road-Error"] == "Server.ServerProxy.AccessDenied"
    assert refused.json()["error"]["code"] == "mesh.access_denied"
    no_client = client.post(
        f"/r1/{SERVICE}/records",
        content=data,
        headers={"X-Road-Signature": headers["X-Road-Signature"]},
    )
    assert no_client.status_code == 400
    assert no_client.headers["X-Road-Error"] == "Client.BadRequest"
    other_path = client.post(f"/r1/{SERVICE}/other", content=data, headers=headers)
    assert other_path.headers["X-Road-Error"] == "Client.BadRequest"
    wrong_id = client.post(
        f"/r1/{SERVICE}/records", content=data, headers={**headers, "X-Road-Id": "other"}
    )
    assert wrong_id.headers["X-Road-Error"] == "Client.BadRequest"


def test_http_body_limit(client: TestClient, session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    session.commit()
    mesh.set_limits(mesh.Limits(max_body_bytes=32))
    headers, data = signed(session, code, body={"x": "y" * 100})
    reply = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert reply.status_code == 413
    assert reply.headers["X-Road-Error"] == "Client.BodyTooLarge"


def test_directory_and_metrics(client: TestClient, session: Session) -> None:
    build(session, Seen())
    session.commit()
    session.close()
    base = "/api/v1/mesh/directory"
    clients = client.get(f"{base}/listClients").json()
    assert CLIENT in [c["xroad_id"] for c in clients]
    methods = client.get(f"{base}/listMethods", params={"service": PROVIDER}).json()
    assert [m["service"] for m in methods] == [SERVICE]
    allowed = client.get(f"{base}/allowedMethods", params={"client": CLIENT}).json()
    assert allowed[0]["items"] == ["contributions"]
    assert client.get(f"{base}/getOpenAPI", params={"service": SERVICE}).json() == OPENAPI
    missing = client.get(f"{base}/getOpenAPI", params={"service": f"{PROVIDER}/none"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "mesh.service_not_found")
    assert client.get("/api/v1/mesh/metrics").status_code == 401
    text = client.get(
        "/api/v1/mesh/metrics", headers={"Authorization": f"Bearer {admin_key()}"}
    ).text
    assert "kiban_mesh_request_seconds_count" in text


@pytest.fixture
def remote_provider(session: Session, tmp_path: Path) -> Iterator[str]:
    """The pension service answered by a provider in a second process."""
    mesh.register_member(
        session, member_class="GOV", member_code="00001", name="年金機構", actor=OPERATOR
    )
    mesh.register_member(
        session, member_class="MUN", member_code="131016", name="千代田区", actor=OPERATOR
    )
    provider = mesh.register_subsystem(session, "JP/GOV/00001", "pension", actor=OPERATOR)
    mesh.register_subsystem(session, "JP/MUN/131016", "juki", actor=OPERATOR)
    key = mesh.subsystem_key(PROVIDER).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "cert.pem").write_text(provider.certificate_pem)
    (tmp_path / "ca.pem").write_text(mesh.ca_pem())
    port = free_port()
    process = subprocess.Popen(  # Our own interpreter and module.
        [
            sys.executable,
            "-m",
            "tests.blocks.mesh.provider_process",
            str(tmp_path / "key.pem"),
            str(tmp_path / "cert.pem"),
            str(tmp_path / "ca.pem"),
            SERVICE,
            str(port),
        ],
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the provider process did not start")
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        mesh.register_service(
            session,
            PROVIDER,
            "records",
            openapi=OPENAPI,
            items=["benefit"],
            provider=url,
            actor=OPERATOR,
        )
        mesh.enable_service(session, SERVICE, actor=OPERATOR)
        mesh.grant(
            session,
            client=CLIENT,
            service=SERVICE,
            task="年金給付の確認",
            legal_basis="番号法 別表第二",
            items=["benefit"],
            actor=OPERATOR,
        )
        session.commit()
        yield url
    finally:
        gateway.close_http()
        process.terminate()
        process.wait(timeout=10)


def test_a_provider_in_a_second_process(
    remote_provider: str, client: TestClient, session: Session
) -> None:
    person, code = person_code(session)
    session.commit()
    # In process, through the gateway, to the other process.
    response = mesh.call(
        session, client=CLIENT, service=SERVICE, path="records/2026", agency_code=code, body={}
    )
    assert response.ok, response.body
    assert response.body["code"] == mesh.agency_code(session, PROVIDER, person)
    assert response.body["client"] == CLIENT
    assert response.body["path"] == "records/2026"
    session.commit()
    # Over HTTP from a client outside, through the gateway, to the other process.
    headers, data = signed(session, code, body={"year": 2026})
    reply = client.post(f"/r1/{SERVICE}/records", content=data, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["body"] == {"year": 2026}
    # The provider itself refuses what the mesh did not sign.
    forged = httpx.post(remote_provider + "/records", content=b"{}", timeout=10)
    assert forged.status_code == 401
    assert forged.json()["error"] == "Client.InvalidSignature"
