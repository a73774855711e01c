"""HTTP API of the resident register: ``/api/v1/residents``. Thin: it calls the facade.

Every route requires the operator token until official sign-in (OIDC) arrives; reading a
record and issuing a certificate are audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from kiban.blocks import residents
from kiban.platform.fields import LongLimit, Offset
from kiban.platform.webkit import DbSession, require_operator

Operator = Annotated[str, Depends(require_operator)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong operator token: `kiban.auth.token_required`/`_invalid`"},
    404: {"description": "Unknown person or household: `residents.person_not_found` and so on"},
    409: {"description": "The person's status does not allow this: `residents.wrong_status`"},
    422: {"description": "Invalid input, `error.field` names it: `residents.invalid`"},
}

router = APIRouter(prefix="/api/v1/residents", tags=["residents"], responses=ERRORS)


@router.get("", summary="List residents")
def list_residents(
    session: DbSession,
    _actor: Operator,
    municipality: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="6-digit lg_code")
    ] = None,
    status_: Annotated[residents.Status, Query(alias="status")] = residents.Status.RESIDENT,
    limit: LongLimit = 50,
    offset: Offset = 0,
) -> list[residents.PersonRead]:
    """Residents ordered by municipality and kana, without individual numbers."""
    return residents.list_people(
        session, lg_code=municipality, status=status_, limit=limit, offset=offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a person")
def register_person(
    data: residents.PersonCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    """Register someone who enters the register from outside it; assigns an individual number."""
    return residents.register_person(session, data, actor=actor)


@router.post("/births", status_code=status.HTTP_201_CREATED, summary="Register a birth (出生届)")
def register_birth(
    data: residents.BirthCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    """The child joins the parent's household and address and gets an individual number."""
    return residents.register_birth(session, data, actor=actor)


@router.get("/{person_id:uuid}", summary="Read a resident record")
def get_person(person_id: uuid.UUID, session: DbSession, _actor: Operator) -> residents.PersonRead:
    """The current record (the basic four, household, status), without the individual number."""
    return residents.get_person(session, person_id)


@router.get("/{person_id:uuid}/history", summary="Every version of a record")
def get_history(
    person_id: uuid.UUID, session: DbSession, _actor: Operator
) -> list[residents.RecordVersionRead]:
    """Past records stay readable (除票, 改製原住民票): one entry per change, oldest first."""
    return residents.get_history(session, person_id)


@router.get("/{person_id:uuid}/certificate", summary="Certificate of residence (住民票の写し)")
def get_certificate(
    person_id: uuid.UUID,
    session: DbSession,
    actor: Operator,
    household: Annotated[bool, Query(description="Include the whole household")] = False,
    individual_number: Annotated[
        bool, Query(description="Include individual numbers (only at the person's request)")
    ] = False,
) -> residents.CertificateRead:
    """Issues (and audits) a certificate of residence as JSON."""
    return residents.issue_certificate(
        session,
        person_id,
        whole_household=household,
        include_individual_number=individual_number,
        actor=actor,
    )


@router.post("/{person_id:uuid}/move-out", summary="Moving-out notice (転出届)")
def move_out(
    person_id: uuid.UUID, data: residents.MoveOutCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    return residents.move_out(session, person_id, data, actor=actor)


@router.post("/{person_id:uuid}/move-in", summary="Moving-in notice (転入届)")
def move_in(
    person_id: uuid.UUID, data: residents.MoveInCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    return residents.move_in(session, person_id, data, actor=actor)


@router.post("/{person_id:uuid}/move-within", summary="Change of address (転居届)")
def move_within(
    person_id: uuid.UUID, data: residents.MoveWithinCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    return residents.move_within(session, person_id, data, actor=actor)


@router.post("/{person_id:uuid}/death", summary="Death registration (死亡届)")
def record_death(
    person_id: uuid.UUID, data: residents.DeathCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    return residents.record_death(session, person_id, data, actor=actor)


@router.post("/{person_id:uuid}/name", summary="Change of name")
def change_name(
    person_id: uuid.UUID, data: residents.NameChangeCreate, session: DbSession, actor: Operator
) -> residents.PersonRead:
    return residents.change_name(session, person_id, data, actor=actor)
