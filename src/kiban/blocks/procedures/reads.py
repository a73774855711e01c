"""Reads of applications: the full DTO with its journal and timeline, and the pages of
summaries that lists and queues show."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kiban.blocks.procedures.definitions import FieldDef, ProcedureDef, get_procedure
from kiban.blocks.procedures.errors import ApplicationNotFound
from kiban.blocks.procedures.journal import (
    ENGINE_ACTIONS,
    ENGINE_LABELS,
    action_read,
    journal_rows,
)
from kiban.blocks.procedures.models import ProceduresApplication
from kiban.blocks.procedures.schemas import (
    ActionRead,
    ApplicationPage,
    ApplicationRead,
    ApplicationSummary,
    FieldValueRead,
    SignatureRead,
    SourceRead,
    TimelineRead,
    TimelineStep,
)
from kiban.kernel import clock


def get_row(session: Session, application_id: uuid.UUID) -> ProceduresApplication:
    row = session.get(ProceduresApplication, application_id)
    if row is None:
        raise ApplicationNotFound()
    return row


def _label(defn: ProcedureDef, action: str) -> tuple[str, str]:
    found = defn.action(action)
    if found is not None:
        return found.label_ja, found.label_en
    return ENGINE_LABELS.get(action, (action, action))


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
        if entry.action in ENGINE_ACTIONS:
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
    journal = [action_read(r) for r in journal_rows(session, row.id)]
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
    return read(session, get_row(session, application_id))


def summary(row: ProceduresApplication) -> ApplicationSummary:
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
    return page(
        session,
        query,
        ProceduresApplication.updated_at.desc(),
        ProceduresApplication.id,
        limit=limit,
        offset=offset,
    )


def page(
    session: Session,
    query: Select[ProceduresApplication],
    *order_by: ColumnElement[Any] | InstrumentedAttribute[Any],
    limit: int,
    offset: int,
) -> ApplicationPage:
    """One page of the query's applications in ``order_by`` order as summaries, with the
    query's total."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return ApplicationPage(items=[summary(r) for r in rows], total=total)


def current_office(defn: ProcedureDef, session: Session, row: ProceduresApplication) -> str | None:
    if defn.office_of is None:
        return None
    return defn.office_of(read(session, row))
