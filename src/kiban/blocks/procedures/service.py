"""The procedures engine: applications as an append-only, hash-chained journal of actions.

Every write is a ``do_*`` action in the caller's transaction (nothing here commits). Each one
checks everything first, then claims the next version of the application with a conditional
``UPDATE … WHERE version = expected`` — so of two officials who read the same version only the
first one's action lands and the second gets ``procedures.version_conflict`` — then appends its
journal row, writes an audit entry and queues ``procedures.application_<action>`` in the outbox.

The engine knows no procedure: it reads the :class:`ProcedureDef` each time it acts. Prefill goes
through the mesh as the procedures subsystem, so each prefilled value has a source (registry,
as-of instant, message id) and the person sees the exchange in their access records.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from kiban.blocks import identity, mesh, notifications, residents
from kiban.blocks.procedures import events as topics
from kiban.blocks.procedures.definitions import (
    ActionDef,
    FieldDef,
    ProcedureDef,
    fee_paid,
    get_procedure,
    list_procedures,
)
from kiban.blocks.procedures.errors import (
    ActionNotAllowed,
    AlreadyClaimed,
    ApplicationNotFound,
    FeeUnpaid,
    FieldRequired,
    InvalidValue,
    NotApplicant,
    NotATask,
    NotClaimed,
    PrefilledField,
    PrefillUnavailable,
    ReadonlyField,
    ReasonRequired,
    RoleNotAllowed,
    SignatureRequired,
    SignerNotApplicant,
    UnknownAction,
    UnknownField,
    VersionConflict,
)
from kiban.blocks.procedures.models import ProceduresAction, ProceduresApplication
from kiban.blocks.procedures.schemas import (
    ActionRead,
    ApplicationPage,
    ApplicationRead,
    ApplicationSummary,
    FieldValueRead,
    JournalProblem,
    JournalReport,
    PrefillReport,
    SignatureRead,
    SourceRead,
    TimelineRead,
    TimelineStep,
)
from kiban.kernel import clock
from kiban.platform import audit, events
from kiban.platform.fields import MAX_JSON_BYTES

GENESIS: Final = "0" * 64
MEMBER: Final = "JP/GOV/kiban-procedures"
MEMBER_NAME: Final = "電子申請 (オンライン手続)"
SUBSYSTEM: Final = f"{MEMBER}/procedures"
"""The mesh subsystem the procedures block asks registries through. It is a member of its own,
not a subsystem of the register's member, because agency codes are per member: the procedures
service must not hold the register's codes for people."""

# The engine's own journal entries; a definition's actions may not use these names.
START: Final = "start"
SAVE: Final = "save"
CLAIM: Final = "claim"
RELEASE: Final = "release"
EFFECT: Final = "effect"
_ENGINE_LABELS: Final[dict[str, tuple[str, str]]] = {
    START: ("下書き作成", "Draft created"),
    SAVE: ("下書き保存", "Draft saved"),
    CLAIM: ("担当引受", "Task claimed"),
    RELEASE: ("担当解除", "Task released"),
    EFFECT: ("処理結果", "Outcome recorded"),
}
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
SIGNED_PREFIX: Final = "kiban-procedure-submission."
_TEXT_MAX: Final = 2000
_PEOPLE_MAX: Final = 50

Json = dict[str, Any]


actor_of = audit.person_actor
"""The actor name of a resident acting for themselves."""


# --- hashing --------------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """Canonical JSON: keys sorted, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def entry_hash(
    *,
    application_id: uuid.UUID,
    seq: int,
    action: str,
    actor: str,
    role: str,
    at: datetime,
    state_before: str | None,
    state_after: str,
    reason: str | None,
    data: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the entry's canonical JSON."""
    body = {
        "application_id": str(application_id),
        "seq": seq,
        "action": action,
        "actor": actor,
        "role": role,
        "at": audit.format_instant(at),
        "state_before": state_before,
        "state_after": state_after,
        "reason": reason,
        "data": dict(data),
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(body)).hexdigest()


def _row_hash(row: ProceduresAction) -> str:
    return entry_hash(
        application_id=row.application_id,
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        role=row.role,
        at=row.at,
        state_before=row.state_before,
        state_after=row.state_after,
        reason=row.reason,
        data=row.data,
        prev_hash=row.prev_hash,
    )


# --- the fold -------------------------------------------------------------------------------


def fold(journal: Sequence[ActionRead]) -> Json:
    """The application's state as the fold of its journal: what the projection must hold.

    Keys: state, version, values, sources, outputs, claimed_by, signature, submitted_at,
    closed_at.
    """
    result: Json = {
        "state": None,
        "version": 0,
        "values": {},
        "sources": {},
        "outputs": {},
        "claimed_by": None,
        "signature": None,
        "submitted_at": None,
        "closed_at": None,
    }
    for entry in journal:
        result["version"] = entry.seq
        data = entry.data
        if entry.action == START:
            result["values"] = dict(data.get("values", {}))
            result["sources"] = dict(data.get("sources", {}))
        elif entry.action == SAVE:
            result["values"].update(data.get("values", {}))
        elif entry.action == CLAIM:
            result["claimed_by"] = data["official"]
        elif entry.action == RELEASE:
            result["claimed_by"] = None
        elif entry.action == EFFECT:
            result["outputs"].update(data.get("outputs", {}))
        else:
            # A definition's action moves the state and ends whatever claim there was: the
            # task the official held is done, the next one (if any) is a new task.
            result["claimed_by"] = None
            if "signature" in data:
                result["signature"] = data["signature"]
                result["submitted_at"] = entry.at
        result["state"] = entry.state_after
        if data.get("final"):
            result["closed_at"] = entry.at
    return result


# --- reads ----------------------------------------------------------------------------------


def _get_row(session: Session, application_id: uuid.UUID) -> ProceduresApplication:
    row = session.get(ProceduresApplication, application_id)
    if row is None:
        raise ApplicationNotFound()
    return row


def _journal_rows(session: Session, application_id: uuid.UUID) -> list[ProceduresAction]:
    return list(
        session.scalars(
            select(ProceduresAction)
            .where(ProceduresAction.application_id == application_id)
            .order_by(ProceduresAction.seq)
        )
    )


def _action_read(row: ProceduresAction) -> ActionRead:
    return ActionRead(
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        role=row.role,
        at=row.at,
        state_before=row.state_before,
        state_after=row.state_after,
        reason=row.reason,
        data=dict(row.data),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _label(defn: ProcedureDef, action: str) -> tuple[str, str]:
    found = defn.action(action)
    if found is not None:
        return found.label_ja, found.label_en
    return _ENGINE_LABELS.get(action, (action, action))


def action_label(code: str, action: str, lang: str) -> str:
    """A journal entry's action in words (``effect`` is 処理結果 / Outcome recorded), in
    ``lang``: pages never show the journal's codes."""
    label_ja, label_en = _label(get_procedure(code), action)
    return label_en if lang == "en" else label_ja


def expected_completion(defn: ProcedureDef, submitted_at: datetime | None) -> date | None:
    """The submission day in Japan plus the procedure's service-level target."""
    if submitted_at is None:
        return None
    return clock.to_jst(submitted_at).date() + timedelta(days=defn.sla_days)


def _timeline(
    defn: ProcedureDef, row: ProceduresApplication, journal: list[ActionRead]
) -> TimelineRead:
    steps = []
    for entry in journal:
        if entry.action in (SAVE, CLAIM, RELEASE, EFFECT):
            continue
        label_ja, label_en = _label(defn, entry.action)
        steps.append(
            TimelineStep(
                state=entry.state_after,
                action=entry.action,
                label_ja=label_ja,
                label_en=label_en,
                at=entry.at,
            )
        )
    return TimelineRead(
        steps=steps,
        sla_days=defn.sla_days,
        expected_completion=expected_completion(defn, row.submitted_at),
        completed_at=row.closed_at,
    )


def _field_read(field: FieldDef, row: ProceduresApplication) -> FieldValueRead:
    source = row.sources.get(field.name)
    return FieldValueRead(
        name=field.name,
        label_ja=field.label_ja,
        label_en=field.label_en,
        kind=field.kind,
        required=field.required,
        readonly=field.readonly or field.prefill is not None,
        choices=list(field.choices),
        prefilled=source is not None,
        value=row.values.get(field.name),
        source=None if source is None else SourceRead.model_validate(source),
    )


def read(session: Session, row: ProceduresApplication) -> ApplicationRead:
    """The full DTO of an application (journal and timeline included)."""
    defn = get_procedure(row.code)
    journal = [_action_read(r) for r in _journal_rows(session, row.id)]
    return ApplicationRead(
        id=row.id,
        code=row.code,
        title_ja=defn.title_ja,
        title_en=defn.title_en,
        applicant_id=row.applicant_id,
        state=row.state,
        final=row.state in defn.final_states,
        version=row.version,
        office=row.office,
        claimed_by=row.claimed_by,
        fields=[_field_read(f, row) for f in defn.fields],
        values=dict(row.values),
        outputs=dict(row.outputs),
        signature=None if row.signature is None else SignatureRead.model_validate(row.signature),
        next_actions=[a.name for a in defn.actions_from(row.state)],
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        journal=journal,
        timeline=_timeline(defn, row, journal),
    )


def get_application(session: Session, application_id: uuid.UUID) -> ApplicationRead:
    return read(session, _get_row(session, application_id))


def _summary(row: ProceduresApplication) -> ApplicationSummary:
    defn = get_procedure(row.code)
    return ApplicationSummary(
        id=row.id,
        code=row.code,
        title_ja=defn.title_ja,
        title_en=defn.title_en,
        applicant_id=row.applicant_id,
        state=row.state,
        version=row.version,
        office=row.office,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        expected_completion=expected_completion(defn, row.submitted_at),
    )


def list_applications(
    session: Session,
    *,
    applicant: uuid.UUID | None = None,
    states: Iterable[str] | None = None,
    office: str | None = None,
    code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ApplicationPage:
    query = select(ProceduresApplication)
    if applicant is not None:
        query = query.where(ProceduresApplication.applicant_id == applicant)
    if states is not None:
        query = query.where(ProceduresApplication.state.in_(list(states)))
    if office is not None:
        query = query.where(ProceduresApplication.office == office)
    if code is not None:
        query = query.where(ProceduresApplication.code == code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ProceduresApplication.updated_at.desc(), ProceduresApplication.id)
        .limit(limit)
        .offset(offset)
    )
    return ApplicationPage(items=[_summary(r) for r in rows], total=total)


def _task_states(defn: ProcedureDef) -> set[str]:
    """States whose next action belongs to an official."""
    return {
        state
        for state in defn.states
        if state not in defn.final_states
        and any(a.role == "official" for a in defn.actions_from(state))
    }


def list_tasks(
    session: Session,
    *,
    office: str | None,
    departments: Collection[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ApplicationPage:
    """Applications waiting for an official (of ``office``, when given), oldest first; with
    ``departments``, only procedures handled by one of them (or by no department in
    particular)."""
    pairs = [
        (d.code, s)
        for d in list_procedures()
        if departments is None or d.department is None or d.department in departments
        for s in sorted(_task_states(d))
    ]
    if not pairs:
        return ApplicationPage(items=[], total=0)
    wanted = [
        (ProceduresApplication.code == code) & (ProceduresApplication.state == state)
        for code, state in pairs
    ]
    query = select(ProceduresApplication).where(or_(*wanted))
    if office is not None:
        query = query.where(ProceduresApplication.office == office)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ProceduresApplication.updated_at, ProceduresApplication.id)
        .limit(limit)
        .offset(offset)
    )
    return ApplicationPage(items=[_summary(r) for r in rows], total=total)


# --- the mesh member ------------------------------------------------------------------------


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
        _storable(field.name, received[field.prefill.item])
        values[field.name] = received[field.prefill.item]
        sources[field.name] = {
            "service": field.prefill.service,
            "item": field.prefill.item,
            "registry_ja": field.prefill.registry_ja,
            "registry_en": field.prefill.registry_en,
            "as_of": as_of,
            **source,
        }
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
            sources[field.name] = {
                "service": service,
                "item": field.prefill.item,
                "registry_ja": field.prefill.registry_ja,
                "registry_en": field.prefill.registry_en,
                "as_of": audit.format_instant(as_of),
                "message_id": reply.message_id,
            }
    return values, sources


# --- value checks ---------------------------------------------------------------------------


def _check_date(name: str, value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise InvalidValue(name, "日付 (YYYY-MM-DD) で入力してください", "must be a date YYYY-MM-DD")


def _check_people(name: str, value: Any) -> list[Any]:
    if (
        not isinstance(value, list)
        or len(value) > _PEOPLE_MAX
        or not all(isinstance(item, str | dict) for item in value)
    ):
        raise InvalidValue(name, "人の一覧で入力してください", "must be a list of people")
    return list(value)


def _storable(name: str, value: Any) -> None:
    """JSON that both databases store and give back unchanged (PostgreSQL refuses NUL in
    text), so that the journal's hashes recompute, and at most ``MAX_JSON_BYTES`` of it (the
    journal keeps every entry forever); else ``InvalidValue`` naming ``name``."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidValue(name, "JSON で表せる値にしてください", "must be plain JSON") from None
    if "\\u0000" in text:
        raise InvalidValue(name, "NUL 文字は使えません", "must not contain NUL characters")
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_JSON_BYTES:
        raise InvalidValue(name, "大きすぎます", f"is larger than {MAX_JSON_BYTES} bytes as JSON")


def _check_value(field: FieldDef, value: Any) -> Any:
    """The value in its stored (JSON) form, or ``InvalidValue`` naming the field."""
    name = field.name
    _storable(name, value)
    if value is None or value in ("", []):
        return None
    if field.kind == "date":
        return _check_date(name, value)
    if field.kind == "people":
        return _check_people(name, value)
    if not isinstance(value, str):
        raise InvalidValue(name, "文字列で入力してください", "must be a string")
    value = value.strip()
    if len(value) > _TEXT_MAX:
        raise InvalidValue(name, "長すぎます", f"is longer than {_TEXT_MAX} characters")
    if field.kind == "choice" and value not in field.choices:
        raise InvalidValue(
            name, "選択肢から選んでください", f"must be one of {', '.join(field.choices)}"
        )
    return value or None


def _check_complete(session: Session, defn: ProcedureDef, values: Mapping[str, Any]) -> None:
    for field in defn.fields:
        if field.required and values.get(field.name) in (None, "", []):
            raise FieldRequired(field.name)
    if defn.validate is not None:
        defn.validate(session, values)


# --- writes ---------------------------------------------------------------------------------


def _office(defn: ProcedureDef, session: Session, row: ProceduresApplication) -> str | None:
    if defn.office_of is None:
        return None
    return defn.office_of(read(session, row))


def _emit(
    session: Session, row: ProceduresApplication, entry: ProceduresAction, *, actor: str
) -> None:
    audit.record(
        session,
        tag=topics.audit_tag(entry.action),
        actor=actor,
        subject=str(row.id),
        data={"code": row.code, "seq": entry.seq, "state": entry.state_after},
    )
    events.emit(
        session,
        topics.topic(entry.action),
        {
            "application_id": str(row.id),
            "code": row.code,
            "applicant_id": str(row.applicant_id),
            "seq": entry.seq,
            "state_before": entry.state_before,
            "state": entry.state_after,
        },
        key=str(row.id),
    )


def _append(
    session: Session,
    row: ProceduresApplication,
    *,
    expected_version: int,
    action: str,
    actor: str,
    role: str,
    state_after: str,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> ProceduresAction:
    """Journal one action and move the projection, if nobody moved it since ``expected_version``."""
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    defn = get_procedure(row.code)
    at = clock.now()
    body = dict(data or {})
    if action not in (SAVE, CLAIM, RELEASE, EFFECT) and state_after in defn.final_states:
        body["final"] = True
    seq = expected_version + 1
    entry = ProceduresAction(
        id=uuid.uuid4(),
        application_id=row.id,
        seq=seq,
        action=action,
        actor=actor,
        role=role,
        at=at,
        state_before=row.state,
        state_after=state_after,
        reason=reason,
        data=body,
        prev_hash=row.head_hash,
    )
    entry.hash = _row_hash(entry)
    new: dict[str, Any] = {
        "version": seq,
        "state": state_after,
        "head_hash": entry.hash,
        "updated_at": at,
        **(changes or {}),
    }
    if body.get("final"):
        new["closed_at"] = at
    if "signature" in body:
        new["submitted_at"] = at
    moved = session.execute(
        update(ProceduresApplication)
        .where(
            ProceduresApplication.id == row.id, ProceduresApplication.version == expected_version
        )
        .values(**new)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", moved).rowcount != 1:
        session.refresh(row)
        raise VersionConflict(expected_version, row.version)
    session.add(entry)
    session.flush()
    session.refresh(row)
    _emit(session, row, entry, actor=actor)
    return entry


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
    entry = ProceduresAction(
        id=uuid.uuid4(),
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
    entry.hash = _row_hash(entry)
    row.head_hash = entry.hash
    session.add_all([row, entry])
    session.flush()
    row.office = _office(defn, session, row)
    session.flush()
    _emit(session, row, entry, actor=actor)
    return read(session, row)


def _check_applicant(row: ProceduresApplication, actor: str) -> None:
    if actor != actor_of(row.applicant_id):
        raise NotApplicant()


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
    row = _get_row(session, application_id)
    defn = get_procedure(row.code)
    _check_applicant(row, actor)
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
        cleaned[name] = _check_value(field, value)
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    merged = dict(row.values) | cleaned
    _append(
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


def submission_document(app: ApplicationRead) -> bytes:
    """The canonical JSON of what the applicant is shown and signs: the procedure, the
    application and its version, and every field with its label, value and source."""
    document = {
        "procedure": app.code,
        "title_ja": app.title_ja,
        "title_en": app.title_en,
        "application_id": str(app.id),
        "applicant_id": str(app.applicant_id),
        "version": app.version,
        "fields": [
            {
                "name": f.name,
                "label_ja": f.label_ja,
                "label_en": f.label_en,
                "value": f.value,
                "source": None
                if f.source is None
                else {
                    "registry_ja": f.source.registry_ja,
                    "as_of": audit.format_instant(f.source.as_of),
                    "message_id": f.source.message_id,
                },
            }
            for f in app.fields
        ],
    }
    return canonical(document)


def submission_payload(app: ApplicationRead) -> bytes:
    """The bytes the card's signing key signs: ``kiban-procedure-submission.`` followed by
    base64url (no padding) of SHA-256 of :func:`submission_document`.

    ASCII and URL-safe, so the card reader's challenge signing accepts it as it is; the hash
    binds the signature to exactly the document shown (at this version).
    """
    digest = hashlib.sha256(submission_document(app)).digest()
    return (SIGNED_PREFIX + _b64url(digest)).encode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _find_action(defn: ProcedureDef, name: str) -> ActionDef:
    action = defn.action(name)
    if action is None:
        raise UnknownAction(name)
    return action


def do_submit(
    session: Session,
    application_id: uuid.UUID,
    *,
    expected_version: int,
    signing_certificate: bytes,
    signature: bytes,
    actor: str,
) -> ApplicationRead:
    """Submit (take the definition's signed applicant action from the current state).

    Every field is checked (``procedures.field_required`` / ``invalid_value`` / the
    definition's own codes, naming the field); the signature over :func:`submission_payload`
    is verified with the card's signing certificate (``identity.certificate_*``,
    ``identity.signature_invalid``), which must belong to the applicant
    (``procedures.signer_not_applicant``). The certificate, signature, serial and revocation
    status at signing time are kept with the application.
    """
    row = _get_row(session, application_id)
    defn = get_procedure(row.code)
    _check_applicant(row, actor)
    action = next(
        (a for a in defn.actions_from(row.state) if a.signed and a.role == "applicant"), None
    )
    if action is None:
        raise ActionNotAllowed("submit", row.state)
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    _check_complete(session, defn, row.values)
    app = read(session, row)
    if defn.fee is not None and not fee_paid(session, app):
        raise FeeUnpaid(defn.fee.amount)
    payload = submission_payload(app)
    document = submission_document(app)
    verified = identity.verify_signature(
        session, signing_certificate, payload, signature, kind=identity.CertificateKind.SIGNING
    )
    if verified.person_id != row.applicant_id:
        raise SignerNotApplicant()
    evidence = {
        "certificate_der": _b64url(signing_certificate),
        "signature": _b64url(signature),
        "signed_data": payload.decode("ascii"),
        "document_sha256": hashlib.sha256(document).hexdigest(),
        "serial": verified.serial,
        "card_id": str(verified.card_id),
        # verify_signature refuses revoked and expired certificates, so one that passed was
        # good at this instant; the instant is kept to match it against the CRL later.
        "revocation_status": "good",
        "checked_at": audit.format_instant(clock.now()),
    }
    return _take(
        session,
        row,
        defn,
        action,
        role="applicant",
        actor=actor,
        expected_version=expected_version,
        extra={"signature": evidence},
        changes={"signature": evidence},
    )


def _take(
    session: Session,
    row: ProceduresApplication,
    defn: ProcedureDef,
    action: ActionDef,
    *,
    role: str,
    actor: str,
    expected_version: int,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> ApplicationRead:
    body: Json = dict(extra or {})
    if data:
        body["data"] = dict(data)
    new_changes: Json = {"claimed_by": None, **(changes or {})}
    entry = _append(
        session,
        row,
        expected_version=expected_version,
        action=action.name,
        actor=actor,
        role=role,
        state_after=action.to_state,
        reason=reason,
        data=body,
        changes=new_changes,
    )
    effect = defn.effects.get(action.name)
    if effect is not None:
        outputs = effect(session, read(session, row), _action_read(entry))
        if outputs:
            session.refresh(row)
            _append(
                session,
                row,
                expected_version=row.version,
                action=EFFECT,
                actor=actor,
                role="system",
                state_after=row.state,
                data={"action": action.name, "outputs": dict(outputs)},
                changes={"outputs": dict(row.outputs) | dict(outputs)},
            )
    office = _office(defn, session, row)
    if office != row.office:
        row.office = office
        session.flush()
    app = read(session, row)
    if action.notify is not None:
        _notify(session, defn, action, app, reason=reason, actor=actor)
    return app


def notice_params(
    defn: ProcedureDef, action: ActionDef, app: ApplicationRead, *, reason: str | None
) -> Json:
    """Every value a procedure's notice template may ask for; the template's declared
    parameters are picked from these (plus the outputs and string values of the form)."""
    pool: Json = {}
    for source in (app.values, app.outputs):
        for name, value in source.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                pool[name] = value
    pool.update(
        {
            "procedure_ja": defn.title_ja,
            "procedure_en": defn.title_en,
            "action_ja": action.label_ja,
            "action_en": action.label_en,
            "application_id": str(app.id),
            "state": app.state,
            "reason": reason or "",
        }
    )
    expected = app.timeline.expected_completion
    if expected is not None:
        pool["expected_completion"] = expected
    return pool


def _notify(
    session: Session,
    defn: ProcedureDef,
    action: ActionDef,
    app: ApplicationRead,
    *,
    reason: str | None,
    actor: str,
) -> None:
    assert action.notify is not None  # noqa: S101 - the caller checked.
    template = notifications.TEMPLATES.get(action.notify)
    pool = notice_params(defn, action, app, reason=reason)
    params = pool if template is None else {k: pool.get(k) for k in template.params}
    notifications.do_send_notice(
        session,
        app.applicant_id,
        action.notify,
        params,
        actor=actor,
        link=f"/portal/applications/{app.id}",
        # One notice per journalled step, however often a retry runs this.
        dedupe_key=f"procedures:{app.id}:{app.version}:{action.name}",
    )


def do_take_action(
    session: Session,
    application_id: uuid.UUID,
    action: str,
    *,
    role: str,
    actor: str,
    expected_version: int,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> ApplicationRead:
    """Take a definition's action. ``procedures.unknown_action``, ``procedures.role_not_allowed``
    (403), ``procedures.not_applicant`` (403), ``procedures.action_not_allowed`` (409, wrong
    state), ``procedures.not_claimed`` (409, an official who does not hold the claim),
    ``procedures.version_conflict`` (409), ``procedures.reason_required`` (422),
    ``procedures.signature_required`` (422: signed actions go through :func:`do_submit`),
    ``procedures.fee_unpaid`` (402: an official acting on an application whose fee was
    refunded in full)."""
    row, defn, found, reason = _checked_action(
        session, application_id, action, role=role, actor=actor, reason=reason, data=data
    )
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    if role == "official" and defn.fee is not None and not fee_paid(session, read(session, row)):
        raise FeeUnpaid(defn.fee.amount)
    return _take(
        session,
        row,
        defn,
        found,
        role=role,
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        data=data,
    )


def check_action(
    session: Session,
    application_id: uuid.UUID,
    action: str,
    *,
    role: str,
    actor: str,
    expected_version: int,
    reason: str | None = None,
) -> ActionDef:
    """What :func:`do_take_action` checks before it writes, without writing: the same errors,
    in the same order, so that a page can ask "are you sure?" only of an action that would be
    taken. Returns the action's definition."""
    row, _defn, found, _reason = _checked_action(
        session, application_id, action, role=role, actor=actor, reason=reason, data=None
    )
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    return found


def _checked_action(
    session: Session,
    application_id: uuid.UUID,
    action: str,
    *,
    role: str,
    actor: str,
    reason: str | None,
    data: Mapping[str, Any] | None,
) -> tuple[ProceduresApplication, ProcedureDef, ActionDef, str | None]:
    row = _get_row(session, application_id)
    defn = get_procedure(row.code)
    found = _find_action(defn, action)
    if role != found.role:
        raise RoleNotAllowed(action, role)
    if role == "applicant":
        _check_applicant(row, actor)
    if row.state not in found.from_states:
        raise ActionNotAllowed(action, row.state)
    if found.signed:
        raise SignatureRequired()
    if role == "official" and row.claimed_by != actor:
        raise NotClaimed()
    reason = (reason or "").strip() or None
    if found.needs_reason and reason is None:
        raise ReasonRequired()
    if reason is not None and len(reason) > _TEXT_MAX:
        raise InvalidValue("reason", "長すぎます", f"is longer than {_TEXT_MAX} characters")
    _storable("reason", reason)
    if data is not None:
        _storable("data", dict(data))
    return row, defn, found, reason


def do_claim_task(
    session: Session, application_id: uuid.UUID, *, official: str, expected_version: int
) -> ApplicationRead:
    """An official takes the task (``procedures.not_a_task``, ``procedures.already_claimed``,
    ``procedures.version_conflict``, or the definition's own error while the task is not ready,
    so that a task that cannot be completed yet is not left claimed). Claiming again by the
    holder changes nothing."""
    row = _get_row(session, application_id)
    defn = get_procedure(row.code)
    # The version first: an official who read an older version must reload and see who holds
    # the task now, rather than be told about a state they have not seen.
    if row.version != expected_version:
        raise VersionConflict(expected_version, row.version)
    if row.state not in _task_states(defn):
        raise NotATask(row.state)
    if row.claimed_by == official:
        return read(session, row)
    if row.claimed_by is not None:
        raise AlreadyClaimed(row.claimed_by)
    if defn.check_ready is not None:
        defn.check_ready(read(session, row))
    _append(
        session,
        row,
        expected_version=expected_version,
        action=CLAIM,
        actor=official,
        role="official",
        state_after=row.state,
        data={"official": official},
        changes={"claimed_by": official},
    )
    return read(session, row)


def do_release_task(
    session: Session, application_id: uuid.UUID, *, official: str, expected_version: int
) -> ApplicationRead:
    """The holder gives the task back to the queue (``procedures.not_claimed``,
    ``procedures.version_conflict``)."""
    row = _get_row(session, application_id)
    if row.claimed_by != official:
        raise NotClaimed()
    _append(
        session,
        row,
        expected_version=expected_version,
        action=RELEASE,
        actor=official,
        role="official",
        state_after=row.state,
        changes={"claimed_by": None},
    )
    return read(session, row)


# --- checks and reports ---------------------------------------------------------------------


def projection_of(app: ApplicationRead) -> Json:
    """The projection's values in the fold's shape, to compare with :func:`fold`."""
    return {
        "state": app.state,
        "version": app.version,
        "values": app.values,
        "sources": {
            name: {
                **source.model_dump(),
                "as_of": audit.format_instant(source.as_of),
            }
            for name, source in ((f.name, f.source) for f in app.fields)
            if source is not None
        },
        "outputs": app.outputs,
        "claimed_by": app.claimed_by,
        "signature": None
        if app.signature is None
        else {
            **app.signature.model_dump(mode="json"),
            "checked_at": audit.format_instant(app.signature.checked_at),
        },
        "submitted_at": app.submitted_at,
        "closed_at": app.timeline.completed_at,
    }


def verify_journal(session: Session, application_id: uuid.UUID) -> JournalReport:
    """Recompute the hash chain of the application's journal and compare the projection with
    the fold: a modified, deleted, inserted or reordered entry, or a projection that drifted
    from its journal, is reported."""
    row = _get_row(session, application_id)
    rows = _journal_rows(session, application_id)
    problems: list[JournalProblem] = []
    prev = GENESIS
    for expected_seq, entry in enumerate(rows, start=1):
        if entry.seq != expected_seq:
            problems.append(JournalProblem(seq=entry.seq, detail=f"expected seq {expected_seq}"))
        if entry.prev_hash != prev:
            problems.append(JournalProblem(seq=entry.seq, detail="prev_hash does not link"))
        if _row_hash(entry) != entry.hash:
            problems.append(JournalProblem(seq=entry.seq, detail="hash does not match the entry"))
        prev = entry.hash
    if row.head_hash != prev:
        problems.append(JournalProblem(seq=len(rows), detail="the head hash is not the last entry"))
    app = read(session, row)
    folded = fold(app.journal)
    projected = projection_of(app)
    problems.extend(
        JournalProblem(seq=app.version, detail=f"projection differs from the fold in {key}")
        for key in folded
        if folded[key] != projected[key]
    )
    return JournalReport(ok=not problems, entries=len(rows), problems=problems)


def prefill_report(session: Session, code: str) -> PrefillReport:
    """Counts over the procedure's submitted applications: values typed, values prefilled, and
    prefilled facts typed again (which once-only keeps at zero)."""
    defn = get_procedure(code)
    rows = list(
        session.scalars(
            select(ProceduresApplication).where(
                ProceduresApplication.code == code,
                ProceduresApplication.submitted_at.is_not(None),
            )
        )
    )
    prefillable = {f.name for f in defn.fields if f.prefill is not None}
    typed = prefilled = retyped = 0
    for row in rows:
        prefilled += sum(1 for name in row.sources if row.values.get(name) not in (None, "", []))
        typed_names: set[str] = set()
        for entry in _journal_rows(session, row.id):
            if entry.action == SAVE:
                typed_names.update(
                    name for name, value in entry.data.get("values", {}).items() if value
                )
        typed += len(
            [n for n in typed_names if row.values.get(n) not in (None, "", [])]
            if typed_names
            else []
        )
        retyped += len(typed_names & prefillable)
    return PrefillReport(
        code=code,
        applications=len(rows),
        typed=typed,
        prefilled=prefilled,
        retyped_prefilled=retyped,
    )


def household_member_id(session: Session, applicant: uuid.UUID, code: str) -> uuid.UUID:
    """The person a household member's code (as prefilled through the mesh) stands for,
    within the applicant's household; ``procedures.invalid_value`` (field ``people``) if the
    code names no member of it."""
    person = residents.get_person(session, applicant)
    for member in residents.get_household(session, person.household_id):
        if member.id != applicant and mesh.agency_code(session, SUBSYSTEM, member.id) == code:
            return member.id
    raise InvalidValue("people", "世帯の一員ではありません", "is not a member of the household")
