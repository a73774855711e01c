"""Applications of a procedure defined only as data: prefill through the mesh, drafts, signed
submission, claims, actions, notices, the journal and its projection."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from kiban.blocks import identity, mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import db
from kiban.platform.models import AuditEntry, OutboxEvent
from tests.blocks.identity.oidc_support import ReaderCard, card_in_reader

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


def test_a_prefilled_fact_cannot_be_typed_again_and_bad_input_changes_nothing(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead
) -> None:
    app = _start(session, resident)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"address": "東京都千代田区九段北1-1"}, "procedures.prefilled_field", "address"),
        ({"nickname": "x"}, "procedures.unknown_field", "nickname"),
        ({"breed": "poodle"}, "procedures.invalid_value", "breed"),
        ({"born_on": "2024-13-01"}, "procedures.invalid_value", "born_on"),
        ({"co_owners": "someone"}, "procedures.invalid_value", "co_owners"),
        ({"dog_name": 7}, "procedures.invalid_value", "dog_name"),
        ({"note": "a\x00b"}, "procedures.invalid_value", "note"),
    ]
    for values, code, field in cases:
        with pytest.raises(KibanError) as exc:
            procedures.do_save_draft(
                session, app.id, values, expected_version=app.version, actor=applicant(resident)
            )
        assert _error(exc) == (code, 422, field)
        session.rollback()
    again = procedures.get_application(session, app.id)
    assert again.version == app.version
    assert again.values == app.values
    assert procedures.prefill_report(session, TOY).retyped_prefilled == 0


def test_someone_else_cannot_act_for_the_applicant(
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
) -> None:
    app = _start(session, resident)
    with pytest.raises(KibanError) as exc:
        procedures.do_save_draft(
            session, app.id, DOG, expected_version=app.version, actor=applicant(spouse)
        )
    assert _error(exc) == ("procedures.not_applicant", 403, "actor")
    with pytest.raises(KibanError) as exc:
        procedures.do_take_action(
            session, app.id, "withdraw", role="official", actor=OFFICER, expected_version=1
        )
    assert _error(exc) == ("procedures.role_not_allowed", 403, "role")


def test_submission_checks_every_field_the_signature_and_the_signer(
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
    card: ReaderCard,
    tmp_path: Any,
) -> None:
    app = _start(session, resident)
    me = applicant(resident)

    # A required field left empty is named.
    signed = sign(card, app)
    with pytest.raises(KibanError) as exc:
        procedures.do_submit(
            session, app.id, expected_version=app.version,
            signing_certificate=signed.certificate, signature=signed.signature, actor=me,
        )  # fmt: skip
    assert _error(exc) == ("procedures.field_required", 422, "dog_name")
    session.rollback()

    # The definition's own validation names its field.
    future = (clock.today_jst() + timedelta(days=3)).isoformat()
    app = procedures.do_save_draft(
        session, app.id, {**DOG, "born_on": future}, expected_version=app.version, actor=me
    )
    session.commit()
    with pytest.raises(KibanError) as exc:
        procedures.do_submit(
            session, app.id, expected_version=app.version,
            signing_certificate=signed.certificate, signature=signed.signature, actor=me,
        )  # fmt: skip
    assert exc.value.field == "born_on"
    session.rollback()
    app = procedures.do_save_draft(session, app.id, DOG, expected_version=app.version, actor=me)
    session.commit()

    # A signature over an earlier version of the form does not verify.
    with pytest.raises(KibanError) as exc:
        procedures.do_submit(
            session, app.id, expected_version=app.version,
            signing_certificate=signed.certificate, signature=signed.signature, actor=me,
        )  # fmt: skip
    assert _error(exc) == ("identity.signature_invalid", 401, "signature")
    session.rollback()

    # Someone else's card, even over the right document, is not the applicant's signature.
    spouse_card = card_in_reader(session, spouse, tmp_path / "spouse-cards")
    theirs = sign(spouse_card, app)
    with pytest.raises(KibanError) as exc:
        procedures.do_submit(
            session, app.id, expected_version=app.version,
            signing_certificate=theirs.certificate, signature=theirs.signature, actor=me,
        )  # fmt: skip
    assert _error(exc) == ("procedures.signer_not_applicant", 403, "signing_certificate")
    session.rollback()

    # An action that must be signed cannot be taken unsigned.
    with pytest.raises(KibanError) as exc:
        procedures.do_take_action(
            session, app.id, "submit", role="applicant", actor=me, expected_version=app.version
        )
    assert _error(exc) == ("procedures.signature_required", 422, "signature")
    session.rollback()
    assert procedures.get_application(session, app.id).state == "draft"

    # The right card over what is shown now is accepted and kept as evidence.
    mine = sign(card, app)
    done = procedures.do_submit(
        session, app.id, expected_version=app.version,
        signing_certificate=mine.certificate, signature=mine.signature, actor=me,
    )  # fmt: skip
    assert done.signature is not None
    assert done.signature.signed_data == procedures.submission_payload(app).decode()
    assert (
        done.signature.document_sha256
        == hashlib.sha256(procedures.submission_document(app)).hexdigest()
    )


def test_a_revoked_signing_certificate_is_refused(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead, card: ReaderCard
) -> None:
    app = _start(session, resident)
    app = procedures.do_save_draft(
        session, app.id, DOG, expected_version=app.version, actor=applicant(resident)
    )
    session.commit()
    signed = sign(card, app)
    held = identity.get_card_by_person(session, resident.id)
    assert held is not None
    identity.report_card_lost(session, held.id, actor=OFFICER)
    session.commit()
    with pytest.raises(KibanError) as exc:
        procedures.do_submit(
            session, app.id, expected_version=app.version,
            signing_certificate=signed.certificate, signature=signed.signature,
            actor=applicant(resident),
        )  # fmt: skip
    assert exc.value.code == "identity.certificate_revoked"


def test_two_officials_cannot_overwrite_each_other(
    session: Session,
    engine: Engine,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    card: ReaderCard,
) -> None:
    app = _submitted(session, resident, card)
    read_version = app.version
    with db.session_factory(engine)() as first, db.session_factory(engine)() as second:
        # Both officials read the same version of the application.
        # (On SQLite every transaction takes the write lock, so each read ends its own.)
        seen_by_first = procedures.get_application(first, app.id)
        first.rollback()
        seen_by_second = procedures.get_application(second, app.id)
        second.rollback()
        assert seen_by_first.version == seen_by_second.version == read_version
        procedures.do_claim_task(first, app.id, official=OFFICER, expected_version=read_version)
        first.commit()
        with pytest.raises(KibanError) as exc:
            procedures.do_claim_task(
                second, app.id, official=OTHER_OFFICER, expected_version=read_version
            )
        assert _error(exc) == ("procedures.version_conflict", 409, "expected_version")
        second.rollback()
        # Reading again, the second official sees the claim and cannot take the task over.
        fresh = procedures.get_application(second, app.id)
        assert fresh.claimed_by == OFFICER
        with pytest.raises(KibanError) as exc:
            procedures.do_claim_task(
                second, app.id, official=OTHER_OFFICER, expected_version=fresh.version
            )
        assert _error(exc) == ("procedures.already_claimed", 409, "official")
        with pytest.raises(KibanError) as exc:
            procedures.do_take_action(
                second, app.id, "approve", role="official", actor=OTHER_OFFICER,
                expected_version=fresh.version,
            )  # fmt: skip
        assert _error(exc) == ("procedures.not_claimed", 409, "actor")
        second.rollback()
        # The holder acting on a stale version is refused too.
        with pytest.raises(KibanError) as exc:
            procedures.do_take_action(
                first, app.id, "approve", role="official", actor=OFFICER,
                expected_version=read_version,
            )  # fmt: skip
        assert exc.value.code == "procedures.version_conflict"
        first.rollback()
    final = procedures.get_application(session, app.id)
    assert final.state == "submitted"
    assert [e.action for e in final.journal][-1] == "claim"


def test_claim_release_and_send_back_with_a_reason(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead, card: ReaderCard
) -> None:
    app = _submitted(session, resident, card)
    app = procedures.do_claim_task(session, app.id, official=OFFICER, expected_version=app.version)
    # Claiming again by the holder is harmless; releasing puts it back in the queue.
    assert (
        procedures.do_claim_task(
            session, app.id, official=OFFICER, expected_version=app.version
        ).version
        == app.version
    )
    app = procedures.do_release_task(
        session, app.id, official=OFFICER, expected_version=app.version
    )
    assert app.claimed_by is None
    with pytest.raises(KibanError) as exc:
        procedures.do_release_task(session, app.id, official=OFFICER, expected_version=app.version)
    assert exc.value.code == "procedures.not_claimed"
    app = procedures.do_claim_task(
        session, app.id, official=OTHER_OFFICER, expected_version=app.version
    )
    with pytest.raises(KibanError) as exc:
        procedures.do_take_action(
            session, app.id, "send_back", role="official", actor=OTHER_OFFICER,
            expected_version=app.version, reason="  ",
        )  # fmt: skip
    assert _error(exc) == ("procedures.reason_required", 422, "reason")
    app = procedures.do_take_action(
        session, app.id, "send_back", role="official", actor=OTHER_OFFICER,
        expected_version=app.version, reason="写真が不鮮明です",
    )  # fmt: skip
    session.commit()
    assert app.state == "returned"
    assert app.journal[-1].reason == "写真が不鮮明です"
    inbox = notifications.list_inbox(session, resident.id)
    assert inbox.items[0].template == "test.dog.sent_back"
    assert "写真が不鮮明です" in inbox.items[0].body_ja
    # A returned application is the applicant's again, not a task.
    assert procedures.list_tasks(session, office=None).total == 0
    with pytest.raises(KibanError) as exc:
        procedures.do_claim_task(session, app.id, official=OFFICER, expected_version=app.version)
    assert exc.value.code == "procedures.not_a_task"
    with pytest.raises(KibanError) as exc:
        procedures.do_take_action(
            session, app.id, "approve", role="official", actor=OFFICER,
            expected_version=app.version,
        )  # fmt: skip
    assert _error(exc) == ("procedures.action_not_allowed", 409, "action")
    # Drafts and returned applications are kept and listed for their applicant.
    page = procedures.list_applications(session, applicant=resident.id, states=["returned"])
    assert [a.id for a in page.items] == [app.id]


def test_the_journal_detects_tampering(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead, card: ReaderCard
) -> None:
    app = _submitted(session, resident, card)
    assert procedures.verify_journal(session, app.id).ok
    session.execute(
        text(
            "UPDATE procedures_actions SET actor = 'person:mallory' "
            "WHERE application_id = :id AND seq = 2"
        ),
        {"id": app.id.hex if session.bind.dialect.name == "sqlite" else app.id},  # type: ignore[union-attr]
    )
    report = procedures.verify_journal(session, app.id)
    assert not report.ok
    assert [p.seq for p in report.problems] == [2]
    session.rollback()

    # A projection that drifts from its journal is noticed as well.
    session.execute(
        text("UPDATE procedures_applications SET state = 'registered' WHERE version = :v"),
        {"v": app.version},
    )
    report = procedures.verify_journal(session, app.id)
    assert any("state" in p.detail for p in report.problems)
    session.rollback()

    # So is a deleted last entry.
    session.execute(text("DELETE FROM procedures_actions WHERE seq = :v"), {"v": app.version})
    report = procedures.verify_journal(session, app.id)
    assert not report.ok
    session.rollback()


def test_the_prefill_report_and_the_timeline(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead, card: ReaderCard
) -> None:
    draft_only = _start(session, resident)
    app = _submitted(session, resident, card)
    report = procedures.prefill_report(session, TOY)
    # One submitted application: name, address, lg_code and the household were prefilled
    # (the resident lives alone here, so the household is empty), three values typed.
    assert report.applications == 1
    assert report.prefilled == 3
    assert report.typed == 3
    assert report.retyped_prefilled == 0
    assert procedures.get_application(session, draft_only.id).timeline.expected_completion is None
    assert app.timeline.sla_days == 7
    assert [s.state for s in app.timeline.steps] == ["draft", "submitted"]


def test_an_incoherent_definition_is_refused_at_registration() -> None:
    from .conftest import toy_definition  # noqa: PLC0415

    with pytest.raises(ValueError, match="unknown states"):
        procedures.register_procedure(
            toy_definition(
                actions=(
                    procedures.ActionDef("go", "進む", "Go", ("draft",), "nowhere", "applicant"),
                )
            )
        )
    with pytest.raises(ValueError, match="reserved"):
        procedures.register_procedure(
            toy_definition(
                code="test.reserved",
                actions=(procedures.ActionDef("claim", "x", "x", ("draft",), "draft", "official"),),
                effects={},
            )
        )
    with pytest.raises(KibanError) as exc:
        procedures.get_procedure("test.never_registered")
    assert exc.value.code == "procedures.procedure_not_found"


def test_of_two_concurrent_writers_the_database_lets_one_through(
    session: Session,
    engine: Engine,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    card: ReaderCard,
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writing transaction at a time; PostgreSQL shows the race")
    app = _submitted(session, resident, card)
    with db.session_factory(engine)() as first, db.session_factory(engine)() as second:
        # Both transactions are open and have read the same version when the first writes.
        procedures.get_application(first, app.id)
        procedures.get_application(second, app.id)
        procedures.do_claim_task(first, app.id, official=OFFICER, expected_version=app.version)
        first.commit()
        # The second still holds its stale read; the conditional update finds no row.
        with pytest.raises(KibanError) as exc:
            procedures.do_claim_task(
                second, app.id, official=OTHER_OFFICER, expected_version=app.version
            )
        assert exc.value.code == "procedures.version_conflict"
        second.rollback()
    final = procedures.get_application(session, app.id)
    assert final.claimed_by == OFFICER
    assert procedures.verify_journal(session, app.id).ok


def test_household_members_are_named_by_the_procedures_own_codes(
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
) -> None:
    app = _start(session, resident)
    (member,) = app.values["household"]
    register = mesh.BASIC_FOUR_SERVICE.rsplit("/", 1)[0]
    # The code the register knows the spouse by never reaches the procedures service.
    assert member["code"] == mesh.agency_code(session, procedures.SUBSYSTEM, spouse.id)
    assert member["code"] != mesh.agency_code(session, register, spouse.id)
    assert member["relationship"] == "夫"
    with pytest.raises(KibanError) as exc:
        procedures.household_member_id(
            session, resident.id, mesh.agency_code(session, register, spouse.id)
        )
    assert exc.value.field == "people"


def test_each_household_member_sees_the_prefill_that_disclosed_them(
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
) -> None:
    # Given a resident whose spouse lives in the same household,
    # when the resident starts an application prefilled from the household service,
    app = _start(session, resident)
    (source,) = [f.source for f in app.fields if f.name == "household" and f.source is not None]
    register = mesh.HOUSEHOLD_SERVICE.rsplit("/", 1)[0]
    # then the spouse, whose name and birth date the procedures service received, finds the
    # exchange in their own records: the procedures block asked, the register provided.
    records = mesh.records_for_person(session, spouse.id, limit=100).records
    theirs = {r.side: r for r in records if r.message_id == source.message_id}
    assert set(theirs) == {"requester", "provider"}
    assert (theirs["requester"].member, theirs["requester"].counterpart) == (
        procedures.SUBSYSTEM,
        register,
    )
    assert (theirs["provider"].member, theirs["provider"].counterpart) == (
        register,
        procedures.SUBSYSTEM,
    )
    for record in theirs.values():
        assert record.service == mesh.HOUSEHOLD_SERVICE
        assert {"name", "birth_date"} <= set(record.items)
        assert record.items == list(mesh.HOUSEHOLD_MEMBER_ITEMS)
        assert mesh.HOUSEHOLD_LEGAL_BASIS in (record.legal_basis or "")
        assert record.outcome == "ok"
    # Each side names the spouse by its own code, the one the form carries on the requester's.
    assert theirs["requester"].agency_code == app.values["household"][0]["code"]
    assert theirs["provider"].agency_code == mesh.agency_code(session, register, spouse.id)
    # The same exchange as the applicant's own record of it, and the log still verifies.
    (applicants,) = [
        r
        for r in mesh.records_for_person(session, resident.id, limit=100).records
        if r.message_id == source.message_id and r.side == "requester"
    ]
    assert theirs["requester"].request_hash == applicants.request_hash
    assert theirs["requester"].response_hash == applicants.response_hash
    assert mesh.verify_log(session).ok


def test_an_action_s_data_is_bounded_before_it_reaches_the_journal(
    session: Session, toy: procedures.ProcedureDef, resident: residents.PersonRead, card: ReaderCard
) -> None:
    """Issue 13, item 12: a task's ``data`` of megabytes was appended to the journal."""
    app = _submitted(session, resident, card)
    app = procedures.do_claim_task(session, app.id, official=OFFICER, expected_version=app.version)
    session.commit()
    with pytest.raises(KibanError) as exc:
        procedures.do_take_action(
            session,
            app.id,
            "approve",
            role="official",
            actor=OFFICER,
            expected_version=app.version,
            data={"note": "記" * 6000},  # 18,000 bytes as UTF-8.
        )
    assert _error(exc) == ("procedures.invalid_value", 422, "data")
    session.rollback()
    assert len(procedures.get_application(session, app.id).journal) == len(app.journal)
