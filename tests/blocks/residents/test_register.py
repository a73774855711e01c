"""The resident register's actions: history kept, events without the individual number, and
bad input that changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.blocks.residents.models import Person
from kiban.kernel import clock, identifiers
from kiban.kernel.errors import Conflict, KibanError, NotFound, ValidationFailed
from kiban.platform import audit
from kiban.platform.models import AuditEntry, OutboxEvent

from .conftest import OFFICIAL, SAPPORO_CHUO, person_create

TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _state(session: Session) -> tuple[int, int, int]:
    """Counts that any write would change: people, outbox events, audit entries."""
    return (
        session.scalar(select(func.count()).select_from(Person)) or 0,
        session.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
        session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
    )


def _topics(session: Session) -> list[str]:
    return list(session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.created_at)))


def test_registration_assigns_a_valid_unique_individual_number(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    numbers = list(session.scalars(select(Person.individual_number)))
    assert len(numbers) == 3
    assert len(set(numbers)) == 3
    assert all(identifiers.is_valid_my_number(n) for n in numbers)
    # The DTO never carries it.
    assert "individual_number" not in residents.PersonRead.model_fields


def test_events_and_audit_carry_the_person_id_never_the_individual_number(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    events = list(session.scalars(select(OutboxEvent)))
    assert [e.topic for e in events].count(residents.REGISTERED) == 3
    assert {e.payload["person_id"] for e in events} == {str(p.id) for p in family.values()}
    numbers = set(session.scalars(select(Person.individual_number)))
    dumped = json.dumps([e.payload for e in events]) + json.dumps(
        [a.data for a in session.scalars(select(AuditEntry))]
    )
    assert not numbers & set(TWELVE_DIGITS.findall(dumped))
    assert audit.verify(session).ok


def test_move_within_keeps_the_old_address_in_history(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    head = family["head"]
    moved = residents.move_within(
        session,
        head.id,
        residents.MoveWithinCreate(
            moved_on=date(2025, 1, 10),
            address=residents.AddressInput(
                town_id=towns["kudan"].id, chome=2, block_number="5-1", building="九段ハイツ 301"
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    assert moved.address.town_name == "九段北"
    assert moved.address.text.startswith("東京都千代田区九段北二丁目")
    assert moved.version == 2
    history = residents.get_history(session, head.id)
    assert [v.reason for v in history] == [
        residents.ChangeReason.REGISTERED,
        residents.ChangeReason.MOVE_WITHIN,
    ]
    assert history[0].record["town_id"] == str(towns["marunouchi"].id)
    assert history[1].record["town_id"] == str(towns["kudan"].id)
    assert _topics(session)[-1] == residents.ADDRESS_CHANGED

    # The certificate carries the previous address and the day the new one began.
    entry = residents.issue_certificate(session, head.id, actor=OFFICIAL).entries[0]
    assert entry.previous_address == family["head"].address.text
    assert entry.address_since == date(2025, 1, 10)
    assert entry.address_notified_on is not None
    spouse = residents.issue_certificate(session, family["spouse"].id, actor=OFFICIAL).entries[0]
    assert spouse.previous_address is None  # Never moved: no previous address.
    assert spouse.address_since == spouse.resident_since


def test_move_within_refuses_another_municipality_and_writes_nothing(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    before = _state(session)
    with pytest.raises(ValidationFailed) as caught:
        residents.move_within(
            session,
            family["head"].id,
            residents.MoveWithinCreate(
                moved_on=date(2025, 1, 10),
                address=residents.AddressInput(town_id=towns["odori"].id, block_number="1-1"),
            ),
            actor=OFFICIAL,
        )
    session.rollback()
    assert caught.value.field == "address.town_id"
    assert _state(session) == before
    assert residents.get_person(session, family["head"].id).version == 1


def test_move_out_then_move_in_elsewhere(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    child_id = family["child"].id
    out = residents.move_out(
        session,
        child_id,
        residents.MoveOutCreate(moved_on=date(2025, 3, 1), destination="北海道札幌市中央区"),
        actor=OFFICIAL,
    )
    assert out.status == residents.Status.MOVED_OUT
    assert out.moved_out_to == "北海道札幌市中央区"
    moved_in = residents.move_in(
        session,
        child_id,
        residents.MoveInCreate(
            moved_on=date(2025, 3, 2),
            address=residents.AddressInput(town_id=towns["odori"].id, chome=3, block_number="4"),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    assert moved_in.status == residents.Status.RESIDENT
    assert moved_in.address.lg_code == SAPPORO_CHUO
    assert moved_in.relationship == "世帯主"
    assert moved_in.household_id != family["child"].household_id
    assert _topics(session)[-2:] == [residents.MOVED_OUT, residents.MOVED_IN]
    versions = residents.get_history(session, child_id)
    # The removed record (除票) at the old office stays readable.
    assert versions[1].record["status"] == "moved_out"
    assert versions[1].record["lg_code"] == "131016"


def test_when_the_head_moves_out_the_eldest_member_becomes_head(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    residents.move_out(
        session,
        family["head"].id,
        residents.MoveOutCreate(moved_on=date(2025, 3, 1), destination="大阪府大阪市北区"),
        actor=OFFICIAL,
    )
    session.commit()
    spouse = residents.get_person(session, family["spouse"].id)
    assert spouse.relationship == "世帯主"
    assert (
        residents.get_history(session, spouse.id)[-1].reason == residents.ChangeReason.HEAD_CHANGE
    )


def test_death_then_any_move_is_refused_naming_the_person(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    head = family["head"]
    dead = residents.record_death(
        session, head.id, residents.DeathCreate(died_on=date(2025, 6, 1)), actor=OFFICIAL
    )
    session.commit()
    assert dead.status == residents.Status.DECEASED
    # The death is announced once (its subscribers may add events of their own after it).
    assert _topics(session).count(residents.DIED) == 1
    before = _state(session)
    with pytest.raises(Conflict) as caught:
        residents.move_within(
            session,
            head.id,
            residents.MoveWithinCreate(
                moved_on=date(2025, 7, 1),
                address=residents.AddressInput(
                    town_id=towns["kudan"].id, chome=1, block_number="1"
                ),
            ),
            actor=OFFICIAL,
        )
    session.rollback()
    assert caught.value.field == "person_id"
    assert caught.value.status == 409
    assert "deceased" in caught.value.message_en
    assert _state(session) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_date": clock.today_jst() + timedelta(days=1)}, "birth_date"),
        ({"effective_on": date(1970, 1, 1)}, "effective_on"),
        ({"household": residents.HouseholdChoice(relationship="子")}, "household.relationship"),
        (
            {"household": residents.HouseholdChoice(household_id=uuid.uuid4(), relationship="子")},
            "household.household_id",
        ),
    ],
)
def test_bad_registration_names_the_field_and_writes_nothing(
    session: Session,
    towns: dict[str, address.TownRead],
    change: dict[str, object],
    field: str,
) -> None:
    data = person_create(towns["marunouchi"]).model_copy(update=change)
    before = _state(session)
    with pytest.raises(KibanError) as caught:
        residents.register_person(session, data, actor=OFFICIAL)
    session.rollback()
    assert caught.value.field == field
    assert 400 <= caught.value.status < 500
    assert _state(session) == before


def test_unknown_town_is_a_validation_error_on_the_town_field(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    data = person_create(towns["marunouchi"])
    data.address.town_id = uuid.uuid4()
    with pytest.raises(ValidationFailed) as caught:
        residents.register_person(session, data, actor=OFFICIAL)
    assert caught.value.field == "address.town_id"


def test_kana_and_block_numbers_are_validated() -> None:
    # The rules are patterns of the schema, so the OpenAPI document states them too.
    with pytest.raises(ValueError, match="family_name_kana"):
        residents.NameChangeCreate(
            family_name="山田",
            given_name="花子",
            family_name_kana="yamada",
            given_name_kana="ハナコ",
            effective_on=date(2020, 1, 1),
        )
    with pytest.raises(ValueError, match="block_number"):
        residents.AddressInput(town_id=uuid.uuid4(), block_number="<script>")


def test_name_change_keeps_the_old_name(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    spouse = family["spouse"]
    changed = residents.change_name(
        session,
        spouse.id,
        residents.NameChangeCreate(
            family_name="佐藤",
            given_name="花子",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
            effective_on=date(2024, 1, 1),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    assert changed.family_name == "佐藤"
    assert residents.get_history(session, spouse.id)[0].record["family_name"] == "山田"
    assert _topics(session)[-1] == residents.NAME_CHANGED


def test_certificate_of_residence_lists_the_household_and_is_audited(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    entries_before = audit.count_entries(session)
    certificate = residents.issue_certificate(
        session, family["child"].id, whole_household=True, actor=OFFICIAL
    )
    assert certificate.head_of_household == "山田\u3000太郎"
    assert [e.relationship for e in certificate.entries] == ["世帯主", "妻", "子"]
    assert all(e.individual_number is None for e in certificate.entries)
    assert certificate.issuer == "東京都千代田区"
    assert audit.count_entries(session) == entries_before + 1

    own = residents.issue_certificate(
        session, family["child"].id, include_individual_number=True, actor=OFFICIAL
    )
    assert len(own.entries) == 1
    number = own.entries[0].individual_number
    assert number is not None
    assert identifiers.is_valid_my_number(number)


def test_unknown_person_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound) as caught:
        residents.get_person(session, uuid.uuid4())
    assert caught.value.field == "person_id"
