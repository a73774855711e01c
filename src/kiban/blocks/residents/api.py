"""HTTP API of the resident register: ``/api/v1/residents``. Thin: it calls the facade.

Every route needs an official's session or a service account's API key, and asks the one
policy function (``kiban.blocks.staff.authorize`` through ``kiban.platform.authority``) for
the action on the municipality the record belongs to. Every read (the list, one record, its
history, a certificate) goes through an ``access_*`` function that records one read per person
shown, with the official and the route; writes are audited by their actions.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.kernel.errors import ValidationFailed
from kiban.platform.authority import Acting, Principal, Resource, authorize
from kiban.platform.fields import LongLimit, Offset
from kiban.platform.webkit import DbSession, RouteName

Actor = Acting
REGISTER = residents.ReadPurpose.REGISTER_ADMINISTRATION

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials: `staff.principal_required`/`key_invalid`"},
    403: {"description": "`staff.not_permitted`, `staff.other_organisation`"},
    404: {"description": "Unknown person or household: `residents.person_not_found` and so on"},
    409: {"description": "The person's status does not allow this: `residents.wrong_status`"},
    422: {"description": "Invalid input, `error.field` names it: `residents.invalid`"},
}

router = APIRouter(prefix="/api/v1/residents", tags=["residents"], responses=ERRORS)


def _of_person(session: Session, person_id: uuid.UUID) -> str:
    """The municipality whose register holds the person (the organisation that may act)."""
    return residents.get_person(session, person_id).address.lg_code


def _of_address(session: Session, data: address.AddressInput) -> str:
    """The municipality of an address being registered (invalid input answers 422 here)."""
    return address.place_address(session, data).town.lg_code


def _ask(
    session: Session,
    actor: Principal,
    action: str,
    organisation: str,
    person: uuid.UUID | None = None,
) -> str:
    authorize(session, actor, action, organisation=organisation, resource=Resource(person=person))
    return actor.actor


@router.get("", summary="List residents")
def list_residents(
    session: DbSession,
    actor: Actor,
    route: RouteName,
    municipality: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="6-digit lg_code")
    ] = None,
    status_: Annotated[residents.Status, Query(alias="status")] = residents.Status.RESIDENT,
    limit: LongLimit = 50,
    offset: Offset = 0,
) -> list[residents.PersonRead]:
    """Residents of one municipality (the official's own when not given) ordered by kana,
    without individual numbers. Recorded: one read per person listed."""
    if municipality is None:
        if not actor.organisation.isdigit():
            raise ValidationFailed(
                "市区町村コードを指定してください。", "Name the municipality.", field="municipality"
            )
        municipality = actor.organisation
    _ask(session, actor, "residents.read", municipality)
    return residents.access_people_by_municipality(
        session,
        actor,
        lg_code=municipality,
        status=status_,
        limit=limit,
        offset=offset,
        purpose=REGISTER,
        route=route,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a person")
def register_person(
    data: residents.PersonCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    """Register someone who enters the register from outside it; assigns an individual number."""
    who = _ask(session, actor, "residents.write", _of_address(session, data.address))
    return residents.register_person(session, data, actor=who)


@router.post("/births", status_code=status.HTTP_201_CREATED, summary="Register a birth (出生届)")
def register_birth(
    data: residents.BirthCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    """The child joins the parent's household and address and gets an individual number."""
    who = _ask(session, actor, "residents.write", _of_person(session, data.parent_id))
    return residents.register_birth(session, data, actor=who)


@router.get("/{person_id:uuid}", summary="Read a resident record")
def get_person(
    person_id: uuid.UUID, session: DbSession, actor: Actor, route: RouteName
) -> residents.PersonRead:
    """The current record (the basic four, household, status), without the individual number.
    Recorded as a read of the person."""
    _ask(session, actor, "residents.read", _of_person(session, person_id), person_id)
    return residents.access_person_by_id(session, actor, person_id, purpose=REGISTER, route=route)


@router.get("/{person_id:uuid}/history", summary="Every version of a record")
def get_history(
    person_id: uuid.UUID, session: DbSession, actor: Actor, route: RouteName
) -> list[residents.RecordVersionRead]:
    """Past records stay readable (除票, 改製原住民票): one entry per change, oldest first.
    Recorded as a read of the person."""
    _ask(session, actor, "residents.read", _of_person(session, person_id), person_id)
    return residents.access_history_by_person_id(
        session, actor, person_id, purpose=REGISTER, route=route
    )


@router.get("/{person_id:uuid}/certificate", summary="Certificate of residence (住民票の写し)")
def get_certificate(
    person_id: uuid.UUID,
    session: DbSession,
    actor: Actor,
    route: RouteName,
    household: Annotated[bool, Query(description="Include the whole household")] = False,
    individual_number: Annotated[
        bool, Query(description="Include individual numbers (only at the person's request)")
    ] = False,
) -> residents.CertificateRead:
    """Issues (and audits) a certificate of residence as JSON; recorded as a read of everyone
    on it."""
    _ask(session, actor, "residents.certificate.issue", _of_person(session, person_id), person_id)
    return residents.access_certificate_by_person_id(
        session,
        actor,
        person_id,
        whole_household=household,
        include_individual_number=individual_number,
        route=route,
    )


@router.post("/{person_id:uuid}/move-out", summary="Moving-out notice (転出届)")
def move_out(
    person_id: uuid.UUID, data: residents.MoveOutCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.move_out(session, person_id, data, actor=who)


@router.post("/{person_id:uuid}/move-in", summary="Moving-in notice (転入届)")
def move_in(
    person_id: uuid.UUID, data: residents.MoveInCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_address(session, data.address))
    return residents.move_in(session, person_id, data, actor=who)


@router.post("/{person_id:uuid}/move-within", summary="Change of address (転居届)")
def move_within(
    person_id: uuid.UUID, data: residents.MoveWithinCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.move_within(session, person_id, data, actor=who)


@router.post("/{person_id:uuid}/death", summary="Death registration (死亡届)")
def record_death(
    person_id: uuid.UUID, data: residents.DeathCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.record_death(session, person_id, data, actor=who)


@router.post("/{person_id:uuid}/name", summary="Change of name")
def change_name(
    person_id: uuid.UUID, data: residents.NameChangeCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.change_name(session, person_id, data, actor=who)
