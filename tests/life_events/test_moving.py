"""Moving house through the facades: filed once online, known everywhere.

A resident files a moving-out notice to another municipality (prefilled, signed with the card),
the old office accepts it, the moving packet reaches the new office through the mesh, the
resident reserves a visit, the new office completes the move-in; then the agencies hold the new
address under their own codes, the consenting company too and the other one not, the signing
certificate is revoked, and the inbox tells each step.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.blocks import identity, mesh, notifications, procedures, residents
from kiban.cli.card import issue_into
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events import moving
from kiban.platform import events
from kiban.platform.db import transaction

from .journey import (
    AUTH_PIN,
    NEW_ADDRESS,
    NEW_LG,
    OLD_LG,
    SIGNING_PIN,
    Family,
    act_as_official,
    build_family,
    sign_and_submit,
)


def _deliver(engine: Engine) -> None:
    """Events, then the mesh's deliveries to the agencies, then what those caused."""
    for _ in range(3):
        events.deliver_pending(engine)
        with Session(engine) as session:
            mesh.deliver_due(session)
            session.commit()


def test_a_move_to_another_municipality_end_to_end(engine: Engine, tmp_path: Path) -> None:
    # Every block's reactions (identity revokes the signing certificate on a move) register
    # before the first commit, as the web server's start-up does.
    events.load_subscribers()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards")
    applicant, spouse = family.applicant, family.spouse
    actor = procedures.actor_of(applicant.id)

    # The resident starts the notice: everything the register holds is already there.
    with transaction(engine) as session:
        draft = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=applicant.id, actor=actor
        )
        assert draft.values["name"] == applicant.full_name
        assert draft.values["address"] == applicant.address.text
        assert draft.values["lg_code"] == OLD_LG
        household = draft.values["household"]
        assert [m["name"] for m in household] == [spouse.full_name]
        sources = {f.name: f.source for f in draft.fields if f.source is not None}
        assert sources["address"].registry_en == "Resident register"
        # The spouse's name and birth date went to the procedures service: the spouse sees it.
        disclosed = [
            (r.side, r.member, r.items)
            for r in mesh.records_for_person(session, spouse.id, limit=100).records
            if r.message_id == sources["household"].message_id
        ]
        items = list(mesh.HOUSEHOLD_MEMBER_ITEMS)
        assert {"name", "birth_date"} <= set(items)
        assert sorted(disclosed) == [
            ("provider", mesh.HOUSEHOLD_SERVICE.rsplit("/", 1)[0], items),
            ("requester", procedures.SUBSYSTEM, items),
        ]
        # A prefilled fact cannot be typed again.
        with pytest.raises(KibanError) as refused:
            procedures.do_save_draft(
                session, draft.id, {"name": "x"}, expected_version=draft.version, actor=actor
            )
        assert refused.value.code == "procedures.prefilled_field"
    with transaction(engine) as session:
        draft = procedures.do_save_draft(
            session,
            draft.id,
            {
                "movers": [household[0]["code"]],
                "destination": moving.place_destination(session, NEW_ADDRESS).text,
                "moved_on": clock.today_jst().isoformat(),
            },
            expected_version=draft.version,
            actor=actor,
        )
        submitted = sign_and_submit(session, family, draft)
        assert submitted.state == "submitted"
        assert submitted.office == OLD_LG
        assert submitted.signature is not None
        assert submitted.signature.revocation_status == "good"
        assert submitted.timeline.expected_completion is not None

    # A packet citing a notice the old office has not accepted is refused by the new office.
    with transaction(engine) as session:
        early = moving.offices.send_packet(
            session,
            from_lg_code=OLD_LG,
            to_lg_code=NEW_LG,
            person_id=applicant.id,
            data={"reference": str(submitted.id), "name": applicant.full_name},
            actor="official:test",
        )
        assert early.status == 404
        assert early.body["error"] == "moving.packet_unknown"
        assert procedures.list_applications(session, code=moving.MOVE_IN).total == 0

    # The old office sees the task and accepts it; the packets reach the new office.
    with transaction(engine) as session:
        tasks = procedures.list_tasks(session, office=OLD_LG)
        assert [t.id for t in tasks.items] == [submitted.id]
        assert procedures.list_tasks(session, office=NEW_LG).items == []
        approved = act_as_official(session, submitted.id, "approve", OLD_LG)
        assert approved.state == "approved"
        assert residents.get_person(session, applicant.id).status == residents.Status.MOVED_OUT
        assert residents.get_person(session, spouse.id).status == residents.Status.MOVED_OUT
        move_in_id = approved.outputs["move_in_application"]
        assert len(approved.outputs["packets"]) == 2

    with transaction(engine) as session:
        move_in = procedures.get_application(session, uuid.UUID(str(move_in_id)))
        assert move_in.code == moving.MOVE_IN
        assert move_in.applicant_id == applicant.id
        assert move_in.state == "awaiting_reservation"
        assert move_in.office == NEW_LG
        packets = move_in.outputs["packets"]
        # Within seconds, not hours: the packets arrived in the acceptance's own transaction.
        accepted_at = next(e.at for e in approved.journal if e.action == "approve")
        received_at = [e.at for e in move_in.journal if e.action == "receive_packet"]
        assert len(received_at) == 2
        assert all(0 <= (at - accepted_at).total_seconds() < 5 for at in received_at)
        assert {p["name"] for p in packets} == {applicant.full_name, spouse.full_name}
        assert all(p["from_office"] == f"JP/MUN/{OLD_LG}/juki" for p in packets)
        # Each mover sees the exchange between the offices in their own access records.
        for person in (applicant, spouse):
            sent = [
                r
                for r in mesh.records_for_person(session, person.id, limit=100).records
                if r.service == f"JP/MUN/{NEW_LG}/juki/moving-packet"
            ]
            assert {r.side for r in sent} == {"requester", "provider"}
            assert all("住民基本台帳法第24条の2" in (r.legal_basis or "") for r in sent)

    # Moved out but not yet moved in: another notice is refused until the move-in is done.
    with transaction(engine) as session:
        again = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=applicant.id, actor=actor
        )
        again = procedures.do_save_draft(
            session,
            again.id,
            {
                "destination": moving.place_destination(session, NEW_ADDRESS).text,
                "moved_on": clock.today_jst().isoformat(),
            },
            expected_version=again.version,
            actor=actor,
        )
        with pytest.raises(KibanError) as not_resident:
            sign_and_submit(session, family, again)
        assert not_resident.value.code == "moving.not_resident"
        session.rollback()

    with transaction(engine) as session:
        move_in = procedures.get_application(session, uuid.UUID(str(move_in_id)))
        # The resident reserves a visit at the new office.
        slot = moving.slot_value(moving.offered_slots()[0])
        reserving = procedures.do_save_draft(
            session,
            move_in.id,
            {"slot": "2000-01-01T03:00"},
            expected_version=move_in.version,
            actor=actor,
        )
        with pytest.raises(KibanError) as bad_slot:
            procedures.do_take_action(
                session,
                move_in.id,
                "reserve",
                role="applicant",
                actor=actor,
                expected_version=reserving.version,
            )
        assert bad_slot.value.code == "moving.slot_invalid"
    with transaction(engine) as session:
        move_in = procedures.get_application(session, uuid.UUID(str(move_in_id)))
        reserving = procedures.do_save_draft(
            session, move_in.id, {"slot": slot}, expected_version=move_in.version, actor=actor
        )
        reserved = procedures.do_take_action(
            session,
            move_in.id,
            "reserve",
            role="applicant",
            actor=actor,
            expected_version=reserving.version,
        )
        assert reserved.state == "reserved"
        assert [t.id for t in procedures.list_tasks(session, office=NEW_LG).items] == [move_in.id]

    # The new office completes the move-in: both live at the new address, in one household.
    with transaction(engine) as session:
        completed = act_as_official(session, move_in.id, "complete", NEW_LG)
        assert completed.state == "completed"
        assert procedures.verify_journal(session, completed.id).ok
        assert procedures.verify_journal(session, submitted.id).ok
    _deliver(engine)

    with transaction(engine) as session:
        moved = residents.get_person(session, applicant.id)
        partner = residents.get_person(session, spouse.id)
        assert moved.status == residents.Status.RESIDENT
        assert moved.address.lg_code == NEW_LG
        assert moved.address.text.startswith("北海道札幌市中央区北一条西二丁目")
        assert partner.household_id == moved.household_id
        assert partner.relationship == "妻"
        assert moved.relationship == "世帯主"

        # The agencies hold the new address under their own codes.
        for name in ("pension", "insurer", "licence", "tax", "bank"):
            agency = agencies.get_agency(name)
            record = agencies.get_record(
                session, agency, mesh.agency_code(session, agency.subsystem, applicant.id)
            )
            assert record is not None, name
            assert record.address == moved.address.text, name
        # The electricity company had no consent: it keeps the old address.
        electricity = agencies.get_agency("electricity")
        contract = agencies.get_record(
            session,
            electricity,
            mesh.agency_code(session, electricity.subsystem, applicant.id),
        )
        assert contract is not None
        assert contract.address == applicant.address.text

        # The signing certificate was revoked because the address changed; sign-in still works.
        card = identity.get_card_by_person(session, applicant.id)
        assert card is not None
        assert card.signing_certificate.status == "revoked"
        assert card.signing_certificate.revocation_reason == "affiliationChanged"
        assert card.auth_certificate.status == "good"

        # The inbox told each step.
        inbox = notifications.list_inbox(session, applicant.id, limit=50)
        templates = [n.template for n in inbox.items]
        for template in (
            moving.notices.MOVE_OUT_RECEIVED,
            moving.notices.MOVE_OUT_APPROVED,
            moving.notices.MOVE_IN_RESERVED,
            moving.notices.MOVE_IN_COMPLETED,
            moving.notices.SIGNING_REVOKED,
        ):
            assert templates.count(template) == 1, template

        # Once-only: nothing a registry held was typed again.
        report = procedures.prefill_report(session, moving.MOVE_OUT)
        assert report.applications == 1
        assert report.prefilled >= 5
        assert report.retyped_prefilled == 0

        # Who used my data: the agencies and the consenting bank fetched the new address.
        members = {
            r.member
            for r in mesh.records_for_person(session, applicant.id, limit=100).records
            if r.service == mesh.BASIC_FOUR_SERVICE and r.side == "requester" and r.outcome == "ok"
        }
        for name in ("pension", "insurer", "licence", "tax", "bank"):
            assert agencies.get_agency(name).subsystem in members, name
        assert electricity.subsystem not in members


def test_when_the_head_moves_too_the_new_household_keeps_its_head(
    engine: Engine, tmp_path: Path
) -> None:
    events.load_subscribers()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
        # The wife files the notice with her own card and takes her husband, the head, along.
        wife_card = issue_into(
            session,
            family.store,
            family.spouse.id,
            auth_pin=AUTH_PIN,
            signing_pin=SIGNING_PIN,
            actor="t",
        )
    wife = Family(family.spouse, family.applicant, wife_card, family.store)
    actor = procedures.actor_of(wife.applicant.id)
    with transaction(engine) as session:
        draft = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=wife.applicant.id, actor=actor
        )
        head = draft.values["household"][0]
        assert head["relationship"] == "世帯主"
        draft = procedures.do_save_draft(
            session,
            draft.id,
            {
                "movers": [head["code"]],
                "destination": moving.place_destination(session, NEW_ADDRESS).text,
                "moved_on": clock.today_jst().isoformat(),
            },
            expected_version=draft.version,
            actor=actor,
        )
        submitted = sign_and_submit(session, wife, draft)
        approved = act_as_official(session, submitted.id, "approve", OLD_LG)
        move_in_id = uuid.UUID(str(approved.outputs["move_in_application"]))
        move_in = procedures.get_application(session, move_in_id)
        assert move_in.applicant_id == wife.applicant.id
        move_in = procedures.do_save_draft(
            session,
            move_in_id,
            {"slot": moving.slot_value(moving.offered_slots()[-1])},
            expected_version=move_in.version,
            actor=actor,
        )
        procedures.do_take_action(
            session,
            move_in_id,
            "reserve",
            role="applicant",
            actor=actor,
            expected_version=move_in.version,
        )
        act_as_official(session, move_in_id, "complete", NEW_LG)
    with transaction(engine) as session:
        husband = residents.get_person(session, family.applicant.id)
        spouse = residents.get_person(session, family.spouse.id)
        assert husband.address.lg_code == spouse.address.lg_code == NEW_LG
        assert husband.household_id == spouse.household_id
        assert husband.relationship == "世帯主"
        assert spouse.relationship == "妻"
