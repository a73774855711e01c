"""Qualifications: the national qualifications registry (国家資格の籍簿), issuer of licences.

Qualification types are data (:data:`QUALIFICATION_TYPES`: about thirty, each with its names,
issuing authority, legal basis and fields). A registration links a type to a register person
by the person's internal id (never the My Number) and walks ``active`` → ``suspended`` →
``active`` → ``revoked`` with its history; every change is an action with its audit entry and
an event (``qualifications.registered|renewed|suspended|reinstated|revoked``), which the
credentials block follows to set its status lists.

Issuing authorities act through officials: :func:`authorize` asks the staff policy function
for ``qualifications.<action>`` in the registration's authority (厚生労働省 ``agency:mhlw``,
国土交通省 ``agency:mlit``, or the registering prefecture for a prefectural type).
:func:`access_holders` is the checked read: it answers the holders' names from the register
and records the read per person.

Error codes (:mod:`kiban.blocks.qualifications.errors`): ``qualifications.type_not_found``,
``qualifications.holder_not_found`` (404); ``qualifications.already_registered``,
``qualifications.number_taken``, ``qualifications.invalid_transition`` (409);
``qualifications.invalid``, ``qualifications.not_a_prefecture`` (422).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import residents, staff
from kiban.blocks.qualifications import service
from kiban.blocks.qualifications.definitions import (
    AUTHORITIES,
    PREFECTURE,
    QUALIFICATION_TYPES,
    TYPES_BY_CODE,
    FieldInfo,
    QualificationType,
)
from kiban.blocks.qualifications.errors import (
    AlreadyRegistered,
    HolderNotFound,
    InvalidRegistration,
    InvalidTransition,
    NotAPrefecture,
    NumberTaken,
    QualificationNotFound,
)
from kiban.blocks.qualifications.events import (
    AUDIT_SEARCHED,
    REGISTERED,
    REINSTATED,
    RENEWED,
    REVOKED,
    SUSPENDED,
)
from kiban.blocks.qualifications.service import (
    ACTIVE,
    STATUSES,
    TRANSITIONS,
    HistoryRead,
    HolderRead,
    get_history,
    get_holder,
    get_type,
    list_holders,
    live_holding,
)
from kiban.kernel.errors import NotFound
from kiban.platform import audit
from kiban.platform.authority import Principal, Resource

__all__ = [
    "ACTIONS",
    "ACTIVE",
    "AUTHORITIES",
    "PREFECTURE",
    "QUALIFICATION_TYPES",
    "REGISTERED",
    "REINSTATED",
    "RENEWED",
    "REVOKED",
    "STATUSES",
    "SUSPENDED",
    "TRANSITIONS",
    "TYPES_BY_CODE",
    "AlreadyRegistered",
    "FieldInfo",
    "HistoryRead",
    "HolderNotFound",
    "HolderRead",
    "HolderWithName",
    "InvalidRegistration",
    "InvalidTransition",
    "NotAPrefecture",
    "NumberTaken",
    "QualificationNotFound",
    "QualificationType",
    "access_holders",
    "authority_name",
    "authorize",
    "change_as_system",
    "do_change",
    "do_record_search",
    "do_register",
    "get_history",
    "get_holder",
    "get_type",
    "list_holders",
    "live_holding",
    "register_as_system",
    "registering_authority",
]

ACTIONS: Final = {
    "renewed": "qualifications.renew",
    "suspended": "qualifications.suspend",
    "reinstated": "qualifications.reinstate",
    "revoked": "qualifications.revoke",
}
"""The permission each change of a registration asks for."""
HOLDER_ITEMS: Final = ("name",)


def authority_name(session: Session, code: str) -> tuple[str, str]:
    """The Japanese and English name of an issuing authority (厚生労働省, 東京都, ...)."""
    for known, ja, en in AUTHORITIES:
        if known == code:
            return ja, en
    try:
        found = staff.get_organisation(session, code)
    except NotFound:
        return code, code
    return found.name_ja, found.name_en


def registering_authority(session: Session, principal: Principal, qualification: str) -> str:
    """The authority a registration of ``qualification`` by ``principal`` falls under: the
    type's own, or the official's prefecture for a prefectural type."""
    kind = get_type(qualification)
    if kind.authority != PREFECTURE:
        return kind.authority
    organisation = staff.get_organisation(session, principal.organisation)
    if organisation.kind != staff.OrganisationKind.PREFECTURE:
        raise NotAPrefecture
    return organisation.code


def authorize(
    session: Session,
    principal: Principal,
    action: str,
    *,
    authority: str,
    person_id: uuid.UUID | None = None,
) -> None:
    """Ask the staff policy whether ``principal`` may take ``action``
    (``qualifications.read|register|renew|suspend|reinstate|revoke``) in ``authority``; an
    official never acts on their own registration."""
    staff.authorize(
        session,
        principal,
        action,
        organisation=authority,
        resource=Resource(subject_person=person_id, person=person_id)
        if person_id is not None
        else None,
    )


def do_register(
    session: Session,
    principal: Principal,
    *,
    qualification: str,
    person_id: uuid.UUID,
    registration_number: str,
    registered_on: date,
    details: dict[str, str] | None = None,
) -> HolderRead:
    """Register a person's qualification as ``principal`` (asks ``qualifications.register``
    in the authority first)."""
    authority = registering_authority(session, principal, qualification)
    authorize(
        session, principal, "qualifications.register", authority=authority, person_id=person_id
    )
    return service.do_register(
        session,
        qualification=qualification,
        person_id=person_id,
        registration_number=registration_number,
        registered_on=registered_on,
        authority=authority,
        details=details,
        actor=principal.actor,
    )


def do_change(
    session: Session,
    principal: Principal,
    holder_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    until: date | None = None,
    expected_version: int | None = None,
) -> HolderRead:
    """Renew, suspend, reinstate or revoke a registration as ``principal`` (asks the action's
    permission in the registration's authority first)."""
    if action not in ACTIONS:
        raise InvalidRegistration("action", "不明な操作です", f"unknown action {action}")
    holder = get_holder(session, holder_id)
    authorize(
        session, principal, ACTIONS[action], authority=holder.authority, person_id=holder.person_id
    )
    return service.do_change(
        session,
        holder_id,
        action,
        reason=reason,
        until=until,
        expected_version=expected_version,
        actor=principal.actor,
    )


def register_as_system(
    session: Session,
    *,
    qualification: str,
    person_id: uuid.UUID,
    registration_number: str,
    registered_on: date,
    authority: str | None = None,
    actor: str,
) -> HolderRead:
    """Register without an official (the demo seed and tests): ``authority`` defaults to the
    type's own."""
    kind = get_type(qualification)
    return service.do_register(
        session,
        qualification=qualification,
        person_id=person_id,
        registration_number=registration_number,
        registered_on=registered_on,
        authority=authority or kind.authority,
        actor=actor,
    )


def change_as_system(
    session: Session,
    holder_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    until: date | None = None,
    actor: str,
) -> HolderRead:
    """A change without an official (tests, migrations of data)."""
    return service.do_change(session, holder_id, action, reason=reason, until=until, actor=actor)


def do_record_search(session: Session, principal: Principal, *, authority: str, found: int) -> None:
    """Audit a search of the register by registration number (the number itself is not
    kept: the read records name whom it found)."""
    audit.record(
        session,
        tag=AUDIT_SEARCHED,
        actor=principal.actor,
        subject=f"qualifications:{authority}",
        data={"authority": authority, "found": found},
    )


@dataclass(frozen=True)
class HolderWithName:
    """A registration and the holder's name as the register gives it."""

    holder: HolderRead
    name: str


def access_holders(
    session: Session,
    principal: Principal,
    *,
    authority: str,
    qualification: str | None = None,
    registration_number: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    route: str,
) -> list[HolderWithName]:
    """The registrations in ``authority`` with their holders' names, after asking
    ``qualifications.read`` there; each holder shown is recorded as read."""
    authorize(session, principal, "qualifications.read", authority=authority)
    found = service.list_holders(
        session,
        authority=authority,
        qualification=qualification,
        registration_number=registration_number,
        status=status,
        limit=limit,
        offset=offset,
    )
    names = residents.access_names_by_person_ids(
        session,
        residents.Reader(
            actor=principal.actor,
            actor_id=str(principal.account_id),
            organisation=principal.organisation,
            role=principal.role,
        ),
        [h.person_id for h in found],
        purpose=residents.ReadPurpose.QUALIFICATIONS,
        route=route,
    )
    return [HolderWithName(h, names.get(h.person_id, "")) for h in found]
