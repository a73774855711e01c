"""The gateway's fast path: group-committed records, the caches and their limits, strict JWS."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import codes, gateway, records
from kiban.blocks.mesh.models import MeshGrant
from kiban.blocks.mesh.service import REGISTRY_TTL_SECONDS, do_revoke_grant
from kiban.kernel import clock
from kiban.platform.db import session_factory
from tests.blocks.mesh.core_support import CLIENT, PROVIDER, SERVICE, Seen, build, person_code


def _records_of(engine: Engine, person: uuid.UUID) -> list[tuple[str, str]]:
    # A session of its own: what is committed, not what the caller's transaction sees (on the
    # gateway's read-only engine, which on SQLite does not wait for the caller's lock).
    with session_factory(gateway._read_engine(engine))() as other:
        page = records.records_for_person(other, person, today=clock.today_jst())
    return sorted((r.side, r.outcome) for r in page.records)


def test_group_commit_makes_the_records_durable_before_the_answer(
    session: Session, engine: Engine
) -> None:
    build(session, Seen())
    person, code = person_code(session)
    session.commit()
    response = mesh.call(
        session,
        client=CLIENT,
        service=SERVICE,
        path="records",
        agency_code=code,
        group_commit=True,
    )
    assert response.ok, response.body
    # Committed by the record writer, not by the caller (who has not committed anything).
    assert session.get_transaction() is None
    assert _records_of(engine, person) == [("provider", "ok"), ("requester", "ok")]
    # The provider's code was stored in the same commit: the provider can use it.
    provider_code = codes.compute(PROVIDER, person)
    with session_factory(engine)() as other:
        assert codes.person_for(other, PROVIDER, provider_code) == person


def test_a_caller_in_the_middle_of_its_work_keeps_the_records_in_its_transaction(
    session: Session, engine: Engine
) -> None:
    build(session, Seen())
    person, code = person_code(session)
    # The session holds uncommitted work: a second connection could not write beside it.
    response = mesh.call(
        session,
        client=CLIENT,
        service=SERVICE,
        path="records",
        agency_code=code,
        group_commit=True,
    )
    assert response.ok, response.body
    assert _records_of(engine, person) == []
    session.commit()
    assert _records_of(engine, person) == [("provider", "ok"), ("requester", "ok")]


def test_a_grant_revoked_by_another_process_stops_within_a_second(session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    session.commit()

    def ask() -> gateway.MeshResponse:
        response = mesh.call(
            session,
            client=CLIENT,
            service=SERVICE,
            path="records",
            agency_code=code,
            group_commit=True,
        )
        session.commit()
        return response

    assert ask().ok
    # Another process revokes the grant: this process's cache is not told.
    session.execute(update(MeshGrant).values(active=False))
    session.commit()
    assert REGISTRY_TTL_SECONDS <= 1.0
    time.sleep(REGISTRY_TTL_SECONDS + 0.1)
    refused = ask()
    assert refused.error == "Server.ServerProxy.AccessDenied"


def test_a_grant_revoked_in_this_process_stops_at_once(session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    assert mesh.call(session, client=CLIENT, service=SERVICE, path="records", agency_code=code).ok
    (grant,) = mesh.list_grants(session, client=CLIENT)
    do_revoke_grant(session, grant.id, actor="operator:test")
    refused = mesh.call(session, client=CLIENT, service=SERVICE, path="records", agency_code=code)
    assert refused.error == "Server.ServerProxy.AccessDenied"


def test_a_rolled_back_code_is_not_taken_for_a_stored_one(engine: Engine) -> None:
    person = uuid.uuid4()
    with session_factory(engine)() as first:
        code = codes.agency_code(first, PROVIDER, person)
        first.rollback()
    assert not codes.is_stored(engine, PROVIDER, code)
    with session_factory(engine)() as second:
        with second.begin_nested():
            codes.agency_code(second, PROVIDER, person)
        # A released savepoint is not a commit.
        assert not codes.is_stored(engine, PROVIDER, code)
        second.commit()
    assert codes.is_stored(engine, PROVIDER, code)


# --- strict JWS -------------------------------------------------------------------------------


def _provider(session: Session) -> tuple[str, str]:
    build(session, Seen())
    cert = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    token = gateway.sign(mesh.subsystem_key(PROVIDER), cert.certificate_pem, {"id": "m1"})
    return cert.certificate_pem, token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tokens_are_standard_compact_jws(session: Session) -> None:
    pem, token = _provider(session)
    assert gateway.verify(token, pem) == {"id": "m1"}
    public = mesh.subsystem_key(PROVIDER).public_key()
    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    registry.max_header_length = 4096
    parsed = jws.deserialize_compact(token, OKPKey.import_key(public), registry=registry)
    assert json.loads(parsed.payload) == {"id": "m1"}


def test_a_token_signed_by_another_library_verifies(session: Session) -> None:
    # The gateway signs and verifies with libsodium; a JWS whose signature OpenSSL made (through
    # joserfc) must verify the same, and a flipped payload must not.
    pem, token = _provider(session)
    header = token.split(".")[0]
    key = OKPKey.import_key(mesh.subsystem_key(PROVIDER))
    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    registry.max_header_length = 4096
    other = jws.serialize_compact(
        json.loads(base64.urlsafe_b64decode(header + "==")), b'{"id":"m2"}', key, registry=registry
    )
    assert other.split(".")[0] == header
    assert gateway.verify(other, pem) == {"id": "m2"}
    forged = ".".join((header, _b64(b'{"id":"m3"}'), other.split(".")[2]))
    with pytest.raises(ValueError, match="does not verify"):
        gateway.verify(forged, pem)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "EdDSA"},
        {"alg": "Ed25519", "crit": ["exp"]},
        ["Ed25519"],
    ],
)
def test_headers_other_than_the_mesh_s_are_refused(session: Session, header: object) -> None:
    pem, token = _provider(session)
    _, payload, signature = token.split(".")
    if isinstance(header, dict):
        x5c = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["x5c"]
        header = {**header, "x5c": x5c}
    forged = f"{_b64(json.dumps(header).encode())}.{payload}.{signature}"
    with pytest.raises(ValueError, match=r"header|signature"):
        gateway.verify(forged, pem)


def test_another_spelling_of_the_signature_is_refused(session: Session) -> None:
    pem, token = _provider(session)
    header, payload, signature = token.split(".")
    # The last character carries 2 unused bits: setting one decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    respelled = signature[:-1] + alphabet[last | 1]
    assert respelled != signature
    assert base64.urlsafe_b64decode(respelled + "==") == base64.urlsafe_b64decode(signature + "==")
    with pytest.raises(ValueError, match="canonical"):
        gateway.verify(f"{header}.{payload}.{respelled}", pem)
