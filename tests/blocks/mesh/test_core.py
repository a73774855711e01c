"""Members, subsystems, certificates, services and grants; the directory calls."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.kernel.errors import KibanError
from tests.blocks.mesh.core_support import (
    CLIENT,
    OPENAPI,
    OPERATOR,
    PROVIDER,
    SERVICE,
    Seen,
    build,
)


def test_subsystems_get_a_certificate_from_the_mesh_ca(session: Session) -> None:
    build(session, Seen())
    sub = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    cert = x509.load_pem_x509_certificate(sub.certificate_pem.encode())
    ca = x509.load_pem_x509_certificate(mesh.ca_pem().encode())
    ca_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert cert.signature_hash_algorithm is not None
    ca_key.verify(
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )
    assert cert.subject.rfc4514_string().startswith("CN=JP/GOV/00001/pension")
    assert cert.public_key() == mesh.subsystem_key(PROVIDER).public_key()


def test_registry_errors_name_the_field(session: Session) -> None:
    build(session, Seen())
    with pytest.raises(KibanError) as exists:
        mesh.register_member(
            session, member_class="GOV", member_code="00001", name="x", actor=OPERATOR
        )
    assert (exists.value.code, exists.value.status) == ("mesh.member_exists", 409)
    with pytest.raises(KibanError) as bad:
        mesh.register_subsystem(session, "JP/GOV/00001", "Bad Code", actor=OPERATOR)
    assert (bad.value.code, bad.value.field) == ("mesh.invalid_id", "subsystem_code")
    with pytest.raises(KibanError) as items:
        mesh.grant(
            session,
            client=CLIENT,
            service=SERVICE,
            task="t",
            legal_basis="l",
            items=["salary"],
            actor=OPERATOR,
        )
    assert (items.value.code, items.value.field) == ("mesh.invalid_items", "items")
    with pytest.raises(KibanError) as missing:
        mesh.register_service(
            session,
            "JP/GOV/00001/nothing",
            "x",
            openapi=OPENAPI,
            items=["a"],
            provider="http://127.0.0.1:1",
            actor=OPERATOR,
        )
    assert missing.value.code == "mesh.subsystem_not_found"


def test_services_start_disabled(session: Session) -> None:
    build(session, Seen(), enable=False)
    (service,) = mesh.list_services(session)
    assert not service.enabled
    assert mesh.enable_service(session, SERVICE, actor=OPERATOR).enabled


def test_directory_calls(session: Session) -> None:
    build(session, Seen())
    clients = [c.xroad_id for c in mesh.list_clients(session)]
    assert {PROVIDER, CLIENT, "JP/GOV/00001"} <= set(clients)
    assert [m.service for m in mesh.list_methods(session, PROVIDER)] == [SERVICE]
    (allowed,) = mesh.allowed_methods(session, CLIENT)
    assert allowed.items == ["contributions"]
    assert mesh.allowed_methods(session, "JP/COM/9000001/bank") == []
    assert mesh.get_openapi(session, SERVICE) == OPENAPI


def test_ensure_granted_client_waits_for_the_service_then_grants_once(session: Session) -> None:
    client = "JP/GOV/kiban-test/reader"

    def ensure() -> bool:
        return mesh.ensure_granted_client(
            session,
            subsystem=client,
            member_name="テスト",
            service=SERVICE,
            task="資格確認",
            legal_basis="番号法第19条第8号",
            items=["benefit"],
            actor=OPERATOR,
        )

    assert ensure() is False  # the pension service is not on the mesh yet
    assert [m.name for m in mesh.list_members(session) if m.xroad_id == "JP/GOV/kiban-test"] == [
        "テスト"
    ]
    assert not mesh.list_grants(session, client=client)
    build(session, Seen(), grant=False)
    assert ensure() is True
    assert ensure() is True
    grants = mesh.list_grants(session, client=client, service=SERVICE)
    assert [(g.task, g.items) for g in grants] == [("資格確認", ["benefit"])]
    with pytest.raises(KibanError) as bad:
        mesh.ensure_granted_client(
            session,
            subsystem="JP/GOV/kiban-test",
            member_name="x",
            service=SERVICE,
            task="t",
            legal_basis="l",
            items=[],
            actor=OPERATOR,
        )
    assert (bad.value.code, bad.value.field) == ("mesh.invalid_id", "subsystem")
