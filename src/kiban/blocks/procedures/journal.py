"""The action journal: each application's append-only, hash-chained record of actions.

:func:`append` journals one action and moves the ``procedures_applications`` projection with a
conditional ``UPDATE … WHERE version = expected`` — so of two officials who read the same
version only the first one's action lands and the second gets ``procedures.version_conflict``
— then writes the audit entry and queues ``procedures.application_<action>`` in the outbox.
Nothing here commits. :func:`fold` is what the projection must hold.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kiban.blocks.procedures import events as topics
from kiban.blocks.procedures.definitions import get_procedure
from kiban.blocks.procedures.errors import VersionConflict
from kiban.blocks.procedures.models import ProceduresAction, ProceduresApplication
from kiban.blocks.procedures.schemas import ActionRead
from kiban.kernel import clock
from kiban.platform import audit, events

GENESIS: Final = "0" * 64


# The engine's own journal entries; a definition's actions may not use these names.
START: Final = "start"
SAVE: Final = "save"
CLAIM: Final = "claim"
RELEASE: Final = "release"
EFFECT: Final = "effect"
ENGINE_LABELS: Final[dict[str, tuple[str, str]]] = {
    START: ("下書き作成", "Draft created"),
    SAVE: ("下書き保存", "Draft saved"),
    CLAIM: ("担当引受", "Task claimed"),
    RELEASE: ("担当解除", "Task released"),
    EFFECT: ("処理結果", "Outcome recorded"),
}


ENGINE_ACTIONS: Final = frozenset({SAVE, CLAIM, RELEASE, EFFECT})
"""The engine's entries that neither move the state nor show on the timeline (``start``
begins it)."""


Json = dict[str, Any]


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


def row_hash(row: ProceduresAction) -> str:
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


def journal_rows(session: Session, application_id: uuid.UUID) -> list[ProceduresAction]:
    return list(
        session.scalars(
            select(ProceduresAction)
            .where(ProceduresAction.application_id == application_id)
            .order_by(ProceduresAction.seq)
        )
    )


def action_read(row: ProceduresAction) -> ActionRead:
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


def new_entry(
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
) -> ProceduresAction:
    """A journal row with its hash (not yet added to the session)."""
    entry = ProceduresAction(
        id=uuid.uuid4(),
        application_id=application_id,
        seq=seq,
        action=action,
        actor=actor,
        role=role,
        at=at,
        state_before=state_before,
        state_after=state_after,
        reason=reason,
        data=dict(data),
        prev_hash=prev_hash,
    )
    entry.hash = row_hash(entry)
    return entry


def emit(
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


def append(
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
    if action not in ENGINE_ACTIONS and state_after in defn.final_states:
        body["final"] = True
    seq = expected_version + 1
    entry = new_entry(
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
    emit(session, row, entry, actor=actor)
    return entry
