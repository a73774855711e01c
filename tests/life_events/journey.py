"""A small country for the moving tests: two municipalities, a couple in Chiyoda with a card
in a card store, the reference agencies with both enrolled, and the bank consented to."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import wiring
from kiban.blocks import address, identity, mesh, procedures, residents
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into

AUTH_PIN = "4321"
SIGNING_PIN = "SIGN2026"
OLD_LG = "131016"  # 東京都千代田区
NEW_LG = "011011"  # 北海道札幌市中央区
NEW_ADDRESS = "札幌市中央区北一条西2-1-1 ハイツ101"


@dataclass(frozen=True)
class Family:
    applicant: residents.PersonRead
    spouse: residents.PersonRead
    card: identity.CardRead
    store: CardStore


def _person(
    session: Session,
    given: str,
    given_kana: str,
    sex: residents.Sex,
    born: date,
    household: residents.HouseholdChoice,
) -> residents.PersonRead:
    town = address.find_town(session, OLD_LG, "丸の内")
    return residents.register_person(
        session,
        residents.PersonCreate(
            family_name="引越",
            given_name=given,
            family_name_kana="ヒッコシ",
            given_name_kana=given_kana,
            birth_date=born,
            sex=sex,
            address=residents.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
            household=household,
            effective_on=date(2020, 4, 1),
        ),
        actor="official:test",
    )


def _known_to_every_government_agency(session: Session, person: residents.PersonRead) -> None:
    """Enrol through the mesh until every government agency has a record of the person (each
    draws its synthetic facts at random, keyed by its code: a licence is not everyone's)."""
    government = [a for a in agencies.AGENCIES.values() if a.member_class == "GOV"]
    for seed in range(100):
        missing = [
            a
            for a in government
            if agencies.get_record(session, a, mesh.agency_code(session, a.subsystem, person.id))
            is None
        ]
        if not missing:
            return
        wiring.enrol_through_mesh(session, [person.id], seed=seed)
    raise AssertionError(f"not enrolled with {[a.name for a in missing]}")


def _customer_of_both_companies(session: Session, person: residents.PersonRead) -> None:
    """Open the bank account and the electricity contract from the customer's own form. The
    companies turn some customers away at random (keyed by their code), so seeds are tried
    until both have the customer."""
    for company in ("bank", "electricity"):
        agency = agencies.get_agency(company)
        code = mesh.agency_code(session, agency.subsystem, person.id)
        enrolment = agencies.Enrolment(code, person.birth_date, person.address.text)
        for seed in range(100):
            if agencies.enrol(session, agency, [enrolment], seed=seed):
                break
        assert agencies.get_record(session, agency, code) is not None, company


def build_family(session: Session, cards: Path, *, consent_bank: bool = True) -> Family:
    """The couple, their card, the agencies (enrolled) and the bank's consent (not the
    electricity company's)."""
    address.load_registry(session, lg_codes=[OLD_LG, NEW_LG])
    applicant = _person(
        session, "太郎", "タロウ", residents.Sex.MALE, date(1985, 6, 1), residents.HouseholdChoice()
    )
    spouse = _person(
        session,
        "花子",
        "ハナコ",
        residents.Sex.FEMALE,
        date(1987, 3, 3),
        residents.HouseholdChoice(household_id=applicant.household_id, relationship="妻"),
    )
    store = CardStore(cards)
    card = issue_into(
        session, store, applicant.id, auth_pin=AUTH_PIN, signing_pin=SIGNING_PIN, actor="t"
    )
    wiring.register_reference_agencies(session)
    people = [applicant.id, spouse.id]
    wiring.enrol_through_mesh(session, people, seed=7)
    _known_to_every_government_agency(session, applicant)
    _customer_of_both_companies(session, applicant)
    if consent_bank:
        wiring.consent_to_address_updates(
            session, applicant.id, "bank", actor=f"person:{applicant.id}"
        )
    return Family(applicant, spouse, card, store)


def _b64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def sign_and_submit(
    session: Session, family: Family, app: procedures.ApplicationRead
) -> procedures.ApplicationRead:
    """What the card reader and the portal's callback do: sign the payload, submit."""
    challenge = procedures.submission_payload(app).decode("ascii")
    answer = sign_challenge(
        family.store,
        family.card.card_number,
        {"auth": AUTH_PIN, "signing": SIGNING_PIN},
        challenge,
        ("auth", "signing"),
    )
    return procedures.do_submit(
        session,
        app.id,
        expected_version=app.version,
        signing_certificate=_b64(answer["signing_certificate"]),
        signature=_b64(answer["signing_signature"]),
        actor=procedures.actor_of(app.applicant_id),
    )


def official(lg_code: str) -> str:
    return f"official:{lg_code}:operator"


def act_as_official(
    session: Session,
    application_id: uuid.UUID,
    action: str,
    lg_code: str,
    reason: str | None = None,
) -> procedures.ApplicationRead:
    """Claim the task and take ``action`` as an official of ``lg_code``."""
    who = official(lg_code)
    app = procedures.get_application(session, application_id)
    app = procedures.do_claim_task(session, app.id, official=who, expected_version=app.version)
    return procedures.do_take_action(
        session,
        app.id,
        action,
        role="official",
        actor=who,
        expected_version=app.version,
        reason=reason,
    )
