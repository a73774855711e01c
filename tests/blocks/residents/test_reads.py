"""Checked reads of the register: each official or operator read records, in the same
transaction, one row per person shown — who, which items, why and by which route — and the
person can page through them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.residents.models import ReadRecord
from kiban.kernel.errors import KibanError
from kiban.platform.models import AuditEntry

from .conftest import CHIYODA

REGISTER = residents.ReadPurpose.REGISTER_ADMINISTRATION
CLERK = residents.Reader(
    actor="official:131016:suzuki", actor_id="acct-42", organisation=CHIYODA, role="clerk"
)


def _records(session: Session, person_id: uuid.UUID | None = None) -> list[ReadRecord]:
    query = select(ReadRecord).order_by(ReadRecord.read_at, ReadRecord.person_id)
    if person_id is not None:
        query = query.where(ReadRecord.person_id == person_id)
    return list(session.scalars(query))


@pytest.fixture
def inserts(session: Session) -> Iterator[list[str]]:
    """The INSERT statements into the read records the connection runs (executemany is one)."""
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statement = args[2]
        if statement.startswith("INSERT INTO residents_read_records"):
            statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    yield statements
    event.remove(engine, "before_cursor_execute", seen)


def test_a_listing_records_one_read_per_person_in_one_statement(
    session: Session, family: dict[str, residents.PersonRead], inserts: list[str]
) -> None:
    people = residents.access_people_by_municipality(
        session, CLERK, lg_code=CHIYODA, purpose=REGISTER, route="GET /api/v1/residents"
    )

    assert {p.id for p in people} == {p.id for p in family.values()}
    records = _records(session)
    assert sorted(r.person_id for r in records) == sorted(p.id for p in people)
    assert len(inserts) == 1
    assert len({r.read_id for r in records}) == 1
    # Keys are time-ordered (UUIDv7), distinct, and drawn in one go.
    assert len({r.id for r in records}) == len(records)
    assert {r.id.version for r in records} == {records[0].read_id.version} == {7}
    for record in records:
        assert record.actor == "official:131016:suzuki"
        assert (record.actor_id, record.organisation, record.role) == ("acct-42", CHIYODA, "clerk")
        assert record.purpose is REGISTER
        assert record.route == "GET /api/v1/residents"
        assert record.items == list(residents.PERSON_ITEMS)


def test_an_empty_listing_records_nothing(
    session: Session, family: dict[str, residents.PersonRead], inserts: list[str]
) -> None:
    assert (
        residents.access_people_by_municipality(
            session, "operator", lg_code="011011", purpose=REGISTER, route="GET /x"
        )
        == []
    )
    assert _records(session) == []
    assert inserts == []


def test_one_record_its_history_and_both_together(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    head = family["head"].id
    person = residents.access_person_by_id(session, "operator", head, purpose=REGISTER, route="a")
    versions = residents.access_history_by_person_id(
        session, "operator", head, purpose=REGISTER, route="b"
    )
    both = residents.access_record_by_person_id(
        session, "operator", head, purpose=REGISTER, route="c"
    )

    assert both == (person, versions)
    records = _records(session, head)
    assert [(r.route, r.items) for r in records] == [
        ("a", list(residents.PERSON_ITEMS)),
        ("b", ["history"]),
        ("c", [*residents.PERSON_ITEMS, "history"]),
    ]
    # A bare actor name is stored as it is, with no account, organisation or role.
    assert {(r.actor, r.actor_id, r.organisation, r.role) for r in records} == {
        ("operator", None, None, None)
    }
    # Nobody else was read.
    assert {r.person_id for r in _records(session)} == {head}


def test_a_household_certificate_records_everyone_on_it(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    certificate = residents.access_certificate_by_person_id(
        session,
        CLERK,
        family["child"].id,
        whole_household=True,
        include_individual_number=True,
        route="GET /office/residents/{person_id}/certificate",
    )

    assert len(certificate.entries) == 3
    records = _records(session)
    assert sorted(r.person_id for r in records) == sorted(p.id for p in family.values())
    for record in records:
        assert record.purpose is residents.ReadPurpose.CERTIFICATE
        assert record.items == [*residents.CERTIFICATE_ITEMS, "individual_number"]
    # Issuing stays audited, by the same reader.
    issued = session.scalars(
        select(AuditEntry).where(AuditEntry.tag == "residents:certificate:issued")
    ).one()
    assert issued.actor == CLERK.actor


def test_a_certificate_of_one_person_records_only_them(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    residents.access_certificate_by_person_id(session, "operator", family["head"].id, route="r")

    [record] = _records(session)
    assert record.person_id == family["head"].id
    assert "individual_number" not in record.items


def test_individual_numbers_only_on_an_issued_certificate(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    with pytest.raises(KibanError) as refused:
        residents.access_certificate_by_person_id(
            session,
            "operator",
            family["head"].id,
            include_individual_number=True,
            purpose=REGISTER,
            route="r",
        )
    assert refused.value.field == "individual_number"
    assert _records(session) == []


def test_names_are_recorded_as_a_read_of_the_name_only(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    stranger = uuid.uuid4()
    names = residents.access_names_by_person_ids(
        session,
        CLERK,
        [family["head"].id, stranger, family["head"].id],
        purpose=residents.ReadPurpose.PROCEDURE,
        route="GET /office/tasks",
    )

    assert names == {family["head"].id: "山田\u3000太郎"}
    [record] = _records(session)
    assert (record.person_id, record.items) == (family["head"].id, ["name"])


def test_an_unknown_person_records_nothing(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    with pytest.raises(KibanError) as missing:
        residents.access_person_by_id(
            session, "operator", uuid.uuid4(), purpose=REGISTER, route="r"
        )
    assert missing.value.code == "residents.person_not_found"
    assert _records(session) == []


@pytest.mark.parametrize(
    ("actor", "purpose", "route"),
    [
        ("", REGISTER, "r"),
        ("  ", REGISTER, "r"),
        ("operator", "register_administration", "r"),
        ("operator", REGISTER, " "),
        ("operator", REGISTER, "r" * 161),
        ("o" * 129, REGISTER, "r"),
        (residents.Reader("operator", organisation="x" * 65), REGISTER, "r"),
    ],
)
def test_a_read_needs_a_reader_a_purpose_and_a_route_that_fit(
    session: Session, family: dict[str, residents.PersonRead], actor: Any, purpose: Any, route: str
) -> None:
    with pytest.raises((ValueError, TypeError)):
        residents.access_person_by_id(
            session, actor, family["head"].id, purpose=purpose, route=route
        )
    assert _records(session) == []


def test_a_rolled_back_read_leaves_no_record(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    residents.access_person_by_id(
        session, "operator", family["head"].id, purpose=REGISTER, route="r"
    )
    session.rollback()
    assert _records(session) == []


def test_the_person_pages_through_reads_of_their_record_newest_first(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    head = family["head"].id
    for route in ("first", "second", "third"):
        residents.access_person_by_id(session, CLERK, head, purpose=REGISTER, route=route)
    residents.access_person_by_id(session, CLERK, family["spouse"].id, purpose=REGISTER, route="x")
    session.commit()

    first = residents.get_reads_of_person(session, head, limit=2)
    second = residents.get_reads_of_person(session, head, limit=2, offset=2)

    assert first.total == second.total == 3
    assert [r.route for r in first.records + second.records] == ["third", "second", "first"]
    assert first.records[0].organisation == CHIYODA
    assert first.records[0].purpose == "register_administration"
    # Reading one's own records is not itself a read by an official.
    assert residents.get_reads_of_person(session, head).total == 3


def test_the_plain_reads_record_nothing(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    residents.get_person(session, family["head"].id)
    residents.get_history(session, family["head"].id)
    residents.list_people(session, lg_code=CHIYODA)
    residents.get_household(session, family["head"].household_id)
    assert session.scalar(select(func.count()).select_from(ReadRecord)) == 0


@dataclass(frozen=True)
class Principal:
    """The staff block's principal as the register sees it (staff is above the register)."""

    account_id: uuid.UUID
    organisation: str
    role: str | None

    @property
    def actor(self) -> str:
        return f"staff:{self.account_id}@{self.organisation}/{self.role or 'key'}"


def test_a_signed_in_account_is_passed_as_it_is(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    principal = Principal(uuid.uuid4(), CHIYODA, "clerk")

    residents.access_person_by_id(
        session, principal, family["head"].id, purpose=REGISTER, route="r"
    )

    [record] = _records(session)
    assert (record.actor, record.actor_id, record.organisation, record.role) == (
        principal.actor,
        str(principal.account_id),
        CHIYODA,
        "clerk",
    )


def test_a_read_shows_at_least_one_item(
    session: Session, family: dict[str, residents.PersonRead]
) -> None:
    with pytest.raises(ValueError, match="item"):
        residents.do_record_reads(
            session, "operator", [family["head"].id], items=(), purpose=REGISTER, route="r"
        )
