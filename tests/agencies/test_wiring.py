"""The reference agencies on the mesh: enrolment through the register's service, exchanges under
grants (and refusals without one), address changes delivered to the agencies."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import wiring
from kiban.blocks import mesh, residents
from kiban.platform import db, events


def _country(engine: Engine) -> list[residents.PersonRead]:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=4)
        wiring.register_reference_agencies(session)
        wiring.register_reference_agencies(session)  # Idempotent.
    with db.transaction(engine) as session:
        people = residents.list_people(session, limit=12)
        made = wiring.enrol_through_mesh(session, [p.id for p in people], seed=4)
        assert made["insurer"] == len(people)
        assert 0 < made["pension"] <= len(people)
        customers = [wiring.Customer(p.id, p.birth_date, p.address.text) for p in people]
        companies = wiring.enrol_customers(session, customers, seed=4)
        assert companies["bank"] > 0
    return people


def test_enrolment_goes_through_the_mesh_and_is_recorded(engine: Engine) -> None:
    people = _country(engine)
    with db.transaction(engine) as session:
        insurer = agencies.get_agency("insurer")
        person = people[0]
        code = mesh.agency_code(session, insurer.subsystem, person.id)
        row = agencies.get_record(session, insurer, code)
        assert row is not None
        assert row.address == person.address.text
        # Codes differ across agencies.
        assert code != mesh.agency_code(session, agencies.get_agency("tax").subsystem, person.id)
        page = mesh.records_for_person(session, person.id)
        services = {r.service for r in page.records}
        assert mesh.BASIC_FOUR_SERVICE in services


def test_exchanges_under_grants_and_refusals_without(engine: Engine) -> None:
    people = _country(engine)
    pension, tax, bank = (agencies.get_agency(n) for n in ("pension", "tax", "bank"))
    with db.transaction(engine) as session:
        adult = next(
            p
            for p in people
            if agencies.get_record(
                session, pension, mesh.agency_code(session, pension.subsystem, p.id)
            )
        )
        code = mesh.agency_code(session, pension.subsystem, adult.id)
        ok = mesh.call(
            session,
            client=pension.subsystem,
            service=f"{tax.subsystem}/income",
            agency_code=code,
            items=["year", "total_income_yen"],
        )
        assert ok.ok, ok.message
        assert set(ok.body) == {"year", "total_income_yen"}
        direct = agencies.provide(
            session,
            tax,
            "income",
            mesh.agency_code(session, tax.subsystem, adult.id),
            ["year", "total_income_yen"],
        )
        assert ok.body == direct
        # An item outside the grant, and a client without any grant, are refused.
        wider = mesh.call(
            session,
            client=pension.subsystem,
            service=f"{tax.subsystem}/income",
            agency_code=code,
            items=["salary_income_yen"],
        )
        assert wider.error == "Server.ServerProxy.AccessDenied"
        stranger = mesh.call(
            session,
            client=bank.subsystem,
            service=f"{tax.subsystem}/income",
            agency_code=mesh.agency_code(session, bank.subsystem, adult.id),
            items=["year"],
        )
        assert not stranger.ok
    with db.transaction(engine) as session:
        outcomes = [r.outcome for r in mesh.records_for_person(session, adult.id).records]
        assert "ok" in outcomes
        assert any(o.startswith("refused:") for o in outcomes)


def test_a_move_reaches_the_agencies_through_their_subscriptions(engine: Engine) -> None:
    people = _country(engine)
    mover, elsewhere = people[0], people[5]
    with db.transaction(engine) as session:
        moved = residents.move_within(
            session,
            mover.id,
            residents.MoveWithinCreate(
                moved_on=date(2026, 6, 1),
                address=residents.AddressInput(
                    town_id=elsewhere.address.town_id, block_number="9-9"
                ),
            ),
            actor="official:test",
        )
    events.deliver_pending(engine)  # With NATS configured, no relay runs in the test.
    with Session(engine) as session:
        mesh.deliver_due(session)
        session.commit()
    with db.transaction(engine) as session:
        insurer = agencies.get_agency("insurer")
        row = agencies.get_record(
            session, insurer, mesh.agency_code(session, insurer.subsystem, mover.id)
        )
        assert row is not None
        assert row.address == moved.address.text != mover.address.text
        bank = agencies.get_agency("bank")
        account = agencies.get_record(
            session, bank, mesh.agency_code(session, bank.subsystem, mover.id)
        )
        # The bank subscribes too, but without the customer's consent it is told nothing.
        assert account is None or account.address == mover.address.text


MOVE_IN_A_FRESH_PROCESS = """
import sys, uuid
from datetime import date
from kiban.blocks import residents
from kiban.platform import db, events

events.load_subscribers()
with db.transaction() as session:
    residents.move_within(
        session,
        uuid.UUID(sys.argv[1]),
        residents.MoveWithinCreate(
            moved_on=date(2026, 7, 1),
            address=residents.AddressInput(town_id=uuid.UUID(sys.argv[2]), block_number="7-7"),
        ),
        actor="official:test",
    )
events.deliver_pending(db.get_engine())  # With NATS configured, no relay runs in the test.
"""


def test_a_fresh_process_serves_the_agencies_after_loading_subscribers(engine: Engine) -> None:
    people = _country(engine)
    mover, elsewhere = people[1], people[6]
    # A new process (a web worker, `kiban events work`) knows nothing of the agencies until it
    # loads the subscribers; then the move reaches the insurer, which asks for the new address.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MOVE_IN_A_FRESH_PROCESS,
            str(mover.id),
            str(elsewhere.address.town_id),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with db.transaction(engine) as session:
        insurer = agencies.get_agency("insurer")
        row = agencies.get_record(
            session, insurer, mesh.agency_code(session, insurer.subsystem, mover.id)
        )
        assert row is not None
        assert row.address == residents.get_person(session, mover.id).address.text
        assert row.address != mover.address.text


def test_a_death_revokes_the_licence_through_the_mesh(engine: Engine) -> None:
    people = _country(engine)
    licence = agencies.get_agency("licence")
    with db.transaction(engine) as session:
        holder = next(
            p
            for p in people
            if agencies.get_record(
                session, licence, mesh.agency_code(session, licence.subsystem, p.id)
            )
        )
        code = mesh.agency_code(session, licence.subsystem, holder.id)
        before = agencies.provide(session, licence, "licence-status", code, ["status"])
        assert before["status"] != "revoked"
    with db.transaction(engine) as session:
        residents.record_death(
            session, holder.id, residents.DeathCreate(died_on=date(2026, 6, 2)), actor="official:t"
        )
    events.deliver_pending(engine)
    with db.transaction(engine) as session:
        after = agencies.provide(session, licence, "licence-status", code, ["status"])
        assert after == {"status": "revoked"}


def test_the_batch_answer_of_the_register_is_each_persons_single_answer(engine: Engine) -> None:
    # Given people enrolled with the agencies through batch exchanges,
    people = _country(engine)
    tax = agencies.get_agency("tax")
    with db.transaction(engine) as session:
        agency_codes = mesh.agency_codes(session, tax.subsystem, [p.id for p in people])
        # when the tax office asks the register about them in one batch and one by one,
        batch = mesh.call_batch(
            session,
            client=tax.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            subjects=[mesh.BatchSubject(code) for code in agency_codes]
            + [mesh.BatchSubject("NOBODY00000000000000000000000000")],
            items=list(wiring.ENROL_ITEMS),
        )
        singles = [
            mesh.call(
                session,
                client=tax.subsystem,
                service=mesh.BASIC_FOUR_SERVICE,
                agency_code=code,
                items=list(wiring.ENROL_ITEMS),
            )
            for code in agency_codes
        ]
        # then each person's part of the batch is what their own exchange answered,
        assert [a.body for a in batch.answers[:-1]] == [s.body for s in singles]
        assert batch.answers[-1].error == "Server.ServerProxy.UnknownAgencyCode"
        # and each person finds the batch in their records, on both sides, once.
        for person in people:
            mine = [
                r
                for r in mesh.records_for_person(session, person.id, limit=100).records
                if r.message_id == batch.message_id
            ]
            assert sorted(r.side for r in mine) == ["provider", "requester"]
            assert {r.outcome for r in mine} == {"ok"}
