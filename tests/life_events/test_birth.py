"""Birth through the facades: the hospital's certificate through the mesh, the 出生届
prefilled from it, the office's acceptance, the child on the register, the offers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import hospital
from kiban.blocks import benefits, identity, mesh, notifications, procedures, residents
from kiban.cardreader.store import CardStore
from kiban.cli.agencies import make_birth
from kiban.cli.card import issue_into
from kiban.kernel.errors import KibanError
from kiban.life_events import birth
from kiban.platform import events
from kiban.platform.db import transaction

from .journey import (
    AUTH_PIN,
    OLD_LG,
    SIGNING_PIN,
    Family,
    act_as_official,
    build_family,
    sign_and_submit,
)


def _deliver(engine: Engine) -> None:
    for _ in range(3):
        events.deliver_pending(engine)
        with Session(engine) as session:
            mesh.deliver_due(session)
            session.commit()


def inbox_of(session: Session, person_id: uuid.UUID) -> list[notifications.NoticeRead]:
    return list(notifications.list_inbox(session, person_id, limit=100).items)


def _mother_family(session: Session, cards: Path) -> Family:
    """The moving tests' couple; the mother (the spouse) holds the card that signs."""
    family = build_family(session, cards, consent_bank=False)
    store = CardStore(cards)
    card = issue_into(
        session, store, family.spouse.id, auth_pin=AUTH_PIN, signing_pin=SIGNING_PIN, actor="t"
    )
    return Family(family.spouse, family.applicant, card, store)


def _typed(app: procedures.ApplicationRead, **changes: str) -> dict[str, str]:
    values = {
        "child_family_name": birth.family_name_of(app.values),
        "child_given_name": "陽翔",
        "child_family_name_kana": "ヒッコシ",
        "child_given_name_kana": "ハルト",
        "relationship": "子",
    }
    return values | changes


def test_a_birth_from_the_hospital_to_the_register(engine: Engine, tmp_path: Path) -> None:
    events.load_subscribers()
    with transaction(engine) as session:
        family = _mother_family(session, tmp_path / "cards")
    mother = family.applicant
    actor = procedures.actor_of(mother.id)

    # No certificate, no 出生届: the office opened none for the mother.
    with transaction(engine) as session:
        assert procedures.list_applications(session, code=birth.BIRTH).total == 0

    with transaction(engine) as session:
        sent = make_birth(session, mother.id, sex=residents.Sex.FEMALE, weight_grams=3120)
    assert sent["sent_to"] == f"JP/MUN/{OLD_LG}/juki/birth-certificate"
    assert "name" not in sent["certificate"]
    with transaction(engine) as session:
        app = procedures.get_application(session, uuid.UUID(sent["birth_application"]))
        assert app.applicant_id == mother.id
        assert app.state == "draft"
        assert app.office == OLD_LG
        assert app.values["weight_grams"] == 3120
        assert app.values["hospital"] == hospital.NAME
        assert app.values["name"] == mother.full_name
        sources = {f.name: f.source for f in app.fields if f.source is not None}
        assert sources["weight_grams"].registry_en == "Birth certificate (the hospital)"
        assert sources["name"].registry_en == "Resident register"
        # The mother sees that the hospital sent her data to the office, and asked where she lives.
        members = {r.member for r in mesh.records_for_person(session, mother.id, limit=100).records}
        assert hospital.AGENCY.subsystem in members
        # The hospital's facts cannot be typed again.
        with pytest.raises(KibanError) as refused:
            procedures.do_save_draft(
                session, app.id, {"weight_grams": "1"}, expected_version=app.version, actor=actor
            )
        assert refused.value.code == "procedures.prefilled_field"
        inbox = notifications.list_inbox(session, mother.id).items
        assert any(n.template == birth.notices.DATA_RECEIVED for n in inbox)

    # A name with a character outside 常用漢字 + 人名用漢字 + kana is refused at submission.
    with transaction(engine) as session:
        app = procedures.get_application(session, app.id)
        bad = procedures.do_save_draft(
            session,
            app.id,
            _typed(app, child_given_name="𠮷子"),
            expected_version=app.version,
            actor=actor,
        )
        with pytest.raises(KibanError) as refused:
            birth.check_child_name(bad.values)
        assert refused.value.code == "birth.name_character_not_allowed"
        assert refused.value.field == "child_given_name"
        assert "𠮷" in refused.value.message_en

    with transaction(engine) as session:
        app = procedures.get_application(session, app.id)
        app = procedures.do_save_draft(
            session, app.id, _typed(app), expected_version=app.version, actor=actor
        )
        submitted = sign_and_submit(session, family, app)
        assert submitted.state == "submitted"
    with transaction(engine) as session:
        accepted = act_as_official(session, submitted.id, "accept", OLD_LG)
        assert accepted.state == "accepted"
        child = residents.get_person(session, uuid.UUID(accepted.outputs["child_id"]))
        assert child.full_name == "引越\u3000陽翔"
        assert child.household_id == mother.household_id
        assert child.relationship == "子"
        assert child.sex == residents.Sex.FEMALE
    _deliver(engine)
    with transaction(engine) as session:
        insurer = agencies.get_agency("insurer")
        code = mesh.agency_code(session, insurer.subsystem, child.id)
        card = agencies.get_record(session, insurer, code)
        assert card is not None
        templates = [n.template for n in notifications.list_inbox(session, mother.id).items]
        assert birth.notices.ACCEPTED in templates
        assert birth.notices.CHILD_ALLOWANCE in templates
        assert birth.notices.INSURANCE_CARD in templates
        assert identity.get_card_by_person(session, child.id) is None

        # The child allowance, pushed through the benefits block: determined for the household
        # head (the programme's recipient), for the first payment month after the birth, with
        # the head's notice (amount, reason, account, how to decline); the mother is told too.
        head = family.spouse  # The mother's husband heads the household.
        determined = benefits.list_determinations_of(session, head.id)
        allowance = [d for d in determined if d.programme == "child-allowance"]
        assert len(allowance) == 1
        programme = benefits.get_programme(session, "child-allowance").definition
        base = benefits.next_base_date(programme, child.birth_date)
        assert allowance[0].period == f"{base:%Y-%m}"
        assert allowance[0].amount_yen == 15_000 * 2
        assert allowance[0].status == "notified"
        head_inbox = notifications.list_inbox(session, head.id).items
        assert [n.template for n in head_inbox].count("benefits.determined") == 2
        assert accepted.outputs["child_allowance"] == [str(allowance[0].id)]

        # The municipality's programmes that match: 千代田区 runs マル乳, not 札幌市's 子ども医療費.
        assert accepted.outputs["support_offered"] == [
            "birth-support",
            "infant-medical",
            "vaccination",
            "home-visit",
        ]
        offers = [n for n in inbox_of(session, mother.id) if n.template == "benefits.support_offer"]
        assert len(offers) == 4
        support = [d for d in determined if d.programme == f"birth-support-{OLD_LG}"]
        assert [d.amount_yen for d in support] == [50_000]

    # Offering again changes nothing: the same codes, no second notice or determination.
    with transaction(engine) as session:
        again = benefits.do_offer_support(session, child.id, mother.id, child.birth_date, actor="t")
        assert again == accepted.outputs["support_offered"]
        offers = [n for n in inbox_of(session, mother.id) if n.template == "benefits.support_offer"]
        assert len(offers) == 4
        assert len(benefits.list_determinations_of(session, family.spouse.id)) == 2
