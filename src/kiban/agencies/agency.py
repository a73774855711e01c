"""What every reference agency has: its mesh identity, its data services, enrolment and the
address on file.

An agency is described by an :class:`Agency`: the mesh member and subsystem it runs as, the table
that holds one row per person it knows (keyed by its agency code), how it makes a synthetic
record for a newly enrolled person, and its data services. The functions here work on any
agency: :func:`enrol` (idempotent: a code the agency already knows is left alone),
:func:`provide` (one data service's answer, limited to the requested items) and
:func:`change_address` (what the agency does when the mesh tells it a person moved).

Nothing here sees kiban's person id or the individual number: the agency code is the key.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.errors import UnknownItems, UnknownPerson, UnknownService
from kiban.agencies.models import _OnFile
from kiban.kernel import clock
from kiban.platform.db import Base

__all__ = [
    "Agency",
    "DataService",
    "Enrolment",
    "change_address",
    "enrol",
    "enrol_many",
    "fresh_digits",
    "get_record",
    "provide",
    "require",
]

INSTANCE: Final = "JP"


@dataclass(frozen=True)
class Enrolment:
    """What an agency learns when it enrols a person: its code and the basic facts it needs."""

    agency_code: str
    birth_date: date
    address: str


Answer = Callable[[Session, str, Mapping[str, Any]], dict[str, Any]]
"""A data service's full answer for an agency code and the request's parameters."""

Maker = Callable[[Session, random.Random, Enrolment], Sequence[Base]]
"""The rows an agency creates for a newly enrolled person."""


@dataclass(frozen=True)
class DataService:
    """One data service an agency provides through the mesh."""

    code: str
    items: tuple[str, ...]
    answer: Answer
    summary: str


@dataclass(frozen=True)
class Agency:
    """A reference agency: its mesh identity, its table of people and its services."""

    name: str
    title: str
    member_class: Literal["GOV", "MUN", "COM", "MED"]
    member_code: str
    subsystem_code: str
    model: type[_OnFile]
    make: Maker
    services: tuple[DataService, ...]
    on_death: Callable[[Session, str], None] | None = None
    """What the agency does when the mesh tells it that a person it knows has died."""
    on_birth: Callable[[Session, str], None] | None = None
    """What the agency does when the mesh tells it that a child was born (the child's code)."""

    @property
    def member(self) -> str:
        """The X-Road member id, e.g. ``JP/GOV/NENKIN``."""
        return f"{INSTANCE}/{self.member_class}/{self.member_code}"

    @property
    def subsystem(self) -> str:
        """The X-Road subsystem id, e.g. ``JP/GOV/NENKIN/pension``."""
        return f"{self.member}/{self.subsystem_code}"

    def service(self, code: str) -> DataService:
        """The data service named ``code`` (``agencies.unknown_service`` if it has none)."""
        for service in self.services:
            if service.code == code:
                return service
        raise UnknownService(code)


def get_record(session: Session, agency: Agency, agency_code: str) -> _OnFile | None:
    """The agency's row for ``agency_code``, or None when it does not know the person."""
    return session.scalar(select(agency.model).where(agency.model.agency_code == agency_code))


def _rng(seed: int, agency: Agency, agency_code: str) -> random.Random:
    # Seeded by text (hashed with SHA-512 by random), so the record depends only on the seed,
    # the agency and the code, not on the order people are enrolled in.
    return random.Random(f"{seed}:{agency.name}:{agency_code}")  # noqa: S311 - synthetic data.


def enrol(session: Session, agency: Agency, enrolments: Iterable[Enrolment], *, seed: int) -> int:
    """Create the agency's synthetic records for people it does not know yet; how many it made."""
    made = 0
    for enrolment in enrolments:
        if get_record(session, agency, enrolment.agency_code) is not None:
            continue
        rows = agency.make(session, _rng(seed, agency, enrolment.agency_code), enrolment)
        if rows:
            session.add_all(rows)
            session.flush()
            made += 1
    return made


def enrol_many(
    session: Session, agency: Agency, enrolments: Sequence[Enrolment], *, seed: int
) -> int:
    """:func:`enrol` for many people at once: the codes the agency knows already are found in
    one query per thousand, and the new rows are written in one flush (the driver's batched
    insert). The records are the same as :func:`enrol` makes, whatever the order."""
    column = agency.model.agency_code
    wanted = [e.agency_code for e in enrolments]
    known: set[str] = set()
    for start in range(0, len(wanted), 1000):
        known.update(
            session.scalars(select(column).where(column.in_(wanted[start : start + 1000])))
        )
    made = 0
    rows: list[Base] = []
    for enrolment in enrolments:
        if enrolment.agency_code in known:
            continue
        known.add(enrolment.agency_code)
        new = agency.make(session, _rng(seed, agency, enrolment.agency_code), enrolment)
        if new:
            rows.extend(new)
            made += 1
    if rows:
        session.add_all(rows)
        session.flush()
    return made


def provide(
    session: Session,
    agency: Agency,
    service_code: str,
    agency_code: str,
    items: Sequence[str],
    *,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The requested ``items`` of a data service for the person the agency knows by the code.

    Errors: ``agencies.unknown_service`` (404), ``agencies.unknown_items`` (422, the items the
    service does not have), ``agencies.unknown_person`` (404, the agency does not know the code).
    """
    service = agency.service(service_code)
    unknown = [item for item in items if item not in service.items]
    if unknown or not items:
        raise UnknownItems(unknown or ["(none)"])
    answer = service.answer(session, agency_code, params or {})
    return {item: answer[item] for item in items}


def change_address(
    session: Session, agency: Agency, agency_code: str, address: str, *, on: date | None = None
) -> bool:
    """Update the address on file; False when the agency does not know the person.

    Idempotent: delivering the same change again leaves the row as it is.
    """
    row = get_record(session, agency, agency_code)
    if row is None:
        return False
    if row.address != address:
        row.address = address
        row.address_changed_on = on or clock.now().date()
        session.flush()
    return True


def require(session: Session, agency: Agency, agency_code: str) -> Any:
    """The agency's row for the code, or ``agencies.unknown_person``."""
    row = get_record(session, agency, agency_code)
    if row is None:
        raise UnknownPerson()
    return row


def fresh_digits(
    session: Session, rng: random.Random, column: Any, make: Callable[[random.Random], str]
) -> str:
    """A value from ``make`` not yet in ``column`` and never one that passes the My Number check
    digit, so that no agency number can be taken for an individual number."""
    from kiban.kernel.identifiers import is_valid_my_number  # noqa: PLC0415 - only here.

    while True:
        value = make(rng)
        if len(value) == 12 and is_valid_my_number(value):
            continue
        if session.scalar(select(column).where(column == value)) is None:
            return value
