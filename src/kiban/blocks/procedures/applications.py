"""Starting applications and keeping drafts: a new draft is prefilled from the registries
through the mesh as the procedures subsystem, so each prefilled value has a source (registry,
as-of instant, message id) and the person sees the exchange in their access records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import mesh, residents
from kiban.blocks.procedures.actions import check_applicant
from kiban.blocks.procedures.definitions import FieldDef, PrefillSource, ProcedureDef, get_procedure
from kiban.blocks.procedures.errors import (
    ActionNotAllowed,
    InvalidValue,
    PrefilledField,
    PrefillUnavailable,
    ReadonlyField,
    UnknownField,
    VersionConflict,
)
from kiban.blocks.procedures.journal import GENESIS, SAVE, START, Json, append, emit, new_entry
from kiban.blocks.procedures.models import ProceduresApplication
from kiban.blocks.procedures.reads import current_office, get_row, read
from kiban.blocks.procedures.schemas import ApplicationRead
from kiban.blocks.procedures.values import check_value, storable
from kiban.kernel import clock
from kiban.platform import audit

MEMBER: Final = "JP/GOV/kiban-procedures"
MEMBER_NAME: Final = "電子申請 (オンライン手続)"
SUBSYSTEM: Final = f"{MEMBER}/procedures"
"""The mesh subsystem the procedures block asks registries through. It is a member of its own,
not a subsystem of the register's member, because agency codes are per member: the procedures
service must not hold the register's codes for people."""


_GRANTS: Final = (
    (
        mesh.BASIC_FOUR_SERVICE,
        mesh.BASIC_FOUR_LEGAL_BASIS,
        list(mesh.BASIC_FOUR_ITEMS),
        "行政手続の申請書の事前入力 (本人確認情報)",
    ),
    (
        mesh.HOUSEHOLD_SERVICE,
        mesh.HOUSEHOLD_LEGAL_BASIS,
        list(mesh.HOUSEHOLD_ITEMS),
        "行政手続の申請書の事前入力 (世帯)",
    ),
)


def register_procedures_member(session: Session, *, actor: str) -> str:
    """Make the procedures subsystem a mesh member with its grants, once (idempotent)."""
    mesh.register_register_services(session, actor=actor)
    if not any(m.xroad_id == MEMBER for m in mesh.list_members(session)):
        mesh.register_member(
            session,
            member_class="GOV",
            member_code=MEMBER.rsplit("/", 1)[1],
            name=MEMBER_NAME,
            actor=actor,
        )
    if not any(s.xroad_id == SUBSYSTEM for s in mesh.list_subsystems(session, MEMBER)):
        mesh.register_subsystem(session, MEMBER, SUBSYSTEM.rsplit("/", 1)[1], actor=actor)
    granted = {g.service for g in mesh.list_grants(session) if g.client == SUBSYSTEM}
    for service, legal_basis, items, task in _GRANTS:
        if service not in granted:
            mesh.grant(
                session,
                client=SUBSYSTEM,
                service=service,
                task=task,
                legal_basis=legal_basis,
                items=items,
                actor=actor,
            )
    return SUBSYSTEM


def _source(prefill: PrefillSource, as_of: str, extra: Mapping[str, Any]) -> Json:
    """Where a prefilled value came from: the registry's service and item, the instant, and
    ``extra`` (the message id; the sender of a received message)."""
    return {
        "service": prefill.service,
        "item": prefill.item,
        "registry_ja": prefill.registry_ja,
        "registry_en": prefill.registry_en,
        "as_of": as_of,
        **extra,
    }


def _received(
    defn: ProcedureDef, received: Mapping[str, Any], source: Mapping[str, Any]
) -> tuple[Json, Json]:
    """The values of prefilled fields that arrived in a message (their items), with sources."""
    values: Json = {}
    sources: Json = {}
    as_of = audit.format_instant(clock.now())
    for field in defn.fields:
        if field.prefill is None or field.prefill.item not in received:
            continue
        storable(field.name, received[field.prefill.item])
        values[field.name] = received[field.prefill.item]
        sources[field.name] = _source(field.prefill, as_of, source)
    return values, sources


def _prefill(
    session: Session,
    defn: ProcedureDef,
    applicant: uuid.UUID,
    *,
    actor: str,
    skip: frozenset[str] = frozenset(),
) -> tuple[Json, Json]:
    by_service: dict[str, list[FieldDef]] = {}
    for field in defn.fields:
        if field.prefill is not None and field.name not in skip:
            by_service.setdefault(field.prefill.service, []).append(field)
    values: Json = {}
    sources: Json = {}
    if not by_service:
        return values, sources
    register_procedures_member(session, actor=actor)
    code = mesh.agency_code(session, SUBSYSTEM, applicant)
    for service, fields in by_service.items():
        items = sorted({f.prefill.item for f in fields if f.prefill is not None})
        reply = mesh.call(
            session,
            client=SUBSYSTEM,
            service=service,
            agency_code=code,
            items=items,
            user_id=actor,
        )
        if not reply.ok or not isinstance(reply.body, dict):
            raise PrefillUnavailable(fields[0].name, reply.error or str(reply.status))
        as_of = clock.now()
        for field in fields:
            assert field.prefill is not None  # noqa: S101 - grouped by it above.
            if field.prefill.item not in reply.body:
                continue
            values[field.name] = reply.body[field.prefill.item]
            sources[field.name] = _source(
                field.prefill, audit.format_instant(as_of), {"message_id": reply.message_id}
            )
    return values, sources


def do_start_application(
    session: Session,
    code: str,
    *,
    applicant: uuid.UUID,
    actor: str,
    received: Mapping[str, Any] | None = None,
    received_source: Mapping[str, Any] | None = None,
    subject: uuid.UUID | None = None,
) -> ApplicationRead:
    """A draft of procedure ``code`` for ``applicant``, prefilled from the registries through
    the mesh. ``procedures.procedure_not_found``, ``residents.person_not_found``,
    ``procedures.prefill_unavailable``.

    ``received``: the items of a message that arrived through the mesh (a hospital's birth
    certificate); the prefilled fields whose item it carries take their value from it, with
    ``received_source`` (the sender, the message id) added to their source, and are not asked
    for again.

    ``subject`` is the person the form is about when it is not the applicant (a 死亡届 is filed
    by a relative about the deceased): the prefill asks the registries about the subject, so
    the exchanges are in the subject's access records. Whoever passes it has checked that the
    applicant may file about the subject."""
    defn = get_procedure(code)
    residents.get_person(session, applicant)
    if subject is not None:
        residents.get_person(session, subject)
    given, given_sources = _received(defn, received or {}, received_source or {})
    values, sources = _prefill(
        session, defn, subject or applicant, actor=actor, skip=frozenset(given)
    )
    values |= given
    sources |= given_sources
    at = clock.now()
    row = ProceduresApplication(
        id=uuid.uuid4(),
        code=code,
        applicant_id=applicant,
        state=defn.initial,
        version=1,
        office=None,
        claimed_by=None,
        values=values,
        sources=sources,
        outputs={},
        signature=None,
        submitted_at=None,
        closed_at=None,
        created_at=at,
        updated_at=at,
        head_hash=GENESIS,
    )
    entry = new_entry(
        application_id=row.id,
        seq=1,
        action=START,
        actor=actor,
        role="applicant",
        at=at,
        state_before=None,
        state_after=defn.initial,
        reason=None,
        data={"values": values, "sources": sources},
        prev_hash=GENESIS,
    )
    row.head_hash = entry.hash
    session.add_all([row, entry])
    session.flush()
    row.office = current_office(defn, session, row)
    session.flush()
    emit(session, row, entry, actor=actor)
    return read(session, row)


def do_save_draft(
    session: Session,
    application_id: uuid.UUID,
    values: Mapping[str, Any],
    *,
    expected_version: int,
    actor: str,
) -> ApplicationRead:
    """Keep the applicant's typed values (a draft may be incomplete). Prefilled fields are
    refused (``procedures.prefilled_field``), as are readonly and unknown ones; the state must
    allow the applicant to act (``procedures.action_not_allowed``)."""
    row = get_row(session, application_id)
    defn = get_procedure(row.code)
    check_applicant(row, actor)
    if not any(a.role == "applicant" for a in defn.actions_from(row.state)):
        raise ActionNotAllowed(SAVE, row.state)
    cleaned: Json = {}
    for name, value in values.items():
        field = defn.field(name)
        if field is None:
            raise UnknownField(name)
        if field.prefill is not None:
            raise PrefilledField(name)
        if field.readonly:
            raise ReadonlyField(name)
        cleaned[name] = check_value(field, value)
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    merged = dict(row.values) | cleaned
    append(
        session,
        row,
        expected_version=expected_version,
        action=SAVE,
        actor=actor,
        role="applicant",
        state_after=row.state,
        data={"values": cleaned},
        changes={"values": merged},
    )
    return read(session, row)


def household_member_id(session: Session, applicant: uuid.UUID, code: str) -> uuid.UUID:
    """The person a household member's code (as prefilled through the mesh) stands for,
    within the applicant's household; ``procedures.invalid_value`` (field ``people``) if the
    code names no member of it."""
    person = residents.get_person(session, applicant)
    for member in residents.get_household(session, person.household_id):
        if member.id != applicant and mesh.agency_code(session, SUBSYSTEM, member.id) == code:
            return member.id
    raise InvalidValue("people", "世帯の一員ではありません", "is not a member of the household")
