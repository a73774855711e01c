"""A signed request is taken once: recent ``iat``, and a message id new for its client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import gateway
from kiban.blocks.mesh.record_models import MeshAccessRecord
from tests.blocks.mesh.core_support import CLIENT, SERVICE, Seen, build, person_code


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    mesh.set_limits(mesh.Limits())
    yield
    mesh.set_limits(mesh.Limits())


@pytest.fixture
def setup(session: Session) -> tuple[Seen, str]:
    """The little mesh of core_support; returns what the provider saw and a person's code."""
    seen = Seen()
    build(session, seen)
    return seen, person_code(session)[1]


def _certificate(session: Session) -> str:
    return next(s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT).certificate_pem


def _signed(session: Session, code: str, **changes: Any) -> tuple[str, bytes]:
    """A request as :func:`mesh.client_request` makes it, with ``changes`` to its claims
    (``None`` leaves a claim out)."""
    body = gateway.encode_body(None)
    claims: dict[str, Any] = {
        "client": CLIENT,
        "service": SERVICE,
        "method": "POST",
        "path": "",
        "id": str(uuid.uuid4()),
        "userId": None,
        "code": code,
        "bodyHash": gateway.digest(body),
        "iat": int(time.time()),
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return gateway.sign(mesh.subsystem_key(CLIENT), _certificate(session), claims), body


def test_a_request_sent_twice_is_answered_once(session: Session, setup: tuple[Seen, str]) -> None:
    seen, code = setup
    token, body = _signed(session, code)
    assert mesh.exchange(session, token=token, body=body).ok
    again = mesh.exchange(session, token=token, body=body)
    assert (again.status, again.error, again.error_code) == (
        409,
        "Client.ReplayedRequest",
        "mesh.replayed_request",
    )
    assert len(seen.requests) == 1
    # A new request with the same message id is a replay too, whatever else it says.
    message_id = gateway.unverified_claims(token)["id"]
    other, other_body = _signed(session, code, id=message_id, path="other")
    assert mesh.exchange(session, token=other, body=other_body).error == "Client.ReplayedRequest"
    assert len(seen.requests) == 1


def test_a_replay_this_process_did_not_see_is_found_in_the_records(
    session: Session, setup: tuple[Seen, str]
) -> None:
    seen, code = setup
    token, body = _signed(session, code)
    assert mesh.exchange(session, token=token, body=body).ok
    # As after a restart, or at another gateway process: the ids seen in memory are gone.
    mesh.set_limits(mesh.Limits())
    again = mesh.exchange(session, token=token, body=body)
    assert again.error == "Client.ReplayedRequest"
    assert len(seen.requests) == 1


@pytest.mark.parametrize(
    ("iat_offset", "taken"),
    [(-119, True), (-121, False), (29, True), (31, False)],
)
def test_a_request_is_fresh_for_two_minutes_after_its_iat(
    session: Session, setup: tuple[Seen, str], iat_offset: int, taken: bool
) -> None:
    seen, code = setup
    token, body = _signed(session, code, iat=int(time.time()) + iat_offset)
    response = mesh.exchange(session, token=token, body=body)
    if taken:
        assert response.ok, response.body
    else:
        assert (response.status, response.error) == (401, "Client.StaleRequest")
        assert seen.requests == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"id": ""}, "id"),
        ({"id": "x" * 201}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": 7}, "id"),
        ({"iat": None}, "iat"),
        ({"iat": "now"}, "iat"),
        ({"iat": True}, "iat"),
    ],
)
def test_a_request_without_a_usable_id_or_iat_is_refused_naming_the_claim(
    session: Session, setup: tuple[Seen, str], changes: dict[str, Any], field: str
) -> None:
    seen, code = setup
    token, body = _signed(session, code, **changes)
    response = mesh.exchange(session, token=token, body=body)
    assert (response.status, response.error) == (400, "Client.BadRequest")
    assert response.body["error"]["field"] == field
    assert seen.requests == []


def test_the_guard_forgets_an_id_once_its_request_is_stale() -> None:
    guard = gateway.ReplayGuard()
    assert guard.first_use("c", "m1", until=100.0, now=0.0)
    assert guard.first_use("c", "m2", until=200.0, now=0.0)
    assert not guard.first_use("c", "m1", until=100.0, now=99.0)
    # Past its ``until`` an id is forgotten (the gateway refuses its request as stale then).
    assert guard.first_use("c", "m1", until=300.0, now=101.0)
    assert not guard.first_use("c", "m2", until=200.0, now=150.0)
    # Ids are a client's own: another client may use the same.
    assert guard.first_use("d", "m2", until=200.0, now=150.0)


RACE_CHILD = Path(__file__).with_name("replay_race_child.py")


def test_two_processes_racing_one_message_accept_it_once(
    database_url: str, session: Session, setup: tuple[Seen, str], tmp_path: Path
) -> None:
    # Given a mesh in the database and one signed request,
    token, body = _signed(session, setup[1])
    session.commit()
    request = tmp_path / "request.txt"
    request.write_text(f"{token}\n{body.decode()}\n", encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(RACE_CHILD.parents[3]), env.get("PYTHONPATH", "")])
    # when two gateway processes, each with its own engine and its own memory of message ids,
    # take it at the same moment,
    children = [
        subprocess.Popen(
            [sys.executable, str(RACE_CHILD), str(request)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.stderr
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    results = sorted(out.split() for out, _ in outcomes)
    assert all(child.returncode == 0 for child in children), [err for _, err in outcomes]
    # then exactly one accepted it and asked its provider; the other refused it as a replay
    # without asking.
    assert results == [["200", "-", "1"], ["409", "Client.ReplayedRequest", "0"]]
    message_id = gateway.unverified_claims(token)["id"]
    with Session(session.get_bind()) as fresh:
        outcomes_recorded = sorted(
            fresh.scalars(
                select(MeshAccessRecord.outcome).where(MeshAccessRecord.message_id == message_id)
            )
        )
    assert outcomes_recorded.count("ok") == 2  # Both sides of the one accepted exchange.
