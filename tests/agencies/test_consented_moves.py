"""Companies learn of a move only with the person's consent: the bank and the electricity company
subscribe to address changes like the government agencies, but the mesh delivers to a company
only under an active consent covering the address, the company fetches the new address through
the gateway under that consent, and a revocation stops the next delivery."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import wiring
from kiban.blocks import mesh, residents
from kiban.blocks.mesh import subscribers
from kiban.kernel import clock
from kiban.platform import db, events

BANK, ELECTRICITY = agencies.get_agency("bank"), agencies.get_agency("electricity")


def _country(engine: Engine) -> list[residents.PersonRead]:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=4)
        wiring.register_reference_agencies(session)
    with db.transaction(engine) as session:
        people = residents.list_people(session, limit=40)
        wiring.enrol_through_mesh(session, [p.id for p in people], seed=4)
        customers = [wiring.Customer(p.id, p.birth_date, p.address.text) for p in people]
        wiring.enrol_customers(session, customers, seed=4)
    return people


def _address_at(session: Session, agency: agencies.Agency, person_id: uuid.UUID) -> str:
    row = agencies.get_record(
        session, agency, mesh.agency_code(session, agency.subsystem, person_id)
    )
    assert row is not None, f"{agency.name} does not know the person"
    return row.address


def _customer_of_both(engine: Engine, people: list[residents.PersonRead]) -> residents.PersonRead:
    with Session(engine) as session:
        for person in people:
            if all(
                agencies.get_record(
                    session, company, mesh.agency_code(session, company.subsystem, person.id)
                )
                for company in (BANK, ELECTRICITY)
            ):
                return person
    raise AssertionError("no customer of both companies among the seeded people")


def _move(
    engine: Engine, person: residents.PersonRead, town_of: residents.PersonRead, block: str
) -> str:
    with db.transaction(engine) as session:
        moved = residents.move_within(
            session,
            person.id,
            residents.MoveWithinCreate(
                moved_on=clock.today_jst(),
                address=residents.AddressInput(town_id=town_of.address.town_id, block_number=block),
            ),
            actor="official:test",
        )
    events.deliver_pending(engine)  # With NATS configured, no relay runs in the test.
    return moved.address.text


def _deliveries(session: Session, company: agencies.Agency) -> list[mesh.DeliveryRead]:
    return mesh.list_deliveries(session, subsystem=company.subsystem)


def test_only_the_consenting_company_receives_the_new_address(engine: Engine) -> None:
    people = _country(engine)
    mover = _customer_of_both(engine, people)
    elsewhere = next(p for p in people if p.address.town_id != mover.address.town_id)
    # Given a customer of both companies who consented to the bank's address updates only,
    with db.transaction(engine) as session:
        consent = wiring.consent_to_address_updates(
            session, mover.id, "bank", actor=f"person:{mover.id}"
        )
    # when they move,
    new_address = _move(engine, mover, elsewhere, "7-7")
    with Session(engine) as session:
        # then the bank holds the new address under its own code,
        assert _address_at(session, BANK, mover.id) == new_address != mover.address.text
        # the electricity company still has the old one and was sent nothing,
        assert _address_at(session, ELECTRICITY, mover.id) == mover.address.text
        assert _deliveries(session, ELECTRICITY) == []
        (delivery,) = _deliveries(session, BANK)
        assert (delivery.status, delivery.agency_code) == (
            "delivered",
            mesh.agency_code(session, BANK.subsystem, mover.id),
        )
        # and the person's records show the bank's delivery and fetch under the consent, and
        # nothing at all with the electricity company.
        mine = mesh.records_for_person(session, mover.id, today=clock.today_jst()).records
        with_bank = {
            (r.service, r.consent_id, r.outcome) for r in mine if r.member == BANK.subsystem
        }
        assert with_bank == {
            (f"{subscribers.PUBLISHER}/{subscribers.EVENTS_SERVICE}", consent.id, "ok"),
            (mesh.BASIC_FOUR_SERVICE, consent.id, "ok"),
        }
        assert not [r for r in mine if ELECTRICITY.subsystem in (r.member, r.counterpart)]
        # The government agencies were told as before, under the law and without consent.
        assert _address_at(session, agencies.get_agency("insurer"), mover.id) == new_address


def test_after_revocation_the_company_is_told_nothing_more(engine: Engine) -> None:
    people = _country(engine)
    mover = _customer_of_both(engine, people)
    towns = [p for p in people if p.address.town_id != mover.address.town_id]
    with db.transaction(engine) as session:
        consent = wiring.consent_to_address_updates(
            session, mover.id, "electricity", actor=f"person:{mover.id}"
        )
    first = _move(engine, mover, towns[0], "1-1")
    with db.transaction(engine) as session:
        assert _address_at(session, ELECTRICITY, mover.id) == first
        mesh.set_consent_status(session, consent.id, "revoked", actor=f"person:{mover.id}")
    second = _move(engine, mover, mover, "2-2")
    with Session(engine) as session:
        assert second != first
        assert _address_at(session, ELECTRICITY, mover.id) == first
        assert _address_at(session, agencies.get_agency("pension"), mover.id) == second
        assert len(_deliveries(session, ELECTRICITY)) == 1
        # Asking anyway is refused by the gateway, and the refusal is recorded.
        refused = mesh.call(
            session,
            client=ELECTRICITY.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            agency_code=mesh.agency_code(session, ELECTRICITY.subsystem, mover.id),
            items=["address"],
        )
        session.commit()
        assert refused.error_code == "mesh.consent_not_active"


def test_a_pending_company_delivery_is_cancelled_when_the_consent_ends(engine: Engine) -> None:
    people = _country(engine)
    mover = _customer_of_both(engine, people)
    with db.transaction(engine) as session:
        consent = wiring.consent_to_address_updates(
            session, mover.id, "bank", actor=f"person:{mover.id}"
        )
        # The register's service is down for a while, so every delivery's fetch fails.
        mesh.disable_service(session, mesh.BASIC_FOUR_SERVICE, actor="operator:test")
    _move(engine, mover, mover, "3-3")
    with db.transaction(engine) as session:
        (pending,) = _deliveries(session, BANK)
        assert (pending.status, pending.attempts) == ("pending", 1)
        mesh.set_consent_status(session, consent.id, "revoked", actor=f"person:{mover.id}")
        mesh.enable_service(session, mesh.BASIC_FOUR_SERVICE, actor="operator:test")
    with db.transaction(engine) as session:
        mesh.deliver_due(session, now=clock.now() + timedelta(hours=1))
    with Session(engine) as session:
        (cancelled,) = _deliveries(session, BANK)
        assert (cancelled.status, cancelled.attempts) == ("cancelled", 1)
        assert _address_at(session, BANK, mover.id) == mover.address.text
        # The government agencies got theirs once the service was back.
        insurer = mesh.list_deliveries(session, subsystem=agencies.get_agency("insurer").subsystem)
        assert {d.status for d in insurer} == {"delivered"}


def test_the_demo_gives_some_customers_consents(engine: Engine) -> None:
    people = _country(engine)
    with db.transaction(engine) as session:
        made = wiring.consent_demo_customers(
            session, [p.id for p in people], seed=4, always=[people[0].id]
        )
    # Fewer consent to the electricity company than to the bank, and some to neither.
    assert 0 < made["electricity"] <= made["bank"] < len(people)
    with Session(engine) as session:
        consents = mesh.list_consents(session, people[0].id)
        known_by_bank = agencies.get_record(
            session, BANK, mesh.agency_code(session, BANK.subsystem, people[0].id)
        )
        assert (BANK.subsystem in {c.company for c in consents}) == (known_by_bank is not None)
        assert all(c.status == "active" and c.items == ["address"] for c in consents)
        assert all(c.valid_from == clock.today_jst() for c in consents)
