"""Answers that disclose other people: the signed ``subjects`` claim and the records it leaves.

A provider's answer may carry data about people other than the one the request named (the
members of a household, say). It declares them by its own agency codes in its signed answer,
and the gateway writes the records of both sides for each of them, so that every person whose
data was provided finds the exchange in their own records.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import answer_subjects, codes, gateway, records
from kiban.kernel import clock
from kiban.platform.db import session_factory
from tests.blocks.mesh.core_support import CLIENT, OPERATOR, PROVIDER, Seen, build, person_code

DISCLOSING = f"{PROVIDER}/family"
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "家族", "version": "1"},
    "paths": {"/": {"post": {"responses": {"200": {"description": "ok"}}}}},
}


def _family(request: mesh.ProviderRequest) -> Any:
    # The body names the provider's own codes of the relatives to disclose; a real provider
    # would find them in its own data. ``form`` picks one of the handler's return forms.
    body = request.body or {}
    relatives = body.get("relatives", [])
    answer = {"relatives": [{"name": f"relative {i}"} for i, _ in enumerate(relatives)]}
    if body.get("form") == "tuple":
        return 200, answer
    if body.get("form") == "plain":
        return answer
    subjects = [mesh.Subject(code, ("name",)) for code in relatives]
    return mesh.ProviderResult(answer, status=int(body.get("status", 200)), subjects=subjects)


@pytest.fixture
def family(session: Session) -> Iterator[None]:
    """The core test mesh and a second service of the provider that discloses relatives."""
    mesh.set_limits(mesh.Limits())
    build(session, Seen())
    mesh.register_service(
        session,
        PROVIDER,
        "family",
        openapi=OPENAPI,
        items=["relatives"],
        provider=_family,
        actor=OPERATOR,
    )
    mesh.enable_service(session, DISCLOSING, actor=OPERATOR)
    mesh.grant(
        session,
        client=CLIENT,
        service=DISCLOSING,
        task="世帯の確認",
        legal_basis="テスト",
        items=["relatives"],
        actor=OPERATOR,
    )
    session.flush()
    yield
    mesh.set_limits(mesh.Limits())


def relative(session: Session) -> tuple[uuid.UUID, str]:
    """A person the provider knows (its code for them is stored), and that code."""
    person = uuid.uuid4()
    return person, mesh.agency_code(session, PROVIDER, person)


def seen_by(session: Session, person: uuid.UUID) -> list[records.PersonRecord]:
    return records.records_for_person(session, person, today=clock.today_jst()).records


def test_each_disclosed_person_gets_the_records_of_both_sides(
    session: Session, family: None
) -> None:
    person, code = person_code(session)
    (first, first_code), (second, second_code) = relative(session), relative(session)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [first_code, second_code]},
    )
    assert response.ok, response.body
    main = {r.side: r for r in seen_by(session, person)}
    assert set(main) == {"requester", "provider"}
    assert main["requester"].items == ["relatives"]
    for someone, provider_code in ((first, first_code), (second, second_code)):
        theirs = {r.side: r for r in seen_by(session, someone)}
        assert set(theirs) == {"requester", "provider"}
        requester, provider = theirs["requester"], theirs["provider"]
        assert (requester.member, requester.counterpart) == (CLIENT, PROVIDER)
        assert (provider.member, provider.counterpart) == (PROVIDER, CLIENT)
        # Each side names the relative by its own code, as it does the person asked about.
        assert requester.agency_code == codes.compute(CLIENT, someone)
        assert provider.agency_code == provider_code
        for record in (requester, provider):
            assert record.items == ["name"]
            assert record.service == DISCLOSING
            assert record.outcome == "ok"
            assert record.message_id == response.message_id == main["requester"].message_id
            assert record.request_hash == response.request_hash
            assert record.response_hash == main["requester"].response_hash
            assert record.legal_basis == main["requester"].legal_basis
    # The client learns nobody's person id: only the body it asked for.
    assert str(first) not in response.raw.decode()
    assert records.verify_log(session).ok


def test_the_person_asked_about_is_not_recorded_twice(session: Session, family: None) -> None:
    person, code = person_code(session)
    own_code = mesh.agency_code(session, PROVIDER, person)
    other, other_code = relative(session)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [own_code, other_code, other_code]},
    )
    assert response.ok, response.body
    assert len(seen_by(session, person)) == 2
    assert len(seen_by(session, other)) == 2


@pytest.mark.parametrize("form", ["plain", "tuple"])
def test_answers_without_subjects_keep_working(session: Session, family: None, form: str) -> None:
    person, code = person_code(session)
    other, other_code = relative(session)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [other_code], "form": form},
    )
    assert response.ok, response.body
    assert "subjects" not in gateway.unverified_claims(response.signature or "")
    assert len(seen_by(session, person)) == 2
    assert seen_by(session, other) == []


def test_an_error_answer_that_discloses_someone_is_recorded_for_them(
    session: Session, family: None
) -> None:
    _, code = person_code(session)
    other, other_code = relative(session)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [other_code], "status": 409},
    )
    assert response.status == 409
    assert {(r.side, r.outcome) for r in seen_by(session, other)} == {
        ("requester", "error:409"),
        ("provider", "error:409"),
    }


def test_a_code_the_provider_does_not_hold_refuses_the_answer(
    session: Session, family: None
) -> None:
    person, code = person_code(session)
    stranger = uuid.uuid4()
    # A code of the client's, not the provider's: the provider cannot name people by it.
    client_code = mesh.agency_code(session, CLIENT, stranger)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [client_code]},
    )
    assert (response.status, response.error) == (502, "Server.ServerProxy.ServiceFailed")
    assert "relative" not in response.raw.decode()  # The disclosure is not released.
    assert {r.outcome for r in seen_by(session, person)} == {"refused:mesh.service_failed"}
    assert seen_by(session, stranger) == []


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    loaded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(loaded, dict)
    return loaded


def _with_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return f"{header}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


def test_the_subjects_claim_is_covered_by_the_signature(
    session: Session, family: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, code = person_code(session)
    declared, declared_code = relative(session)
    hidden, hidden_code = relative(session)
    real = gateway.answer

    def tampering(*args: Any, **kwargs: Any) -> mesh.ProviderAnswer:
        # Someone on the way swaps the person the answer declares, keeping the signature.
        reply = real(*args, **kwargs)
        claims = _payload(reply.signature)
        claims["subjects"] = [{"code": hidden_code, "items": ["name"]}]
        return mesh.ProviderAnswer(reply.status, reply.body, _with_payload(reply.signature, claims))

    monkeypatch.setattr(gateway, "answer", tampering)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [declared_code]},
    )
    assert (response.status, response.error) == (
        502,
        "Server.ServerProxy.InvalidResponseSignature",
    )
    assert seen_by(session, declared) == []
    assert seen_by(session, hidden) == []
    assert {r.outcome for r in seen_by(session, person)} == {
        "refused:mesh.invalid_response_signature"
    }


def test_the_provider_signs_the_subjects_it_declares(session: Session, family: None) -> None:
    _, code = person_code(session)
    _, other_code = relative(session)
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [other_code]},
    )
    provider = next(s for s in mesh.list_subsystems(session) if s.xroad_id == PROVIDER)
    signed = gateway.verify(response.signature or "", provider.certificate_pem)
    assert signed["subjects"] == [{"code": other_code, "items": ["name"]}]


@pytest.mark.parametrize(
    "declared",
    [
        "not a list",
        [{"code": "x"}],
        [{"code": "", "items": ["name"]}],
        [{"code": "x", "items": []}],
        [{"code": "x", "items": ["name", 3]}],
        [{"code": "x", "items": ["x" * 101]}],
        [{"code": "x", "items": ["name"]}] * (gateway.MAX_SUBJECTS + 1),
        ["x"],
    ],
)
def test_a_malformed_subjects_claim_is_refused(declared: object) -> None:
    with pytest.raises(mesh.MeshRefusal) as exc:
        answer_subjects._subject_list(declared)
    assert exc.value.xroad_code == "Server.ServerProxy.ServiceFailed"


def test_group_commit_writes_the_subjects_records_in_the_same_commit(
    session: Session, engine: Engine, family: None
) -> None:
    person, code = person_code(session)
    other, other_code = relative(session)
    session.commit()
    response = mesh.call(
        session,
        client=CLIENT,
        service=DISCLOSING,
        agency_code=code,
        body={"relatives": [other_code]},
        group_commit=True,
    )
    assert response.ok, response.body
    # Committed by the record writer: the caller has nothing open.
    assert session.get_transaction() is None
    with session_factory(gateway._read_engine(engine))() as other_session:
        mine = seen_by(other_session, person)
        theirs = seen_by(other_session, other)
        assert {r.seq for r in theirs} | {r.seq for r in mine} == set(
            range(min(r.seq for r in mine + theirs), max(r.seq for r in mine + theirs) + 1)
        )
        assert sorted((r.side, r.items[0]) for r in theirs) == [
            ("provider", "name"),
            ("requester", "name"),
        ]
        # The client's code for the relative, named in its record, is stored with it.
        assert codes.person_for(other_session, CLIENT, codes.compute(CLIENT, other)) == other
