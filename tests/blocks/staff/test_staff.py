"""Staff: organisations from the address registry, accounts with history, memberships, keys,
and the one policy function."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiban.blocks import address, staff
from kiban.blocks.staff.models import StaffApiKey
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import sessions
from kiban.platform.models import AuditEntry
from tests.staff_support import make_key, make_official

SAPPORO, CHIYODA = "011011", "131016"


@pytest.fixture
def registry(session: Session) -> None:
    address.load_registry(session, lg_codes=[SAPPORO, CHIYODA])
    staff.do_sync_organisations(
        session, agencies=[("agency:pension", "年金機構", "Pension")], actor="t"
    )
    session.commit()


def test_every_municipality_and_prefecture_becomes_an_organisation(
    session: Session, registry: None
) -> None:
    codes = {o.code: o.kind for o in staff.list_organisations(session)}
    assert codes[SAPPORO] == codes[CHIYODA] == "municipality"
    assert codes[staff.prefecture_code("01")] == codes["130001"] == "prefecture"
    assert codes["kiban"] == "operator"
    assert codes["agency:pension"] == "agency"
    # Idempotent.
    assert staff.do_sync_organisations(session, actor="t") == 0
    roles = {code for code, *_ in staff.list_roles(session, "municipality")}
    assert roles == {"counter", "review", "approval", "administrator", "audit"}


def test_an_official_acts_only_in_their_organisation_with_their_role(
    session: Session, registry: None
) -> None:
    sapporo = make_official(session, SAPPORO, "approval")
    staff.authorize(session, sapporo, "residents.read", organisation=SAPPORO)
    staff.authorize(session, sapporo, "procedures.move_out.approve", organisation=SAPPORO)
    with pytest.raises(staff.OtherOrganisation):
        staff.authorize(session, sapporo, "residents.read", organisation=CHIYODA)
    audit = make_official(session, SAPPORO, "audit")
    staff.authorize(session, audit, "residents.read", organisation=SAPPORO)
    with pytest.raises(staff.NotPermitted) as denied:
        staff.authorize(session, audit, "residents.write", organisation=SAPPORO)
    assert denied.value.code == "staff.not_permitted"
    assert denied.value.status == 403


def test_the_operator_reaches_everywhere_but_holds_no_residents_permission(
    session: Session, registry: None
) -> None:
    admin = make_official(session, "kiban", "administrator")
    staff.authorize(session, admin, "staff.manage", organisation=SAPPORO)
    with pytest.raises(staff.NotPermitted):
        staff.authorize(session, admin, "residents.read", organisation=SAPPORO)


def test_a_prefecture_reaches_its_own_municipalities(session: Session, registry: None) -> None:
    hokkaido = make_official(session, staff.prefecture_code("01"), "review")
    staff.authorize(session, hokkaido, "residents.read", organisation=SAPPORO)
    with pytest.raises(staff.OtherOrganisation):
        staff.authorize(session, hokkaido, "residents.read", organisation=CHIYODA)


def test_separation_of_duties(session: Session, registry: None) -> None:
    person = uuid.uuid4()
    official = make_official(session, SAPPORO, "approval", person_id=person)
    own = staff.Resource(subject_person=person)
    with pytest.raises(staff.SeparationOfDuties):
        staff.authorize(
            session, official, "procedures.move_out.approve", organisation=SAPPORO, resource=own
        )
    filed = staff.Resource(excluded_actors=[official.actor])
    with pytest.raises(staff.SeparationOfDuties):
        staff.authorize(
            session, official, "procedures.move_out.approve", organisation=SAPPORO, resource=filed
        )
    other = staff.Resource(
        excluded_actors=["staff:00000000-0000-0000-0000-000000000000@011011/counter"]
    )
    staff.authorize(
        session, official, "procedures.move_out.approve", organisation=SAPPORO, resource=other
    )


def test_suspension_and_revocation_end_the_authority_at_once(
    session: Session, registry: None
) -> None:
    official = make_official(session, SAPPORO, "counter")
    sessions.start_session(
        session,
        audience="office",
        subject=str(official.account_id),
        data={},
        idle=timedelta(minutes=5),
        absolute=timedelta(hours=1),
        user_agent=None,
        source=None,
        actor="t",
    )
    staff.do_suspend_account(session, official.account_id, reason="調査", actor="t")
    live = sessions.list_sessions(session, audience="office", subject=str(official.account_id))
    assert live == []
    assert (
        staff.principal_for(session, official.account_id, organisation=SAPPORO, role="counter")
        is None
    )
    staff.do_reinstate_account(session, official.account_id, reason="終了", actor="t")
    assert staff.principal_for(session, official.account_id, organisation=SAPPORO, role="counter")
    staff.do_revoke(session, official.account_id, organisation=SAPPORO, role="counter", actor="t")
    assert (
        staff.principal_for(session, official.account_id, organisation=SAPPORO, role="counter")
        is None
    )
    staff.do_close_account(session, official.account_id, reason="退職", actor="t")
    account = staff.get_account(session, official.account_id)
    assert [s.action for s in account.history] == [
        "created",
        "granted",
        "suspended",
        "reinstated",
        "revoked",
        "closed",
    ]
    assert account.status == "closed"
    with pytest.raises(KibanError) as refused:
        staff.do_grant(
            session, official.account_id, organisation=SAPPORO, role="counter", actor="t"
        )
    assert refused.value.code == "staff.account_not_active"
    tags = set(
        session.scalars(
            select(AuditEntry.tag).where(AuditEntry.subject == str(official.account_id))
        )
    )
    assert {"staff:account:created", "staff:account:suspended", "staff:account:closed"} <= tags


def test_an_official_moving_between_municipalities_keeps_one_identity(
    session: Session, registry: None
) -> None:
    person = uuid.uuid4()
    first = make_official(session, SAPPORO, "counter", person_id=person)
    second = make_official(session, CHIYODA, "review", person_id=person)
    assert first.account_id == second.account_id
    with pytest.raises(KibanError) as twice:
        staff.do_create_official(session, person_id=person, name="x", actor="t")
    assert twice.value.code == "staff.account_exists"


def test_keys_are_hashed_scoped_expiring_and_revocable(session: Session, registry: None) -> None:
    secret = make_key(session, SAPPORO, "audit", ["residents.read"])
    principal = staff.principal_from_key(session, secret)
    assert principal.kind == "service"
    assert principal.permissions == {"residents.read"}
    staff.authorize(session, principal, "residents.read", organisation=SAPPORO)
    with pytest.raises(staff.NotPermitted):
        staff.authorize(session, principal, "procedures.tasks.read", organisation=SAPPORO)
    stored = session.scalars(select(StaffApiKey)).one()
    assert secret.split("_")[-1] not in stored.key_hash
    assert len(stored.key_hash) == 64
    with pytest.raises(staff.KeyInvalid):
        staff.principal_from_key(session, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    session.execute(update(StaffApiKey).values(expires_at=clock.now() - timedelta(seconds=1)))
    with pytest.raises(staff.KeyInvalid):
        staff.principal_from_key(session, secret)
    session.execute(update(StaffApiKey).values(expires_at=clock.now() + timedelta(days=1)))
    staff.do_revoke_key(session, stored.id, actor="t")
    with pytest.raises(staff.KeyInvalid):
        staff.principal_from_key(session, secret)


def test_a_key_cannot_hold_more_than_its_role(session: Session, registry: None) -> None:
    with pytest.raises(KibanError) as refused:
        make_key(session, SAPPORO, "audit", ["residents.write"])
    assert refused.value.code == "staff.invalid"
    assert refused.value.field == "permissions"


def test_bootstrap_makes_one_first_administrator(session: Session, registry: None) -> None:
    assert not staff.is_bootstrapped(session)
    admin = staff.do_bootstrap(session, person_id=uuid.uuid4(), name="管理　一郎", actor="t")
    assert [(m.organisation, m.role) for m in admin.memberships] == [("kiban", "administrator")]
    assert staff.is_bootstrapped(session)
    with pytest.raises(staff.BootstrapDone):
        staff.do_bootstrap(session, person_id=uuid.uuid4(), name="二人目", actor="t")


def test_pages_name_the_official(session: Session, registry: None) -> None:
    official = make_official(session, SAPPORO, "approval", name="札幌　太郎")
    shown = staff.describe_actor(session, official.actor)
    assert shown.startswith("札幌　太郎")
    assert "決裁" in shown
    assert "staff:" not in shown


def test_a_role_held_in_a_department_reaches_only_that_departments_work(
    session: Session, registry: None
) -> None:
    clerk = staff.do_create_official(session, person_id=uuid.uuid4(), name="福祉　課員", actor="t")
    staff.do_grant(
        session, clerk.id, organisation=SAPPORO, role="counter", department="welfare", actor="t"
    )
    welfare = staff.principal_for(session, clerk.id, organisation=SAPPORO, role="counter")
    assert welfare is not None
    assert welfare.departments == frozenset({"welfare"})
    read = "procedures.tasks.read"
    staff.authorize(
        session, welfare, read, organisation=SAPPORO, resource=staff.Resource(department="welfare")
    )
    # What names no department is the organisation's as a whole.
    staff.authorize(session, welfare, read, organisation=SAPPORO)
    with pytest.raises(staff.OtherDepartment) as refused:
        staff.authorize(
            session,
            welfare,
            read,
            organisation=SAPPORO,
            resource=staff.Resource(department="citizens"),
        )
    assert refused.value.status == 403
    assert refused.value.code == "staff.other_department"
    # The same role granted in 市民課 too: both departments; for the whole office: all.
    staff.do_grant(
        session, clerk.id, organisation=SAPPORO, role="counter", department="citizens", actor="t"
    )
    both = staff.principal_for(session, clerk.id, organisation=SAPPORO, role="counter")
    assert both is not None
    assert both.departments == frozenset({"welfare", "citizens"})
    assert len(staff.get_account(session, clerk.id).memberships) == 2
    staff.do_grant(session, clerk.id, organisation=SAPPORO, role="counter", actor="t")
    everywhere = staff.principal_for(session, clerk.id, organisation=SAPPORO, role="counter")
    assert everywhere is not None
    assert everywhere.departments is None
    # An unknown department is refused, naming the field.
    with pytest.raises(KibanError) as unknown:
        staff.do_grant(
            session, clerk.id, organisation=SAPPORO, role="review", department="zoo", actor="t"
        )
    assert unknown.value.code == "staff.department_not_found"
    # Ending one membership leaves the others.
    welfare_membership = next(
        m for m in staff.get_account(session, clerk.id).memberships if m.department == "welfare"
    )
    assert welfare_membership.department_name_ja == "福祉課"
    left = staff.do_revoke_membership(session, clerk.id, welfare_membership.id, actor="t")
    assert sorted(str(m.department) for m in left.memberships) == ["None", "citizens"]
