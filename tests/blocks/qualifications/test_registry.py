"""The national qualifications registry: types as data, registrations as a state machine with
history and audit, officials of the issuing authority only, reads of holders recorded."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from kiban.blocks import address, qualifications, residents, staff
from kiban.blocks.residents.models import ReadRecord
from kiban.kernel.errors import KibanError

CHIYODA = "131016"
TOKYO = staff.prefecture_code("13")
MHLW = "agency:mhlw"
ACTIONS = ("renewed", "suspended", "reinstated", "revoked")
# The law's state machine, written out apart from the code's table: (status, action) -> next.
MODEL = {
    ("active", "renewed"): "active",
    ("active", "suspended"): "suspended",
    ("suspended", "reinstated"): "active",
    ("active", "revoked"): "revoked",
    ("suspended", "revoked"): "revoked",
}


@pytest.fixture
def person(session: Session) -> residents.PersonRead:
    address.load_registry(session, lg_codes=[CHIYODA])
    town = address.find_town(session, CHIYODA, "丸の内")
    made = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="佐藤",
            given_name="由美",
            family_name_kana="サトウ",
            given_name_kana="ユミ",
            birth_date=date(1985, 6, 7),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="1番1号"
            ),
            household=residents.HouseholdChoice(household_id=None, relationship="世帯主"),
            effective_on=date(2020, 4, 1),
        ),
        actor="t",
    )
    session.commit()
    return made


def _official(session: Session, organisation: str, role: str) -> staff.Principal:
    account = staff.do_create_official(
        session, person_id=uuid.uuid4(), name="厚労　職員", actor="t"
    )
    staff.do_grant(session, account.id, organisation=organisation, role=role, actor="t")
    principal = staff.principal_for(session, account.id, organisation=organisation, role=role)
    assert principal is not None
    return principal


@pytest.fixture
def organisations(session: Session) -> None:
    for code, ja, en in qualifications.AUTHORITIES:
        staff.do_add_organisation(session, code, staff.OrganisationKind.AGENCY, ja, en, actor="t")
    staff.do_add_organisation(
        session, TOKYO, staff.OrganisationKind.PREFECTURE, "東京都", "Tokyo", actor="t"
    )
    session.commit()


def test_about_thirty_types_each_with_names_authority_and_legal_basis() -> None:
    types = qualifications.QUALIFICATION_TYPES
    assert len(types) >= 30
    codes = {t.code for t in types}
    assert {"physician", "nurse", "childcare", "care_worker", "teacher"} <= codes
    assert len(codes) == len(types)
    known = {code for code, _, _ in qualifications.AUTHORITIES} | {qualifications.PREFECTURE}
    for kind in types:
        assert kind.name_ja
        assert kind.name_en
        assert kind.legal_basis.strip()
        assert kind.authority in known
    assert qualifications.get_type("nurse").name_ja == "看護師"


statuses = st.lists(st.sampled_from(ACTIONS), max_size=8)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=statuses)
def test_the_state_machine_matches_its_model(
    session: Session, person: residents.PersonRead, steps: list[str]
) -> None:
    # Given a fresh registration (an earlier example's was revoked at its end)...
    made = qualifications.register_as_system(
        session,
        qualification="care_manager",
        person_id=person.id,
        registration_number=uuid.uuid4().hex[:12],
        registered_on=date(2020, 4, 1),
        actor="t",
    )
    model = "active"
    history = ["registered"]
    for action in steps:
        target = MODEL.get((model, action))
        if target is not None:
            changed = qualifications.change_as_system(
                session, made.id, action, reason="理由", actor="t"
            )
            model = target
            history.append(action)
            assert changed.status == model
        else:
            # ...a refused step changes nothing: not the status, not the history.
            with pytest.raises(qualifications.InvalidTransition):
                qualifications.change_as_system(session, made.id, action, reason="理由", actor="t")
        assert qualifications.get_holder(session, made.id).status == model
    steps_kept = qualifications.get_history(session, made.id)
    assert [s.action for s in steps_kept] == history
    assert [s.version for s in steps_kept] == list(range(1, len(history) + 1))
    audited = session.execute(
        text("select count(*) from platform_audit_entries where subject = :s"),
        {"s": f"qualification:{made.id}"},
    ).scalar_one()
    assert audited == len(history)
    if model != "revoked":
        qualifications.change_as_system(session, made.id, "revoked", reason="終了", actor="t")
    session.commit()


def test_only_the_issuing_authoritys_official_with_the_permission_acts(
    session: Session, person: residents.PersonRead, organisations: None
) -> None:
    mhlw = _official(session, MHLW, "qualifications")
    auditor = _official(session, MHLW, "audit")
    mlit = _official(session, "agency:mlit", "qualifications")
    with pytest.raises(staff.NotPermitted):
        qualifications.do_register(
            session, auditor, qualification="nurse", person_id=person.id,
            registration_number="100", registered_on=date(2010, 4, 1),
        )  # fmt: skip
    with pytest.raises(staff.OtherOrganisation):
        qualifications.do_register(
            session, mlit, qualification="nurse", person_id=person.id,
            registration_number="100", registered_on=date(2010, 4, 1),
        )  # fmt: skip
    made = qualifications.do_register(
        session, mhlw, qualification="nurse", person_id=person.id,
        registration_number="100", registered_on=date(2010, 4, 1),
    )  # fmt: skip
    assert made.authority == MHLW
    assert qualifications.get_history(session, made.id)[0].acted_by == mhlw.actor
    with pytest.raises(staff.OtherOrganisation):
        qualifications.do_change(session, mlit, made.id, "suspended", reason="処分")
    with pytest.raises(qualifications.InvalidRegistration) as refused:
        qualifications.do_change(session, mhlw, made.id, "suspended", reason=" ")
    assert refused.value.field == "reason"
    suspended = qualifications.do_change(session, mhlw, made.id, "suspended", reason="業務停止")
    assert suspended.status == "suspended"


def test_a_prefectural_qualification_is_the_registering_prefectures(
    session: Session, person: residents.PersonRead, organisations: None
) -> None:
    tokyo = _official(session, TOKYO, "qualifications")
    mhlw = _official(session, MHLW, "qualifications")
    with pytest.raises(qualifications.NotAPrefecture):
        qualifications.do_register(
            session, mhlw, qualification="childcare", person_id=person.id,
            registration_number="13-000123", registered_on=date(2012, 4, 1),
        )  # fmt: skip
    with pytest.raises(qualifications.InvalidRegistration) as refused:
        qualifications.do_register(
            session, tokyo, qualification="childcare", person_id=person.id,
            registration_number="13-000123", registered_on=date(2012, 4, 1),
        )  # fmt: skip
    assert refused.value.field == "registration_number"
    made = qualifications.do_register(
        session, tokyo, qualification="childcare", person_id=person.id,
        registration_number="13000123", registered_on=date(2012, 4, 1),
    )  # fmt: skip
    assert made.authority == TOKYO
    assert qualifications.authority_name(session, TOKYO)[0] == "東京都"


def test_bad_input_names_the_field_and_writes_nothing(
    session: Session, engine: Engine, person: residents.PersonRead
) -> None:
    cases = [
        ({"qualification": "wizard"}, "qualification"),
        ({"registration_number": ""}, "registration_number"),
        ({"registered_on": date(2999, 1, 1)}, "registered_on"),
        ({"person_id": uuid.uuid4()}, "person_id"),
    ]
    for change, field in cases:
        given = {
            "qualification": "nurse",
            "person_id": person.id,
            "registration_number": "555",
            "registered_on": date(2010, 1, 1),
            **change,
        }
        with pytest.raises(KibanError) as refused:
            qualifications.register_as_system(session, actor="t", **given)  # type: ignore[arg-type]
        assert refused.value.field == field
        session.rollback()
    assert qualifications.list_holders(session) == []
    qualifications.register_as_system(
        session, qualification="nurse", person_id=person.id, registration_number="555",
        registered_on=date(2010, 1, 1), actor="t",
    )  # fmt: skip
    with pytest.raises(qualifications.AlreadyRegistered):
        qualifications.register_as_system(
            session, qualification="nurse", person_id=person.id, registration_number="556",
            registered_on=date(2010, 1, 1), actor="t",
        )  # fmt: skip


def test_listing_holders_records_a_read_of_each_holder(
    session: Session, person: residents.PersonRead, organisations: None
) -> None:
    mhlw = _official(session, MHLW, "qualifications")
    qualifications.register_as_system(
        session, qualification="nurse", person_id=person.id, registration_number="777",
        registered_on=date(2011, 4, 1), actor="t",
    )  # fmt: skip
    before = session.scalar(select(func.count()).select_from(ReadRecord))
    found = qualifications.access_holders(
        session, mhlw, authority=MHLW, qualification="nurse", route="GET /office/qualifications"
    )
    assert [h.name for h in found] == ["佐藤\u3000由美"]
    reads = session.scalars(
        select(ReadRecord).where(ReadRecord.person_id == person.id).order_by(ReadRecord.read_at)
    ).all()
    assert session.scalar(select(func.count()).select_from(ReadRecord)) == (before or 0) + 1
    assert reads[-1].purpose == residents.ReadPurpose.QUALIFICATIONS
    assert reads[-1].organisation == MHLW
    # Another authority's official may not list 厚生労働省's register.
    mlit = _official(session, "agency:mlit", "qualifications")
    with pytest.raises(staff.OtherOrganisation):
        qualifications.access_holders(session, mlit, authority=MHLW, route="x")
