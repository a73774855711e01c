"""Actions on the resident register. Each ``do_*`` validates everything first (bad input writes
nothing), then changes the person, appends a record version, writes the audit entry and queues
the event — all in the caller's transaction. Services never commit."""

from __future__ import annotations

import enum
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from kiban.blocks import address
from kiban.blocks.residents import events as topics
from kiban.blocks.residents.errors import (
    HouseholdNotFound,
    InvalidRecord,
    PersonNotFound,
    WrongStatus,
)
from kiban.blocks.residents.models import (
    ChangeReason,
    Household,
    Person,
    RecordVersion,
    Status,
)
from kiban.blocks.residents.schemas import (
    AddressRead,
    BasicFourRead,
    BirthCreate,
    CertificateEntry,
    CertificateRead,
    CountrySummary,
    DeathCreate,
    HouseholdChoice,
    MoveInCreate,
    MoveOutCreate,
    MoveWithinCreate,
    NameChangeCreate,
    PersonCreate,
    PersonRead,
    RecordVersionRead,
)
from kiban.kernel import clock, identifiers
from kiban.platform import audit, events

HEAD = "世帯主"
# A moving-out notice may be filed up to 14 days before the move (住民基本台帳法施行令 第23条).
MOVE_OUT_NOTICE_DAYS = 14


# --- reads -------------------------------------------------------------------------------------


def get_person(
    session: Session, person_id: uuid.UUID, *, for_update: bool = False, field: str = "person_id"
) -> Person:
    """The person's row, locked for the rest of the transaction when ``for_update``."""
    person = session.get(Person, person_id, with_for_update=for_update)
    if person is None:
        raise PersonNotFound(field)
    return person


def to_read(person: Person, town: address.TownRead) -> PersonRead:
    return PersonRead(
        id=person.id,
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_kana=person.family_name_kana,
        given_name_kana=person.given_name_kana,
        birth_date=person.birth_date,
        sex=person.sex,
        status=person.status,
        address=address_read(person, town),
        household_id=person.household_id,
        relationship=person.relationship,
        resident_since=person.resident_since,
        moved_out_on=person.moved_out_on,
        moved_out_to=person.moved_out_to,
        died_on=person.died_on,
        version=person.version,
    )


def address_read(person: Person, town: address.TownRead) -> AddressRead:
    return AddressRead(
        lg_code=person.lg_code,
        town_id=town.id,
        machiaza_id=town.machiaza_id,
        pref_name=town.pref_name,
        municipality_name=town.municipality_name,
        town_name=town.name,
        chome=person.chome,
        block_number=person.block_number,
        building=person.building,
        text=address.format_address(
            town, chome=person.chome, block_number=person.block_number, building=person.building
        ),
    )


def get_people(session: Session, person_ids: Sequence[uuid.UUID]) -> list[PersonRead]:
    """The people with ``person_ids`` (those that exist), one query per thousand ids."""
    people: list[Person] = []
    ids = list(person_ids)
    for start in range(0, len(ids), 1000):
        people += session.scalars(select(Person).where(Person.id.in_(ids[start : start + 1000])))
    return read_people(session, people) if people else []


def get_basic_four(session: Session, person_ids: Sequence[uuid.UUID]) -> list[BasicFourRead]:
    """The basic four of the people with ``person_ids`` (those that exist), read column by
    column in one query per thousand ids: the mesh's batch answers read many people, and
    turning ORM rows into :class:`PersonRead` cost more than the query."""
    columns = (
        Person.id,
        Person.family_name,
        Person.given_name,
        Person.family_name_kana,
        Person.given_name_kana,
        Person.birth_date,
        Person.sex,
        Person.status,
        Person.lg_code,
        Person.town_id,
        Person.chome,
        Person.block_number,
        Person.building,
    )
    ids = list(person_ids)
    rows: list[Any] = []
    if session.autoflush:
        # Core statements on the connection skip the session's autoflush; people registered
        # earlier in the transaction must be found.
        session.flush()
    connection = session.connection()
    for start in range(0, len(ids), 1000):
        rows += connection.execute(
            select(*columns).where(Person.id.in_(ids[start : start + 1000]))
        ).all()
    towns = _towns(session, {row.town_id for row in rows})
    return [
        BasicFourRead(
            id=row.id,
            name=f"{row.family_name}\u3000{row.given_name}",
            name_kana=f"{row.family_name_kana}\u3000{row.given_name_kana}",
            birth_date=row.birth_date,
            sex=row.sex,
            status=row.status,
            lg_code=row.lg_code,
            address=address.format_address(
                towns[row.town_id],
                chome=row.chome,
                block_number=row.block_number,
                building=row.building,
            ),
        )
        for row in rows
    ]


_TOWNS = "kiban.residents.towns"
_TOWNS_HELD = 20_000


def _towns(session: Session, town_ids: set[uuid.UUID]) -> dict[uuid.UUID, address.TownRead]:
    """The towns, remembered for the rest of the session's transaction: a bulk reader (a
    country's enrolment, four agencies a batch) meets the same towns again and again, and the
    town master does not change under it."""
    held: dict[uuid.UUID, address.TownRead] = session.info.setdefault(_TOWNS, {})
    if len(held) > _TOWNS_HELD:
        held.clear()
    missing = town_ids - held.keys()
    if missing:
        held.update(address.get_towns(session, missing))
    return held


@event.listens_for(Session, "after_transaction_end")
def _forget_towns(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TOWNS, None)


def read_people(session: Session, people: list[Person]) -> list[PersonRead]:
    """DTOs for ``people``, looking their towns up in one call to the address registry."""
    towns = address.get_towns(session, {p.town_id for p in people})
    return [to_read(p, towns[p.town_id]) for p in people]


def list_people(
    session: Session,
    *,
    lg_code: str | None = None,
    status: Status | None = Status.RESIDENT,
    limit: int = 50,
    offset: int = 0,
) -> list[PersonRead]:
    query = select(Person).order_by(Person.lg_code, Person.family_name_kana, Person.id)
    if lg_code is not None:
        query = query.where(Person.lg_code == lg_code)
    if status is not None:
        query = query.where(Person.status == status)
    people = list(session.scalars(query.limit(limit).offset(offset)))
    return read_people(session, people)


def list_person_ids(session: Session, *, status: Status | None) -> list[uuid.UUID]:
    query = select(Person.id).order_by(Person.lg_code, Person.id)
    if status is not None:
        query = query.where(Person.status == status)
    return list(session.scalars(query))


class RegisterEntry(NamedTuple):
    """The few columns of one person a whole-register pass needs (a national run reads a
    million): no name, no address text, no individual number."""

    id: uuid.UUID
    household_id: uuid.UUID
    birth_date: date
    relationship: str
    lg_code: str
    resident_since: date
    moved_out_on: date | None
    died_on: date | None


REGISTER_FETCH = 10_000
"""Rows fetched per round trip by :func:`iter_register`."""


def iter_register(session: Session) -> Iterator[RegisterEntry]:
    """Every person of the register, of every status, ordered by household (then id), as one
    streaming query: a server-side cursor on PostgreSQL, fetched :data:`REGISTER_FETCH` rows
    at a time, so a pass over a million people neither pages by ``OFFSET`` nor holds them all.
    The caller may write other tables in the same transaction while it iterates."""
    query = (
        select(
            Person.id,
            Person.household_id,
            Person.birth_date,
            Person.relationship,
            Person.lg_code,
            Person.resident_since,
            Person.moved_out_on,
            Person.died_on,
        )
        .order_by(Person.household_id, Person.id)
        .execution_options(yield_per=REGISTER_FETCH)
    )
    for row in session.execute(query):
        yield RegisterEntry(*row)


def history(session: Session, person_id: uuid.UUID) -> list[RecordVersionRead]:
    get_person(session, person_id)
    rows = session.scalars(
        select(RecordVersion)
        .where(RecordVersion.person_id == person_id)
        .order_by(RecordVersion.version)
    )
    return [
        RecordVersionRead(
            version=r.version,
            reason=r.reason,
            effective_on=r.effective_on,
            recorded_at=r.recorded_at,
            record=r.record,
        )
        for r in rows
    ]


_ADDRESS_CHANGES = (ChangeReason.MOVE_IN, ChangeReason.MOVE_WITHIN)


def _address_history(session: Session, person: Person) -> dict[str, Any]:
    """The certificate's address items from the record's versions: the day the current
    address began, the day that move was notified, and the address before it."""
    rows = list(
        session.scalars(
            select(RecordVersion)
            .where(RecordVersion.person_id == person.id)
            .order_by(RecordVersion.version)
        )
    )
    moved = next(
        (i for i in range(len(rows) - 1, 0, -1) if rows[i].reason in _ADDRESS_CHANGES), None
    )
    if moved is None:
        return {"address_since": person.resident_since}
    before = rows[moved - 1].record
    town = address.get_town(session, uuid.UUID(str(before["town_id"])))
    previous = address.format_address(
        town,
        chome=before.get("chome"),
        block_number=str(before.get("block_number") or ""),
        building=before.get("building"),
    )
    return {
        "address_since": rows[moved].effective_on,
        "address_notified_on": clock.to_jst(rows[moved].recorded_at).date(),
        "previous_address": previous,
    }


def household_members(session: Session, household_id: uuid.UUID) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .where(Person.household_id == household_id, Person.status == Status.RESIDENT)
            .order_by(Person.birth_date, Person.id)
        )
    )


def country_summary(session: Session) -> CountrySummary:
    by_status: dict[Status, int] = {
        row[0]: row[1]
        for row in session.execute(select(Person.status, func.count()).group_by(Person.status))
    }
    municipalities = session.scalar(
        select(func.count(func.distinct(Person.lg_code))).where(Person.status == Status.RESIDENT)
    )
    households = session.scalar(
        select(func.count(func.distinct(Person.household_id))).where(
            Person.status == Status.RESIDENT
        )
    )
    return CountrySummary(
        municipalities=municipalities or 0,
        households=households or 0,
        residents=by_status.get(Status.RESIDENT, 0),
        moved_out=by_status.get(Status.MOVED_OUT, 0),
        deceased=by_status.get(Status.DECEASED, 0),
    )


# --- validation --------------------------------------------------------------------------------


def _not_future(value: date, field: str, *, slack_days: int = 0) -> None:
    if value > clock.today_jst() + timedelta(days=slack_days):
        raise InvalidRecord(
            "未来の日付は指定できません。", "The date may not be in the future.", field=field
        )


def _not_before_birth(birth_date: date, value: date, field: str) -> None:
    if value < birth_date:
        raise InvalidRecord(
            "生年月日より前の日付は指定できません。",
            "The date may not be before the date of birth.",
            field=field,
        )


def _require_status(person: Person, *allowed: Status) -> None:
    if person.status in allowed:
        return
    messages = {
        Status.DECEASED: ("この方は死亡により除票されています。", "This person is deceased."),
        Status.MOVED_OUT: ("この方は転出済みです。", "This person has moved out."),
        Status.RESIDENT: (
            "この方は既に住民登録されています。",
            "This person is already a resident.",
        ),
    }
    ja, en = messages[person.status]
    raise WrongStatus(ja, en, field="person_id")


def _household_for(
    session: Session, choice: HouseholdChoice, lg_code: str
) -> tuple[Household | None, str]:
    """The household to join (None: found a new one) and the relationship, after checks."""
    if choice.household_id is None:
        if choice.relationship != HEAD:
            raise InvalidRecord(
                "新しい世帯では続柄は世帯主です。",
                "The founder of a new household is its head (世帯主).",
                field="household.relationship",
            )
        return None, HEAD
    household = session.get(Household, choice.household_id)
    if household is None:
        raise HouseholdNotFound
    if household.lg_code != lg_code:
        raise InvalidRecord(
            "世帯は同じ市区町村にある必要があります。",
            "The household is in another municipality.",
            field="household.household_id",
        )
    if choice.relationship == HEAD and household.head_person_id is not None:
        raise InvalidRecord(
            "この世帯には既に世帯主がいます。",
            "The household already has a head.",
            field="household.relationship",
        )
    return household, choice.relationship


# --- writes ------------------------------------------------------------------------------------


SNAPSHOT_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "status",
    "lg_code",
    "town_id",
    "chome",
    "block_number",
    "building",
    "household_id",
    "relationship",
    "resident_since",
    "moved_out_on",
    "moved_out_to",
    "died_on",
)


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record version's JSON: the person's fields (never the individual number)."""
    return {name: _json_value(values[name]) for name in SNAPSHOT_FIELDS}


def _snapshot(person: Person) -> dict[str, Any]:
    return snapshot({name: getattr(person, name) for name in SNAPSHOT_FIELDS})


def _record(
    session: Session,
    person: Person,
    reason: ChangeReason,
    effective_on: date,
    *,
    actor: str,
    topic: str | None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append the new version, the audit entry and the event for a change already applied."""
    session.flush()
    session.add(
        RecordVersion(
            person_id=person.id,
            version=person.version,
            reason=reason,
            effective_on=effective_on,
            recorded_at=clock.now(),
            actor=actor,
            record=_snapshot(person),
        )
    )
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:person:{reason.value}",
        actor=actor,
        subject=str(person.id),
        data={"version": person.version, "effective_on": effective_on.isoformat()},
    )
    if topic is not None:
        body = {
            "person_id": str(person.id),
            "lg_code": person.lg_code,
            "effective_on": effective_on.isoformat(),
        }
        events.emit(session, topic, body | (payload or {}), key=str(person.id))


def _bump(person: Person) -> None:
    person.version += 1


def _new_household(session: Session, lg_code: str) -> Household:
    household = Household(id=uuid.uuid4(), lg_code=lg_code)
    session.add(household)
    return household


def _leave_household(session: Session, person: Person, effective_on: date, actor: str) -> None:
    """When the head leaves, the eldest remaining member becomes head (世帯主変更)."""
    household = session.get(Household, person.household_id, with_for_update=True)
    if household is None or household.head_person_id != person.id:
        return
    remaining = [p for p in household_members(session, household.id) if p.id != person.id]
    household.head_person_id = remaining[0].id if remaining else None
    if remaining:
        heir = remaining[0]
        heir.relationship = HEAD
        _bump(heir)
        _record(session, heir, ChangeReason.HEAD_CHANGE, effective_on, actor=actor, topic=None)


def _place(person: Person, placement: address.PlacedAddress, household: Household) -> None:
    person.lg_code = placement.town.lg_code
    person.town_id = placement.town.id
    person.chome = placement.chome
    person.block_number = placement.block_number
    person.building = placement.building
    person.household_id = household.id


def _new_person(
    session: Session,
    data: PersonCreate | BirthCreate,
    *,
    relationship: str,
    resident_since: date,
) -> Person:
    """A new resident with a freshly assigned individual number; the caller places them."""
    return Person(
        id=uuid.uuid4(),
        individual_number=assign_individual_number(session, random.SystemRandom()),
        family_name=data.family_name,
        given_name=data.given_name,
        family_name_kana=data.family_name_kana,
        given_name_kana=data.given_name_kana,
        birth_date=data.birth_date,
        sex=data.sex,
        status=Status.RESIDENT,
        relationship=relationship,
        resident_since=resident_since,
        version=1,
    )


def do_register_person(session: Session, data: PersonCreate, *, actor: str) -> Person:
    """Register someone who enters the register from outside it, assigning an individual number."""
    _not_future(data.birth_date, "birth_date")
    _not_future(data.effective_on, "effective_on")
    _not_before_birth(data.birth_date, data.effective_on, "effective_on")
    placement = address.place_address(session, data.address)
    town = placement.town
    household, relationship = _household_for(session, data.household, town.lg_code)
    household = household or _new_household(session, town.lg_code)
    person = _new_person(session, data, relationship=relationship, resident_since=data.effective_on)
    _place(person, placement, household)
    session.add(person)
    if relationship == HEAD:
        household.head_person_id = person.id
    _record(
        session,
        person,
        ChangeReason.REGISTERED,
        data.effective_on,
        actor=actor,
        topic=topics.REGISTERED,
    )
    return person


def do_register_birth(session: Session, data: BirthCreate, *, actor: str) -> Person:
    """A birth registration (出生届): the child joins the parent's household and address."""
    _not_future(data.birth_date, "birth_date")
    parent = get_person(session, data.parent_id, field="parent_id")
    if parent.status != Status.RESIDENT:
        raise WrongStatus(
            "親が住民登録されていません。", "The parent is not a resident.", field="parent_id"
        )
    if data.relationship == HEAD:
        raise InvalidRecord(
            "新生児を世帯主にはできません。",
            "A newborn cannot be head of household.",
            field="relationship",
        )
    person = _new_person(
        session, data, relationship=data.relationship, resident_since=data.birth_date
    )
    person.lg_code = parent.lg_code
    person.town_id = parent.town_id
    person.chome = parent.chome
    person.block_number = parent.block_number
    person.building = parent.building
    person.household_id = parent.household_id
    session.add(person)
    _record(
        session,
        person,
        ChangeReason.BIRTH,
        data.birth_date,
        actor=actor,
        topic=topics.REGISTERED,
        payload={"reason": "birth"},
    )
    return person


def do_move_out(
    session: Session, person_id: uuid.UUID, data: MoveOutCreate, *, actor: str
) -> Person:
    """A moving-out notice (転出届): the record becomes a removed record (除票) at this office."""
    person = get_person(session, person_id, for_update=True)
    _require_status(person, Status.RESIDENT)
    _not_future(data.moved_on, "moved_on", slack_days=MOVE_OUT_NOTICE_DAYS)
    _not_before_birth(person.birth_date, data.moved_on, "moved_on")
    _leave_household(session, person, data.moved_on, actor)
    person.status = Status.MOVED_OUT
    person.moved_out_on = data.moved_on
    person.moved_out_to = data.destination
    _bump(person)
    _record(
        session,
        person,
        ChangeReason.MOVE_OUT,
        data.moved_on,
        actor=actor,
        topic=topics.MOVED_OUT,
    )
    return person


def do_move_in(session: Session, person_id: uuid.UUID, data: MoveInCreate, *, actor: str) -> Person:
    """A moving-in notice (転入届) for someone who moved out of a municipality."""
    person = get_person(session, person_id, for_update=True)
    _require_status(person, Status.MOVED_OUT)
    _not_future(data.moved_on, "moved_on")
    if person.moved_out_on is not None and data.moved_on < person.moved_out_on:
        raise InvalidRecord(
            "転入日は転出日より前にできません。",
            "The move-in date may not be before the move-out date.",
            field="moved_on",
        )
    placement = address.place_address(session, data.address)
    town = placement.town
    household, relationship = _household_for(session, data.household, town.lg_code)
    household = household or _new_household(session, town.lg_code)
    previous_lg_code = person.lg_code
    _place(person, placement, household)
    person.relationship = relationship
    if relationship == HEAD:
        household.head_person_id = person.id
    person.status = Status.RESIDENT
    person.resident_since = data.moved_on
    person.moved_out_on = None
    person.moved_out_to = None
    _bump(person)
    _record(
        session,
        person,
        ChangeReason.MOVE_IN,
        data.moved_on,
        actor=actor,
        topic=topics.MOVED_IN,
        payload={"previous_lg_code": previous_lg_code, "town_id": str(town.id)},
    )
    return person


def do_move_within(
    session: Session, person_id: uuid.UUID, data: MoveWithinCreate, *, actor: str
) -> Person:
    """A change of address within the municipality (転居届); the household moves with the person."""
    person = get_person(session, person_id, for_update=True)
    _require_status(person, Status.RESIDENT)
    _not_future(data.moved_on, "moved_on")
    _not_before_birth(person.birth_date, data.moved_on, "moved_on")
    placement = address.place_address(session, data.address)
    town = placement.town
    if town.lg_code != person.lg_code:
        raise InvalidRecord(
            "転居届は同じ市区町村内の住所に限ります。他の市区町村へは転出届を出してください。",
            "A move within the municipality must stay in it; file a moving-out notice instead.",
            field="address.town_id" if data.address.text is None else "address.text",
        )
    household = session.get(Household, person.household_id)
    if household is None:  # pragma: no cover - every resident has a household.
        raise HouseholdNotFound("household_id")
    _place(person, placement, household)
    _bump(person)
    _record(
        session,
        person,
        ChangeReason.MOVE_WITHIN,
        data.moved_on,
        actor=actor,
        topic=topics.ADDRESS_CHANGED,
        payload={"town_id": str(town.id)},
    )
    return person


def do_record_death(
    session: Session, person_id: uuid.UUID, data: DeathCreate, *, actor: str
) -> Person:
    """A death registration (死亡届)."""
    person = get_person(session, person_id, for_update=True)
    _require_status(person, Status.RESIDENT, Status.MOVED_OUT)
    _not_future(data.died_on, "died_on")
    _not_before_birth(person.birth_date, data.died_on, "died_on")
    if person.status == Status.RESIDENT:
        _leave_household(session, person, data.died_on, actor)
    person.status = Status.DECEASED
    person.died_on = data.died_on
    _bump(person)
    _record(session, person, ChangeReason.DEATH, data.died_on, actor=actor, topic=topics.DIED)
    return person


def do_change_name(
    session: Session, person_id: uuid.UUID, data: NameChangeCreate, *, actor: str
) -> Person:
    """A change of name; the old name stays in the record's history."""
    person = get_person(session, person_id, for_update=True)
    _require_status(person, Status.RESIDENT)
    _not_future(data.effective_on, "effective_on")
    _not_before_birth(person.birth_date, data.effective_on, "effective_on")
    person.family_name = data.family_name
    person.given_name = data.given_name
    person.family_name_kana = data.family_name_kana
    person.given_name_kana = data.given_name_kana
    _bump(person)
    _record(
        session,
        person,
        ChangeReason.NAME_CHANGE,
        data.effective_on,
        actor=actor,
        topic=topics.NAME_CHANGED,
    )
    return person


def do_issue_certificate(
    session: Session,
    person_id: uuid.UUID,
    *,
    whole_household: bool,
    include_individual_number: bool,
    actor: str,
) -> tuple[CertificateRead, list[uuid.UUID]]:
    """A certificate of residence (住民票の写し); issuing it is audited.

    Returns the certificate and the ids of the people on it, in its order (for read records).
    """
    person = get_person(session, person_id)
    _require_status(person, Status.RESIDENT)
    members = household_members(session, person.household_id)
    people = members if whole_household else [person]
    head = next((p for p in members if p.relationship == HEAD), None)
    town = address.get_town(session, person.town_id)
    certificate_id = uuid.uuid4()
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:certificate:issued",
        actor=actor,
        subject=str(person.id),
        data={
            "certificate_id": str(certificate_id),
            "people": [str(p.id) for p in people],
            "individual_number_included": include_individual_number,
        },
    )
    certificate = CertificateRead(
        certificate_id=certificate_id,
        issued_at=clock.now(),
        lg_code=person.lg_code,
        issuer=f"{town.pref_name}{town.municipality_name}",
        household_id=person.household_id,
        head_of_household=f"{head.family_name}\u3000{head.given_name}" if head else "",
        address=address_read(person, town),
        entries=[
            CertificateEntry(
                **_address_history(session, p),
                name=f"{p.family_name}\u3000{p.given_name}",
                name_kana=f"{p.family_name_kana}\u3000{p.given_name_kana}",
                birth_date=p.birth_date,
                sex=p.sex,
                relationship=p.relationship,
                resident_since=p.resident_since,
                status=p.status,
                individual_number=p.individual_number if include_individual_number else None,
            )
            for p in people
        ],
    )
    return certificate, [p.id for p in people]


# --- numbering ---------------------------------------------------------------------------------


def assign_individual_number(session: Session, rng: random.Random) -> str:
    """The numbering function: a fresh valid individual number that was never assigned before.

    Persons are never deleted, so the uniqueness constraint on the register also guarantees
    that a number is never reused.
    """
    for _ in range(100):
        candidate = identifiers.generate_my_number(rng)
        exists = session.scalar(
            select(func.count()).select_from(Person).where(Person.individual_number == candidate)
        )
        if not exists:
            return candidate
    raise RuntimeError("could not find a free individual number")  # pragma: no cover
