"""Batch exchanges: one signed request about many people, answered and recorded per person."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import gateway
from kiban.kernel.errors import KibanError
from tests.blocks.mesh.core_support import CLIENT, SERVICE, Seen, build, person_code
from tests.blocks.mesh.records_support import verify_inclusion


class Picky(Seen):
    """A provider that fails for the codes it is told to fail for."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: set[str] = set()

    def handler(self, request: mesh.ProviderRequest) -> Any:
        if request.agency_code in self.fail:
            raise KibanError(
                "知らない人", "Unknown person", code="agency.unknown_person", status=404
            )
        return super().handler(request)


@pytest.fixture
def picky(session: Session) -> Picky:
    seen = Picky()
    build(session, seen)
    return seen


def test_a_batch_is_answered_and_recorded_per_person(session: Session, picky: Picky) -> None:
    # Given three people the client knows by its own codes,
    people = [person_code(session) for _ in range(3)]
    # when it asks about all three in one signed request,
    reply = mesh.call_batch(
        session,
        client=CLIENT,
        service=SERVICE,
        subjects=[mesh.BatchSubject(code) for _, code in people],
        items=["contributions"],
    )
    # then each gets its own answer, in order, from one call of the provider per person,
    assert reply.ok
    assert [a.code for a in reply.answers] == [code for _, code in people]
    assert all(a.ok and a.status == 200 for a in reply.answers)
    assert len(picky.requests) == 3
    assert {r.message_id for r in picky.requests} == {reply.message_id}
    # each answer names the person by the provider's code, never the client's,
    provider_codes = [a.body["code"] for a in reply.answers]
    assert not set(provider_codes) & {code for _, code in people}
    assert provider_codes == [
        mesh.agency_code(session, "JP/GOV/00001", person) for person, _ in people
    ]
    # and each person has both sides' records of the exchange, with proofs once checkpointed.
    session.flush()
    checkpoint = mesh.make_checkpoint(session)
    for person, code in people:
        records = mesh.records_for_person(session, person).records
        assert sorted(r.side for r in records) == ["provider", "requester"]
        assert {r.message_id for r in records} == {reply.message_id}
        assert {r.outcome for r in records} == {"ok"}
        requester = next(r for r in records if r.side == "requester")
        assert requester.agency_code == code
        assert requester.response_hash is not None
        for r in records:
            assert r.proof is not None
            assert verify_inclusion(
                r.hash, r.leaf_index, checkpoint.tree_size, r.proof, checkpoint.root_hash
            )
    # The response hashes differ per person: each commits to that person's answer alone.
    hashes = {
        next(r for r in mesh.records_for_person(session, p).records).response_hash
        for p, _ in people
    }
    assert len(hashes) == 3


def test_one_persons_failure_does_not_fail_the_batch(session: Session, picky: Picky) -> None:
    good, bad = person_code(session), person_code(session)
    picky.fail.add(mesh.agency_code(session, "JP/GOV/00001", bad[0]))
    unknown = "NOBODY" + uuid.uuid4().hex[:10]
    reply = mesh.call_batch(
        session,
        client=CLIENT,
        service=SERVICE,
        subjects=[
            mesh.BatchSubject(good[1]),
            mesh.BatchSubject(bad[1]),
            mesh.BatchSubject(unknown),
        ],
        items=["contributions"],
    )
    assert reply.ok
    first, second, third = reply.answers
    assert first.ok
    assert (second.ok, second.status, second.body["error"]) == (False, 404, "agency.unknown_person")
    assert (third.ok, third.error) == (False, "Server.ServerProxy.UnknownAgencyCode")
    # The failing person's records say so; nobody is recorded for a code that names no one.
    bad_records = mesh.records_for_person(session, bad[0]).records
    assert {r.outcome for r in bad_records} == {"error:404"}
    assert {r.outcome for r in mesh.records_for_person(session, good[0]).records} == {"ok"}


def test_items_outside_the_grant_are_refused_for_that_person_only(
    session: Session, picky: Picky
) -> None:
    allowed, greedy = person_code(session), person_code(session)
    reply = mesh.call_batch(
        session,
        client=CLIENT,
        service=SERVICE,
        subjects=[
            mesh.BatchSubject(allowed[1]),
            mesh.BatchSubject(greedy[1], items=["contributions", "benefit"]),
        ],
        items=["contributions"],
    )
    assert reply.answers[0].ok
    assert reply.answers[1].error == "Server.ServerProxy.AccessDenied"
    assert len(picky.requests) == 1
    refused = mesh.records_for_person(session, greedy[0]).records
    assert {r.outcome for r in refused} == {"refused:mesh.access_denied"}


def test_a_batch_is_taken_once(session: Session, picky: Picky) -> None:
    person = person_code(session)
    message_id = f"batch-{uuid.uuid4()}"
    first = mesh.call_batch(
        session,
        client=CLIENT,
        service=SERVICE,
        subjects=[mesh.BatchSubject(person[1])],
        message_id=message_id,
    )
    again = mesh.call_batch(
        session,
        client=CLIENT,
        service=SERVICE,
        subjects=[mesh.BatchSubject(person[1])],
        message_id=message_id,
    )
    assert first.ok
    assert (again.ok, again.status, again.error) == (False, 409, "Client.ReplayedRequest")
    assert len(picky.requests) == 1


@pytest.mark.parametrize(
    "batch",
    [[], "not a list", [{"items": ["contributions"]}], [{"code": 5}], [{"code": "x"}] * 1001],
)
def test_a_malformed_batch_is_refused_naming_the_field(
    session: Session, picky: Picky, batch: object
) -> None:
    entry = next(s for s in mesh.list_subsystems(session) if s.xroad_id == CLIENT)
    token, body = mesh.batch_request(
        client=CLIENT,
        certificate_pem=entry.certificate_pem,
        key=mesh.subsystem_key(CLIENT),
        service=SERVICE,
        subjects=[],
    )
    claims = gateway.unverified_claims(token) | {"batch": batch}
    token = gateway.sign(mesh.subsystem_key(CLIENT), entry.certificate_pem, claims)
    reply = mesh.exchange_batch(session, token=token, body=body)
    assert (reply.status, reply.error) == (400, "Client.BadRequest")
    assert "batch" in (reply.message or "")
    assert picky.requests == []


def test_a_tampered_batch_answer_is_not_released(
    session: Session, picky: Picky, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = person_code(session)
    real = gateway.answer

    def tampering(*args: Any, **kwargs: Any) -> mesh.ProviderAnswer:
        reply = real(*args, **kwargs)
        return mesh.ProviderAnswer(
            reply.status, reply.body.replace(b"contributions", b"x"), reply.signature
        )

    monkeypatch.setattr(gateway, "answer", tampering)
    reply = mesh.call_batch(
        session, client=CLIENT, service=SERVICE, subjects=[mesh.BatchSubject(person[1])]
    )
    assert reply.answers[0].error == "Server.ServerProxy.InvalidResponseSignature"
    assert reply.answers[0].body is None
    records = mesh.records_for_person(session, person[0]).records
    assert {r.outcome for r in records} == {"refused:mesh.invalid_response_signature"}


def test_a_disabled_service_refuses_every_person(session: Session) -> None:
    seen = Seen()
    build(session, seen, enable=False)
    person = person_code(session)
    reply = mesh.call_batch(
        session, client=CLIENT, service=SERVICE, subjects=[mesh.BatchSubject(person[1])]
    )
    assert reply.answers[0].error == "Server.ServerProxy.ServiceDisabled"
    assert seen.requests == []
