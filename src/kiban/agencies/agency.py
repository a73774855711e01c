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

import functools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.errors import UnknownItems, UnknownPerson, UnknownService
from kiban.agencies.models import _OnFile
from kiban.kernel import clock
from kiban.platform import bulk
from kiban.platform.db import Base

__all__ = [
    "Agency",
    "DataService",
    "Enrolment",
    "NewRow",
    "change_address",
    "enrol",
    "enrol_many",
    "fresh_digits",
    "get_record",
    "new_row",
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


@dataclass(frozen=True, slots=True)
class NewRow:
    """A row an agency's maker creates: its model and its column values by attribute name.

    Makers return values rather than ORM objects: bulk enrolment writes them with ``COPY``
    without the cost of building and flushing an object per row."""

    model: type[Base]
    values: dict[str, Any]

    def instance(self) -> Base:
        """The row as a new ORM object, for the session."""
        return self.model(**self.values)


def new_row(model: type[Base], **values: Any) -> NewRow:
    """A :class:`NewRow` of ``model`` with ``values``."""
    return NewRow(model, values)


Maker = Callable[[Session, random.Random, Enrolment], Sequence[NewRow]]
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
            session.add_all([row.instance() for row in rows])
            session.flush()
            made += 1
    return made


def enrol_many(
    session: Session, agency: Agency, enrolments: Sequence[Enrolment], *, seed: int
) -> int:
    """:func:`enrol` for many people at once; the records are the same as :func:`enrol` makes
    one by one in this order.

    The codes the agency knows already are found in one query per thousand. The makers draw
    their unique numbers (:func:`fresh_digits`) without a query each: the numbers drawn are
    checked afterwards, one query per thousand per column. A person whose number is taken (in
    the table or by someone earlier in the batch) is enrolled afterwards by :func:`enrol`, which
    draws again, as it would have one by one. The rows go in one ``COPY`` per table on
    PostgreSQL, one flush elsewhere."""
    column = agency.model.agency_code
    wanted = [e.agency_code for e in enrolments]
    known: set[str] = set()
    for start in range(0, len(wanted), 1000):
        known.update(
            session.scalars(select(column).where(column.in_(wanted[start : start + 1000])))
        )
    made: list[tuple[Enrolment, Sequence[NewRow], list[tuple[Any, str]]]] = []
    claims: list[tuple[Any, str]] = []
    token = _drawn.set(claims)
    try:
        for enrolment in enrolments:
            if enrolment.agency_code in known:
                continue
            known.add(enrolment.agency_code)
            claims.clear()
            new = agency.make(session, _rng(seed, agency, enrolment.agency_code), enrolment)
            if new:
                made.append((enrolment, new, list(claims)))
    finally:
        _drawn.reset(token)
    taken = _taken(session, [claim for _, _, drawn in made for claim in drawn])
    rows: list[NewRow] = []
    later: list[Enrolment] = []
    for enrolment, new, drawn in made:
        if any(claim in taken for claim in drawn):
            later.append(enrolment)
            continue
        taken.update(drawn)
        rows.extend(new)
    write_rows(session, rows)
    return len(made) - len(later) + enrol(session, agency, later, seed=seed)


_drawn: ContextVar[list[tuple[Any, str]] | None] = ContextVar("agencies_drawn", default=None)
"""Inside :func:`enrol_many`: the (column, value) pairs the maker drew, checked afterwards."""


def _taken(session: Session, claims: Sequence[tuple[Any, str]]) -> set[tuple[Any, str]]:
    """The claims whose value is already in its column's table."""
    by_column: dict[Any, list[str]] = {}
    for claimed, value in claims:
        by_column.setdefault(claimed, []).append(value)
    taken: set[tuple[Any, str]] = set()
    for claimed, values in by_column.items():
        for start in range(0, len(values), 1000):
            found = session.scalars(
                select(claimed).where(claimed.in_(values[start : start + 1000]))
            )
            taken.update((claimed, value) for value in found)
    return taken


def write_rows(session: Session, rows: Sequence[NewRow]) -> None:
    """Insert new rows in the caller's transaction: one ``COPY`` per table on PostgreSQL, with
    the columns' Python defaults applied as a flush would; as ORM objects and one flush
    elsewhere. The rows written by ``COPY`` are not in the session."""
    if not rows:
        return
    connection = session.connection()
    if not bulk.is_postgresql(connection) or not all(_copyable(r.model) for r in rows):
        session.add_all([row.instance() for row in rows])
        session.flush()
        return
    by_model: dict[type[Base], list[dict[str, Any]]] = {}
    for row in rows:
        by_model.setdefault(row.model, []).append(row.values)
    for model, group in by_model.items():
        columns = _copy_columns(model)
        names = [name for _, name, _ in columns]
        values = ([_value(row, key, default) for key, _, default in columns] for row in group)
        bulk.copy_rows(connection, model.__tablename__, names, values)


def _value(values: dict[str, Any], key: str, default: Callable[[], Any]) -> Any:
    # An attribute the maker did not set takes the column's default, as in a flush.
    return values[key] if key in values else default()


_Column = tuple[str, str, Callable[[], Any]]
_columns_of: dict[type[Base], list[_Column] | None] = {}


def _copyable(model: type[Base]) -> bool:
    return _copy_columns_or_none(model) is not None


def _copy_columns(model: type[Base]) -> list[_Column]:
    columns = _copy_columns_or_none(model)
    if columns is None:  # pragma: no cover - write_rows checks first.
        raise TypeError(f"{model.__name__} cannot be copied")
    return columns


def _copy_columns_or_none(model: type[Base]) -> list[_Column] | None:
    """(attribute, column, default) of every column of ``model``; None when a column's default
    is not a plain Python value or function (then the rows go through a flush)."""
    if model not in _columns_of:
        _columns_of[model] = _plain_columns(model)
    return _columns_of[model]


def _none() -> Any:
    return None


def _plain_columns(model: type[Base]) -> list[_Column] | None:
    columns: list[_Column] = []
    for attribute in sa_inspect(model).column_attrs:
        column = attribute.columns[0]
        default: Any = column.default
        if default is None and column.server_default is None:
            columns.append((attribute.key, column.name, _none))
        elif default is not None and default.is_scalar:
            columns.append((attribute.key, column.name, functools.partial(_same, default.arg)))
        elif default is not None and default.is_callable:
            # SQLAlchemy wraps a function of no arguments into one of the execution context.
            columns.append((attribute.key, column.name, functools.partial(default.arg, None)))
        else:
            return None
    return columns


def _same(value: Any) -> Any:
    return value


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
    digit, so that no agency number can be taken for an individual number. Inside
    :func:`enrol_many` the value is not looked up here: the batch checks every value it drew at
    once."""
    from kiban.kernel.identifiers import is_valid_my_number  # noqa: PLC0415 - only here.

    drawn = _drawn.get()
    while True:
        value = make(rng)
        if len(value) == 12 and is_valid_my_number(value):
            continue
        if drawn is not None:
            drawn.append((column, value))
            return value
        if session.scalar(select(column).where(column == value)) is None:
            return value
