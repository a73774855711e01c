"""The in-process gateway: rights, codes, signatures, limits and the records it leaves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import gateway
from kiban.kernel import clock
from tests.blocks.mesh.core_support import (
    CLIENT,
    COMPANY,
    OPERATOR,
    PROVIDER,
    SERVICE,
    Seen,
    build,
    person_code,
)


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    mesh.set_limits(mesh.Limits())
    yield
    mesh.set_limits(mesh.Limits())


def outcomes(session: Session, person: uuid.UUID) -> list[tuple[str, str, str]]:
    records = pytest.importorskip("kiban.blocks.mesh.records")
    page = records.records_for_person(session, person, today=clock.today_jst())
    return sorted((r.side, r.member, r.outcome) for r in page.records)


def test_a_granted_request_converts_the_code_and_is_recorded_on_both_sides(
    session: Session,
) -> None:
    seen = Seen()
    build(session, seen)
    person, code = person_code(session)
    response = mesh.call(
        session, client=CLIENT, service=SERVICE, path="records", agency_code=code, body={"q": 1}
    )
    assert response.ok, response.body
    (request,) = seen.requests
    provider_code = mesh.agency_code(session, PROVIDER, person)
    assert request.agency_code == provider_code != code
    assert request.client == CLIENT
    assert request.items == ["contributions"]
    assert request.body == {"q": 1}
    assert response.body == {"code": provider_code, "items": ["contributions"], "echo": {"q": 1}}
    assert response.request_hash
    assert response.signature
    assert outcomes(session, person) == [
        ("provider", PROVIDER, "ok"),
        ("requester", CLIENT, "ok"),
    ]


def test_a_request_without_a_grant_is_refused_and_recorded(session: Session) -> None:
    seen = Seen()
    build(session, seen, grant=False)
    person, code = person_code(session)
    response = mesh.call(session, client=CLIENT, service=SERVICE, agency_code=code)
    assert not response.ok
    assert (response.status, response.error) == (403, "Server.ServerProxy.AccessDenied")
    assert response.error_code == "mesh.access_denied"
    assert seen.requests == []
    assert outcomes(session, person) == [
        ("provider", PROVIDER, "refused:mesh.access_denied"),
        ("requester", CLIENT, "refused:mesh.access_denied"),
    ]


def test_items_outside_the_grant_are_refused(session: Session) -> None:
    seen = Seen()
    build(session, seen)
    _, code = person_code(session)
    response = mesh.call(
        session, client=CLIENT, service=SERVICE, agency_code=code, items=["benefit"]
    )
    assert response.error == "Server.ServerProxy.AccessDenied"
    assert seen.requests == []


def test_a_disabled_service_is_refused(session: Session) -> None:
    build(session, Seen())
    mesh.disable_service(session, SERVICE, actor=OPERATOR)
    _, code = person_code(session)
    response = mesh.call(session, client=CLIENT, service=SERVICE, agency_code=code)
    assert (response.status, response.error) == (503, "Server.ServerProxy.ServiceDisabled")


def test_unknown_clients_services_and_codes_are_refused(session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    unknown = mesh.call(session, client="JP/GOV/99999/x", service=SERVICE, agency_code=code)
    assert unknown.error == "Server.ClientProxy.UnknownClient"
    nothing = mesh.call(session, client=CLIENT, service=f"{PROVIDER}/nothing", agency_code=code)
    assert nothing.error == "Server.ServerProxy.UnknownService"
    bad_code = mesh.call(session, client=CLIENT, service=SERVICE, agency_code="not-a-code")
    assert bad_code.error == "Server.ServerProxy.UnknownAgencyCode"


def test_a_code_of_another_agency_is_not_accepted(session: Session) -> None:
    build(session, Seen())
    person, _ = person_code(session)
    theirs = mesh.agency_code(session, PROVIDER, person)
    response = mesh.call(session, client=CLIENT, service=SERVICE, agency_code=theirs)
    assert response.error == "Server.ServerProxy.UnknownAgencyCode"


def test_a_company_needs_consent(session: Session) -> None:
    build(session, Seen())
    mesh.grant(
        session,
        client=COMPANY,
        service=SERVICE,
        task="口座開設時の確認",
        legal_basis="本人同意",
        items=["benefit"],
        actor=OPERATOR,
    )
    person, code = person_code(session, COMPANY)
    response = mesh.call(session, client=COMPANY, service=SERVICE, agency_code=code)
    assert (response.status, response.error) == (403, "Server.ServerProxy.ConsentRequired")
    assert response.error_code == "mesh.consent_required"
    assert ("requester", COMPANY, "refused:mesh.consent_required") in outcomes(session, person)


def test_a_tampered_request_is_refused_by_the_gateway(session: Session) -> None:
    seen = Seen()
    build(session, seen)
    _, code = person_code(session)
    certificate = next(s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT)
    token, body = mesh.client_request(
        client=CLIENT,
        certificate_pem=certificate.certificate_pem,
        key=mesh.subsystem_key(CLIENT),
        service=SERVICE,
        agency_code=code,
        body={"amount": 1},
    )
    changed_body = mesh.exchange(session, token=token, body=b'{"amount":2}')
    assert (changed_body.status, changed_body.error) == (401, "Client.InvalidSignature")
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert mesh.exchange(session, token=forged, body=body).error == "Client.InvalidSignature"
    # A request signed with another subsystem's key does not pass as the client.
    other, other_body = mesh.client_request(
        client=CLIENT,
        certificate_pem=certificate.certificate_pem,
        key=mesh.subsystem_key(PROVIDER),
        service=SERVICE,
        agency_code=code,
    )
    assert mesh.exchange(session, token=other, body=other_body).error == "Client.InvalidSignature"
    assert seen.requests == []
    assert mesh.exchange(session, token=token, body=body).ok


def test_a_tampered_request_is_refused_by_the_provider(session: Session) -> None:
    seen = Seen()
    build(session, seen)
    _, code = person_code(session)
    provider = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    client = next(s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT)
    token, body = mesh.client_request(
        client=CLIENT,
        certificate_pem=client.certificate_pem,
        key=mesh.subsystem_key(CLIENT),
        service=SERVICE,
        agency_code=code,
        body={"a": 1},
    )

    def run(token: str, body: bytes) -> mesh.ProviderAnswer:
        return mesh.answer(
            {SERVICE: seen.handler}.get,
            token=token,
            body=body,
            key=mesh.subsystem_key(PROVIDER),
            certificate_pem=provider.certificate_pem,
            ca_pem=mesh.ca_pem(),
        )

    assert run(token, b'{"a":2}').status == 401
    # A certificate the mesh CA did not issue is refused even if the signature matches it.
    assert (
        run(token.replace(token.split(".")[0], token.split(".")[0][:-8] + "AAAAAAAA"), body).status
        == 401
    )
    good = run(token, body)
    assert good.status == 200
    signed = gateway.verify(good.signature, provider.certificate_pem)
    assert signed["requestHash"] == gateway.digest(token)


def test_a_tampered_response_is_refused_by_the_gateway(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(session, Seen())
    person, code = person_code(session)
    real = gateway.answer

    def tampering(*args: object, **kwargs: object) -> mesh.ProviderAnswer:
        reply = real(*args, **kwargs)  # type: ignore[arg-type]
        return mesh.ProviderAnswer(reply.status, reply.body + b" ", reply.signature)

    monkeypatch.setattr(gateway, "answer", tampering)
    response = mesh.call(session, client=CLIENT, service=SERVICE, agency_code=code)
    assert (response.status, response.error) == (
        502,
        "Server.ServerProxy.InvalidResponseSignature",
    )
    assert ("requester", CLIENT, "refused:mesh.invalid_response_signature") in outcomes(
        session, person
    )


def test_the_rate_limit_refuses_a_burst(session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    mesh.set_limits(mesh.Limits(rate_per_second=0.001, burst=2))
    results = [
        mesh.call(session, client=CLIENT, service=SERVICE, agency_code=code).error for _ in range(3)
    ]
    assert results == [None, None, "Client.RateLimited"]


def test_the_body_limit(session: Session) -> None:
    build(session, Seen())
    _, code = person_code(session)
    mesh.set_limits(mesh.Limits(max_body_bytes=64))
    response = mesh.call(
        session, client=CLIENT, service=SERVICE, agency_code=code, body={"x": "y" * 100}
    )
    assert (response.status, response.error) == (413, "Client.BodyTooLarge")


def test_metrics_count_outcomes(session: Session) -> None:
    build(session, Seen(), grant=False)
    _, code = person_code(session)
    mesh.call(session, client=CLIENT, service=SERVICE, agency_code=code)
    text = mesh.metrics_text()
    assert 'kiban_mesh_requests_total{outcome="refused:Server.ServerProxy.AccessDenied"}' in text
    assert "kiban_mesh_request_seconds_count" in text
