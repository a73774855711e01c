"""Tasks: applications waiting for an official, and the claim an official takes on one before
acting on it (so that two officials do not work on the same application)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiban.blocks.procedures.definitions import ProcedureDef, get_procedure, list_procedures
from kiban.blocks.procedures.errors import AlreadyClaimed, NotATask, NotClaimed, VersionConflict
from kiban.blocks.procedures.journal import CLAIM, RELEASE, append
from kiban.blocks.procedures.models import ProceduresApplication
from kiban.blocks.procedures.reads import get_row, page, read
from kiban.blocks.procedures.schemas import ApplicationPage, ApplicationRead


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
    return page(
        session,
        query,
        ProceduresApplication.updated_at,
        ProceduresApplication.id,
        limit=limit,
        offset=offset,
    )


def do_claim_task(
    session: Session, application_id: uuid.UUID, *, official: str, expected_version: int
) -> ApplicationRead:
    """An official takes the task (``procedures.not_a_task``, ``procedures.already_claimed``,
    ``procedures.version_conflict``, or the definition's own error while the task is not ready,
    so that a task that cannot be completed yet is not left claimed). Claiming again by the
    holder changes nothing."""
    row = get_row(session, application_id)
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
    append(
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
    row = get_row(session, application_id)
    if row.claimed_by != official:
        raise NotClaimed()
    append(
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
