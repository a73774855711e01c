"""Resident register (住民基本台帳): the facade other blocks, the web layer and the CLI use.

Every change is a ``do_*`` action that keeps history (a new record version; the past stays
readable), writes an audit entry and queues an event carrying the internal person id — never
the individual number. Reads return DTOs, never ORM objects. Errors (``kiban.kernel.errors``
subclasses) name the field at fault and are raised before anything is written.

Reads for an official or an operator go through the ``access_*_by_*`` functions, which record
each person shown (who, which items, why, by which route) in the same transaction; the plain
``get_*`` and ``list_people`` are for the person themself, other blocks and the mesh, which
keep their own records (see ``reads`` and docs/adr/0015-read-records.md).

Error codes: ``residents.person_not_found`` (404), ``residents.household_not_found`` (404),
``residents.invalid`` (422), ``residents.wrong_status`` (409), ``kiban.invalid`` (422).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiban.blocks.address import AddressInput
from kiban.blocks.residents import service
from kiban.blocks.residents.events import (
    ADDRESS_CHANGED,
    DIED,
    MOVED_IN,
    MOVED_OUT,
    NAME_CHANGED,
    REGISTERED,
)
from kiban.blocks.residents.models import ChangeReason, Person, ReadPurpose, Sex, Status
from kiban.blocks.residents.reads import (
    CERTIFICATE_ITEMS,
    HISTORY_ITEMS,
    INDIVIDUAL_NUMBER,
    NAME_ITEMS,
    PERSON_ITEMS,
    AnyReader,
    Reader,
    SignedInAccount,
    access_certificate_by_person_id,
    access_history_by_person_id,
    access_names_by_person_ids,
    access_people_by_full_name,
    access_people_by_municipality,
    access_person_by_id,
    access_record_by_person_id,
    do_record_reads,
    get_reads_of_person,
)
from kiban.blocks.residents.schemas import (
    AddressRead,
    BasicFourRead,
    BirthCreate,
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
    ReadRecordPage,
    ReadRecordRead,
    RecordVersionRead,
)
from kiban.blocks.residents.service import RegisterEntry, iter_register
from kiban.blocks.residents.synthetic import SIZES, SeedSummary, seed_population

__all__ = [
    "ADDRESS_CHANGED",
    "CERTIFICATE_ITEMS",
    "DIED",
    "HISTORY_ITEMS",
    "INDIVIDUAL_NUMBER",
    "MOVED_IN",
    "MOVED_OUT",
    "NAME_CHANGED",
    "NAME_ITEMS",
    "PERSON_ITEMS",
    "REGISTERED",
    "SIZES",
    "AddressInput",
    "AddressRead",
    "AnyReader",
    "BasicFourRead",
    "BirthCreate",
    "CertificateRead",
    "ChangeReason",
    "CountrySummary",
    "DeathCreate",
    "HouseholdChoice",
    "MoveInCreate",
    "MoveOutCreate",
    "MoveWithinCreate",
    "NameChangeCreate",
    "PersonCreate",
    "PersonRead",
    "ReadPurpose",
    "ReadRecordPage",
    "ReadRecordRead",
    "Reader",
    "RecordVersionRead",
    "RegisterEntry",
    "SeedSummary",
    "Sex",
    "SignedInAccount",
    "Status",
    "access_certificate_by_person_id",
    "access_history_by_person_id",
    "access_names_by_person_ids",
    "access_people_by_full_name",
    "access_people_by_municipality",
    "access_person_by_id",
    "access_record_by_person_id",
    "change_name",
    "do_record_reads",
    "get_basic_four",
    "get_country_summary",
    "get_history",
    "get_household",
    "get_people",
    "get_person",
    "get_reads_of_person",
    "issue_certificate",
    "iter_register",
    "list_people",
    "list_person_ids",
    "move_in",
    "move_out",
    "move_within",
    "record_death",
    "register_birth",
    "register_person",
    "seed_population",
]


def _read(session: Session, person: Person) -> PersonRead:
    return service.read_people(session, [person])[0]


def get_person(session: Session, person_id: uuid.UUID) -> PersonRead:
    """The current record of a person (without the individual number)."""
    return _read(session, service.get_person(session, person_id))


def get_people(session: Session, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PersonRead]:
    """The current records of many people at once (without the individual number), by id;
    ids that name nobody are left out. For bulk readers such as the mesh's batch answers."""
    return {person.id: person for person in service.get_people(session, person_ids)}


def get_basic_four(
    session: Session, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, BasicFourRead]:
    """The basic four of many people at once, by id (ids that name nobody are left out): a
    column-only read for bulk readers such as the mesh's batch answers."""
    return {person.id: person for person in service.get_basic_four(session, person_ids)}


def list_people(
    session: Session,
    *,
    lg_code: str | None = None,
    status: Status | None = Status.RESIDENT,
    limit: int = 50,
    offset: int = 0,
) -> list[PersonRead]:
    """People in the register, by municipality and kana; ``status=None`` lists every status."""
    return service.list_people(session, lg_code=lg_code, status=status, limit=limit, offset=offset)


def list_person_ids(
    session: Session, *, status: Status | None = Status.RESIDENT
) -> list[uuid.UUID]:
    """The ids of everyone in the register (of ``status``; every status with None), by
    municipality: for bulk jobs over a whole country, which need no more than the id."""
    return service.list_person_ids(session, status=status)


def get_history(session: Session, person_id: uuid.UUID) -> list[RecordVersionRead]:
    """Every version of a person's record, oldest first."""
    return service.history(session, person_id)


def get_household(session: Session, household_id: uuid.UUID) -> list[PersonRead]:
    """The people living in a household now, oldest first."""
    return service.read_people(session, service.household_members(session, household_id))


def get_country_summary(session: Session) -> CountrySummary:
    """How many municipalities, households and residents the register holds."""
    return service.country_summary(session)


def register_person(session: Session, data: PersonCreate, *, actor: str) -> PersonRead:
    """Register someone new (assigns an individual number); ``resident.registered``."""
    return _read(session, service.do_register_person(session, data, actor=actor))


def register_birth(session: Session, data: BirthCreate, *, actor: str) -> PersonRead:
    """A birth registration (出生届); ``resident.registered``."""
    return _read(session, service.do_register_birth(session, data, actor=actor))


def move_out(
    session: Session, person_id: uuid.UUID, data: MoveOutCreate, *, actor: str
) -> PersonRead:
    """A moving-out notice (転出届); ``resident.moved_out``."""
    return _read(session, service.do_move_out(session, person_id, data, actor=actor))


def move_in(
    session: Session, person_id: uuid.UUID, data: MoveInCreate, *, actor: str
) -> PersonRead:
    """A moving-in notice (転入届); ``resident.moved_in``."""
    return _read(session, service.do_move_in(session, person_id, data, actor=actor))


def move_within(
    session: Session, person_id: uuid.UUID, data: MoveWithinCreate, *, actor: str
) -> PersonRead:
    """A change of address within the municipality (転居届); ``resident.address_changed``."""
    return _read(session, service.do_move_within(session, person_id, data, actor=actor))


def record_death(
    session: Session, person_id: uuid.UUID, data: DeathCreate, *, actor: str
) -> PersonRead:
    """A death registration (死亡届); ``resident.died``."""
    return _read(session, service.do_record_death(session, person_id, data, actor=actor))


def change_name(
    session: Session, person_id: uuid.UUID, data: NameChangeCreate, *, actor: str
) -> PersonRead:
    """A change of name; ``resident.name_changed``."""
    return _read(session, service.do_change_name(session, person_id, data, actor=actor))


def issue_certificate(
    session: Session,
    person_id: uuid.UUID,
    *,
    whole_household: bool = False,
    include_individual_number: bool = False,
    actor: str,
) -> CertificateRead:
    """A certificate of residence (住民票の写し) for one person or the whole household (audited).

    Not a recorded read: officials and operators use :func:`access_certificate_by_person_id`.
    """
    certificate, _people = service.do_issue_certificate(
        session,
        person_id,
        whole_household=whole_household,
        include_individual_number=include_individual_number,
        actor=actor,
    )
    return certificate
