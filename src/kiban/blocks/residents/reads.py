"""Checked reads of the register and their records (閲覧記録): who read whose data, which items,
why and by which route.

The resident register law asks for a record of every use of a person's register data by an
official. Every path that shows a person's data to an official or an operator goes through an
``access_<thing>_by_<key>(session, actor, ..., purpose, route)`` function here: it reads, then
writes one :class:`~kiban.blocks.residents.models.ReadRecord` per person shown, in the caller's
transaction (services never commit). A listing of fifty people writes fifty rows in one
``executemany``, not fifty round trips. If the transaction rolls back, neither the answer nor
its record leaves the server.

Not recorded here, by design: a person reading their own record (the portal's My page), and
exchanges through the mesh (the mesh's access records already hold them). Those paths use the
plain ``get_*`` functions of the facade.

The reader (:class:`Reader`) is the audit log's actor name plus, where the caller knows them,
the official's account id, organisation and role as separate fields.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from kiban.blocks.residents import service
from kiban.blocks.residents.errors import InvalidRecord
from kiban.blocks.residents.models import Person, ReadPurpose, ReadRecord, Status
from kiban.blocks.residents.schemas import (
    CertificateRead,
    PersonRead,
    ReadRecordPage,
    ReadRecordRead,
    RecordVersionRead,
)
from kiban.kernel import clock

# The data items a read shows. They name fields, never values; the portal labels them.
PERSON_ITEMS: Final = (
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "status",
    "household",
    "relationship",
    "resident_since",
)
HISTORY_ITEMS: Final = ("history",)
CERTIFICATE_ITEMS: Final = (
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "relationship",
    "head_of_household",
    "resident_since",
)
NAME_ITEMS: Final = ("name",)
# The column sizes of residents_read_records.
ACTOR_LENGTH: Final = 128
FIELD_LENGTH: Final = 64
ROUTE_LENGTH: Final = 160
INDIVIDUAL_NUMBER: Final = "individual_number"


@dataclass(frozen=True)
class Reader:
    """Who reads: ``actor`` is the name the audit log uses (``operator``,
    ``official:<lg_code>:<name>``); ``actor_id``, ``organisation`` and ``role`` are the
    official's account id, the organisation they act for (a municipality's ``lg_code`` or an
    organisation id) and their role, stored in fields of their own when given."""

    actor: str
    actor_id: str | None = None
    organisation: str | None = None
    role: str | None = None


class SignedInAccount(Protocol):
    """What the register needs of a signed-in official or service account: the actor name and
    the account, organisation and role behind it. The staff block's ``Principal`` has this
    shape, so a route passes its principal as it is (the register does not import staff)."""

    @property
    def actor(self) -> str: ...

    @property
    def account_id(self) -> object: ...

    @property
    def organisation(self) -> str | None: ...

    @property
    def role(self) -> str | None: ...


AnyReader = Reader | SignedInAccount | str
"""Who may be named as the reader: a :class:`Reader`, a signed-in account or a bare actor name."""


def as_reader(actor: AnyReader) -> Reader:
    """``actor`` as a :class:`Reader` (a bare string is an actor name and nothing more)."""
    if isinstance(actor, Reader):
        return actor
    if isinstance(actor, str):
        return Reader(actor=actor)
    return Reader(
        actor=actor.actor,
        actor_id=str(actor.account_id),
        organisation=actor.organisation,
        role=actor.role,
    )


def _checked(actor: AnyReader, purpose: ReadPurpose, route: str) -> Reader:
    """The reader, after the checks every read passes, one condition per line."""
    reader = as_reader(actor)
    if not reader.actor.strip():
        raise ValueError("a read needs a named reader")
    if not isinstance(purpose, ReadPurpose):
        raise TypeError("a read needs one of the register's purposes (ReadPurpose)")
    if not route.strip():
        raise ValueError("a read needs the route it was made by")
    if len(route) > ROUTE_LENGTH or len(reader.actor) > ACTOR_LENGTH:
        raise ValueError("the route or the reader's name is longer than a read record keeps")
    if any(
        len(v or "") > FIELD_LENGTH for v in (reader.actor_id, reader.organisation, reader.role)
    ):
        raise ValueError("the reader's account, organisation or role is longer than kept")
    return reader


def _ordered_ids(count: int, instant: datetime) -> list[uuid.UUID]:
    """``count`` UUIDv7-style ids (RFC 9562): the instant's milliseconds, then random bits from
    one ``os.urandom`` call. A listing of a thousand people pays one system call rather than a
    thousand ``uuid4()`` calls, and the key index grows at its end instead of at random pages."""
    millis = int(instant.timestamp() * 1000).to_bytes(6, "big")
    noise = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        raw = bytearray(millis + noise[start : start + 10])
        raw[6] = 0x70 | (raw[6] & 0x0F)  # Version 7.
        raw[8] = 0x80 | (raw[8] & 0x3F)  # The RFC 4122/9562 variant.
        ids.append(uuid.UUID(bytes=bytes(raw)))
    return ids


def do_record_reads(
    session: Session,
    actor: AnyReader,
    person_ids: Iterable[uuid.UUID],
    *,
    items: Sequence[str],
    purpose: ReadPurpose,
    route: str,
) -> uuid.UUID:
    """Record that ``actor`` was shown ``items`` of each of ``person_ids`` (once per person, in
    one statement) and return the read's id. For paths that show register data obtained
    otherwise; the ``access_*`` functions call it themselves."""
    reader = _checked(actor, purpose, route)
    if not items:
        raise ValueError("a read shows at least one item")
    now = clock.now()
    people = list(dict.fromkeys(person_ids))
    read_id, *ids = _ordered_ids(len(people) + 1, now)
    rows = [
        {
            "id": row_id,
            "person_id": person_id,
            "read_at": now,
            "read_id": read_id,
            "actor": reader.actor,
            "actor_id": reader.actor_id,
            "organisation": reader.organisation,
            "role": reader.role,
            "purpose": purpose,
            "route": route,
            "items": list(items),
        }
        for row_id, person_id in zip(ids, people, strict=True)
    ]
    if rows:
        session.execute(insert(ReadRecord), rows)
    return read_id


# --- checked reads -----------------------------------------------------------------------------


def access_people_by_municipality(
    session: Session,
    actor: AnyReader,
    *,
    lg_code: str | None,
    status: Status | None = Status.RESIDENT,
    limit: int = 50,
    offset: int = 0,
    purpose: ReadPurpose,
    route: str,
) -> list[PersonRead]:
    """A page of the register (``lg_code=None``: every municipality), recorded per person."""
    reader = _checked(actor, purpose, route)
    people = service.list_people(
        session, lg_code=lg_code, status=status, limit=limit, offset=offset
    )
    do_record_reads(
        session, reader, (p.id for p in people), items=PERSON_ITEMS, purpose=purpose, route=route
    )
    return people


def access_people_by_full_name(
    session: Session,
    actor: AnyReader,
    family_name: str,
    given_name: str,
    *,
    limit: int = 10,
    purpose: ReadPurpose,
    route: str,
) -> list[PersonRead]:
    """The people (living in the register) whose full name is exactly this, in kanji or in
    kana; at most ``limit``, each recorded. An exact name, not a part of one: a search may
    not browse the register."""
    reader = _checked(actor, purpose, route)
    query = (
        select(Person)
        .where(
            Person.status == Status.RESIDENT,
            or_(
                (Person.family_name == family_name) & (Person.given_name == given_name),
                (Person.family_name_kana == family_name) & (Person.given_name_kana == given_name),
            ),
        )
        .order_by(Person.lg_code, Person.birth_date, Person.id)
        .limit(limit)
    )
    people = service.read_people(session, list(session.scalars(query)))
    do_record_reads(
        session, reader, (p.id for p in people), items=PERSON_ITEMS, purpose=purpose, route=route
    )
    return people


def access_person_by_id(
    session: Session, actor: AnyReader, person_id: uuid.UUID, *, purpose: ReadPurpose, route: str
) -> PersonRead:
    """One person's current record, recorded."""
    reader = _checked(actor, purpose, route)
    [person] = service.read_people(session, [service.get_person(session, person_id)])
    do_record_reads(session, reader, [person.id], items=PERSON_ITEMS, purpose=purpose, route=route)
    return person


def access_history_by_person_id(
    session: Session, actor: AnyReader, person_id: uuid.UUID, *, purpose: ReadPurpose, route: str
) -> list[RecordVersionRead]:
    """Every version of one person's record, recorded."""
    reader = _checked(actor, purpose, route)
    versions = service.history(session, person_id)
    do_record_reads(session, reader, [person_id], items=HISTORY_ITEMS, purpose=purpose, route=route)
    return versions


def access_record_by_person_id(
    session: Session, actor: AnyReader, person_id: uuid.UUID, *, purpose: ReadPurpose, route: str
) -> tuple[PersonRead, list[RecordVersionRead]]:
    """One person's current record and its history together, recorded as one read."""
    reader = _checked(actor, purpose, route)
    [person] = service.read_people(session, [service.get_person(session, person_id)])
    versions = service.history(session, person_id)
    do_record_reads(
        session,
        reader,
        [person.id],
        items=PERSON_ITEMS + HISTORY_ITEMS,
        purpose=purpose,
        route=route,
    )
    return person, versions


def access_certificate_by_person_id(
    session: Session,
    actor: AnyReader,
    person_id: uuid.UUID,
    *,
    whole_household: bool = False,
    include_individual_number: bool = False,
    purpose: ReadPurpose = ReadPurpose.CERTIFICATE,
    route: str,
) -> CertificateRead:
    """Issue a certificate of residence (audited) and record a read of everyone on it."""
    reader = _checked(actor, purpose, route)
    if include_individual_number and purpose is not ReadPurpose.CERTIFICATE:
        raise InvalidRecord(
            "個人番号は住民票の写しの交付のときに限り記載できます。",
            "Individual numbers are shown only on an issued certificate.",
            field="individual_number",
        )
    certificate, people = service.do_issue_certificate(
        session,
        person_id,
        whole_household=whole_household,
        include_individual_number=include_individual_number,
        actor=reader.actor,
    )
    items = CERTIFICATE_ITEMS + ((INDIVIDUAL_NUMBER,) if include_individual_number else ())
    do_record_reads(session, reader, people, items=items, purpose=purpose, route=route)
    return certificate


def access_names_by_person_ids(
    session: Session,
    actor: AnyReader,
    person_ids: Iterable[uuid.UUID],
    *,
    purpose: ReadPurpose,
    route: str,
) -> dict[uuid.UUID, str]:
    """The full names of the people among ``person_ids`` who are in the register (unknown ids
    are left out), recorded per person as a read of the name only."""
    reader = _checked(actor, purpose, route)
    wanted = list(dict.fromkeys(person_ids))
    rows = session.execute(
        select(Person.id, Person.family_name, Person.given_name).where(Person.id.in_(wanted))
    )
    names = {row.id: f"{row.family_name}\u3000{row.given_name}" for row in rows}
    do_record_reads(
        session,
        reader,
        [p for p in wanted if p in names],
        items=NAME_ITEMS,
        purpose=purpose,
        route=route,
    )
    return names


# --- the person's own view ---------------------------------------------------------------------


def get_reads_of_person(
    session: Session, person_id: uuid.UUID, *, limit: int = 50, offset: int = 0
) -> ReadRecordPage:
    """Officials' and operators' reads of ``person_id``'s record, newest first (for the person
    themself: reading this is not itself recorded)."""
    total = session.scalar(
        select(func.count()).select_from(ReadRecord).where(ReadRecord.person_id == person_id)
    )
    rows = session.scalars(
        select(ReadRecord)
        .where(ReadRecord.person_id == person_id)
        .order_by(ReadRecord.read_at.desc(), ReadRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return ReadRecordPage(
        records=[
            ReadRecordRead(
                read_at=r.read_at,
                read_id=r.read_id,
                actor=r.actor,
                actor_id=r.actor_id,
                organisation=r.organisation,
                role=r.role,
                purpose=r.purpose.value,
                route=r.route,
                items=[str(item) for item in r.items],
            )
            for r in rows
        ],
        total=total or 0,
    )
