"""Applications of a procedure defined only as data: prefill through the mesh, drafts, signed
submission, claims, actions, notices, the journal and its projection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.models import AuditEntry, OutboxEvent
from tests.blocks.identity.oidc_support import ReaderCard

from .conftest import TOY, applicant, sign

OFFICER = "official:chiyoda-1"
OTHER_OFFICER = "official:chiyoda-2"
DOG = {"dog_name": "ポチ", "breed": "shiba", "born_on": "2024-05-05"}


def _start(session: Session, person: residents.PersonRead) -> procedures.ApplicationRead:
    app = procedures.do_start_application(
        session, TOY, applicant=person.id, actor=applicant(person)
    )
    session.commit()
    return app


def _submitted(
    session: Session, person: residents.PersonRead, card: ReaderCard
) -> procedures.ApplicationRead:
    app = _start(session, person)
    app = procedures.do_save_draft(
        session, app.id, DOG, expected_version=app.version, actor=applicant(person)
    )
    signed = sign(card, app)
    app = procedures.do_submit(
        session,
        app.id,
        expected_version=app.version,
        signing_certificate=signed.certificate,
        signature=signed.signature,
        actor=applicant(person),
    )
    session.commit()
    return app


def _error(exc: pytest.ExceptionInfo[KibanError]) -> tuple[str, int, str | None]:
    return exc.value.code, exc.value.status, exc.value.field


def test_a_procedure_defined_only_as_data_runs_from_draft_to_registration(
    session: Session,
    engine: Engine,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
    card: ReaderCard,
) -> None:
    # Given a procedure the engine has never heard of, registered as a definition.
    assert procedures.get_procedure(TOY) is toy

    # When the resident starts it, the register's facts are already filled in, with sources.
    app = _start(session, resident)
    assert app.state == "draft"
    assert app.version == 1
    assert app.values["name"] == resident.full_name
    assert app.values["address"] == resident.address.text
    assert app.office == resident.address.lg_code
    source = next(f for f in app.fields if f.name == "address").source
    assert source is not None
    assert source.registry_ja == "住民基本台帳"
    assert source.service == mesh.BASIC_FOUR_SERVICE
    assert source.message_id
    household = app.values["household"]
    assert [m["name"] for m in household] == [spouse.full_name]
    assert procedures.household_member_id(session, resident.id, household[0]["code"]) == spouse.id

    # The resident types only what no registry holds, chooses a co-owner, and signs.
    app = procedures.do_save_draft(
        session,
        app.id,
        {**DOG, "co_owners": [household[0]["code"]]},
        expected_version=app.version,
        actor=applicant(resident),
    )
    signed = sign(card, app)
    app = procedures.do_submit(
        session,
        app.id,
        expected_version=app.version,
        signing_certificate=signed.certificate,
        signature=signed.signature,
        actor=applicant(resident),
    )
    session.commit()
    assert app.state == "submitted"
    assert app.signature is not None
    assert app.signature.revocation_status == "good"
    card_now = procedures_card(session, resident)
    assert app.signature.serial == card_now
    assert app.timeline.expected_completion == (
        clock.to_jst(app.submitted_at).date() + timedelta(days=7)  # type: ignore[arg-type]
    )

    # An official claims the task from the municipality's queue and registers the dog.
    queue = procedures.list_tasks(session, office=resident.address.lg_code)
    assert [t.id for t in queue.items] == [app.id]
    assert procedures.list_tasks(session, office="999999").total == 0
    app = procedures.do_claim_task(session, app.id, official=OFFICER, expected_version=app.version)
    app = procedures.do_take_action(
        session, app.id, "approve", role="official", actor=OFFICER, expected_version=app.version
    )
    session.commit()

    # Then it is registered, the effect's output is kept, and the queue is empty.
    assert app.state == "registered"
    assert app.final
    assert app.claimed_by is None
    assert app.outputs == {"tag_number": f"D-{str(app.id)[:8]}"}
    assert app.timeline.completed_at is not None
    assert [s.action for s in app.timeline.steps] == ["start", "submit", "approve"]
    assert procedures.list_tasks(session, office=resident.address.lg_code).total == 0
    assert [e.action for e in app.journal] == [
        "start", "save", "submit", "claim", "approve", "effect",
    ]  # fmt: skip

    # The inbox holds a notice for each step that concerns the applicant.
    inbox = notifications.list_inbox(session, resident.id)
    assert [n.template for n in inbox.items] == ["test.dog.registered", "test.dog.submitted"]
    assert f"D-{str(app.id)[:8]}" in inbox.items[0].body_ja
    assert "ポチ" in inbox.items[1].body_ja

    # The journal verifies and its fold is the projection.
    report = procedures.verify_journal(session, app.id)
    assert report.ok, report.problems
    assert procedures.fold(app.journal) == procedures.projection_of(app)

    # Every action left an audit entry and an outbox event.
    tags = session.scalars(
        select(AuditEntry.tag).where(AuditEntry.subject == str(app.id)).order_by(AuditEntry.seq)
    ).all()
    assert tags == [procedures.audit_tag(e.action) for e in app.journal]
    topics = session.scalars(select(OutboxEvent.topic).where(OutboxEvent.key == str(app.id))).all()
    assert sorted(topics) == sorted(procedures.topic(e.action) for e in app.journal)


def procedures_card(session: Session, person: residents.PersonRead) -> str:
    from kiban.blocks import identity  # noqa: PLC0415

    card = identity.get_card_by_person(session, person.id)
    assert card is not None
    return card.signing_certificate.serial


def test_the_prefill_shows_in_the_persons_access_records(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead
) -> None:
    app = _start(session, resident)
    sources = {f.source.message_id for f in app.fields if f.source is not None}
    records = mesh.records_for_person(session, resident.id, limit=100).records
    mine = [r for r in records if r.message_id in sources]
    assert mine, "the prefill exchange is in the person's access records"
    assert {r.service for r in mine} == {mesh.BASIC_FOUR_SERVICE, mesh.HOUSEHOLD_SERVICE}
    assert {r.member for r in mine if r.side == "requester"} == {procedures.SUBSYSTEM}
    bases = {r.service: r.legal_basis or "" for r in mine}
    assert mesh.BASIC_FOUR_LEGAL_BASIS in bases[mesh.BASIC_FOUR_SERVICE]
    assert mesh.HOUSEHOLD_LEGAL_BASIS in bases[mesh.HOUSEHOLD_SERVICE]
