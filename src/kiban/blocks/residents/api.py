"""HTTP API of the resident register: ``/api/v1/residents``. Thin: it calls the facade.

Every route needs an official's session or a service account's API key, and asks the one
policy function (``kiban.blocks.staff.authorize`` through ``kiban.platform.authority``) for
the action on the municipality the record belongs to; reading a record and issuing a
certificate are audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.kernel.errors import ValidationFailed
from kiban.platform.authority import Acting, Principal, Resource, authorize
from kiban.platform.webkit import DbSession

Actor = Acting

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
    municipality: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="6-digit lg_code")
    ] = None,
    status_: Annotated[residents.Status, Query(alias="status")] = residents.Status.RESIDENT,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[residents.PersonRead]:
    """Residents of one municipality (the official's own when not given) ordered by kana,
    without individual numbers."""
    if municipality is None:
        if not actor.organisation.isdigit():
            raise ValidationFailed(
                "市区町村コードを指定してください。", "Name the municipality.", field="municipality"
            )
        municipality = actor.organisation
    _ask(session, actor, "residents.read", municipality)
    return residents.list_people(
        session, lg_code=municipality, status=status_, limit=limit, offset=offset
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


@router.get("/{person_id}", summary="Read a resident record")
def get_person(person_id: uuid.UUID, session: DbSession, actor: Actor) -> residents.PersonRead:
    """The current record (the basic four, household, status), without the individual number."""
    _ask(session, actor, "residents.read", _of_person(session, person_id), person_id)
    return residents.get_person(session, person_id)


@router.get("/{person_id}/history", summary="Every version of a record")
def get_history(
    person_id: uuid.UUID, session: DbSession, actor: Actor
) -> list[residents.RecordVersionRead]:
    """Past records stay readable (除票, 改製原住民票): one entry per change, oldest first."""
    _ask(session, actor, "residents.read", _of_person(session, person_id), person_id)
    return residents.get_history(session, person_id)


@router.get("/{person_id}/certificate", summary="Certificate of residence (住民票の写し)")
def get_certificate(
    person_id: uuid.UUID,
    session: DbSession,
    actor: Actor,
    household: Annotated[bool, Query(description="Include the whole household")] = False,
    individual_number: Annotated[
        bool, Query(description="Include individual numbers (only at the person's request)")
    ] = False,
) -> residents.CertificateRead:
    """Issues (and audits) a certificate of residence as JSON."""
    who = _ask(
        session, actor, "residents.certificate.issue", _of_person(session, person_id), person_id
    )
    return residents.issue_certificate(
        session,
        person_id,
        whole_household=household,
        include_individual_number=individual_number,
        actor=who,
    )


@router.post("/{person_id}/move-out", summary="Moving-out notice (転出届)")
def move_out(
    person_id: uuid.UUID, data: residents.MoveOutCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.move_out(session, person_id, data, actor=who)


@router.post("/{person_id}/move-in", summary="Moving-in notice (転入届)")
def move_in(
    person_id: uuid.UUID, data: residents.MoveInCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_address(session, data.address))
    return residents.move_in(session, person_id, data, actor=who)


@router.post("/{person_id}/move-within", summary="Change of address (転居届)")
def move_within(
    person_id: uuid.UUID, data: residents.MoveWithinCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.move_within(session, person_id, data, actor=who)


@router.post("/{person_id}/death", summary="Death registration (死亡届)")
def record_death(
    person_id: uuid.UUID, data: residents.DeathCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.record_death(session, person_id, data, actor=who)


@router.post("/{person_id}/name", summary="Change of name")
def change_name(
    person_id: uuid.UUID, data: residents.NameChangeCreate, session: DbSession, actor: Actor
) -> residents.PersonRead:
    who = _ask(session, actor, "residents.write", _of_person(session, person_id))
    return residents.change_name(session, person_id, data, actor=who)
