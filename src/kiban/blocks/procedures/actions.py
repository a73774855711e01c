"""Acting on applications: the checks every action passes (role, applicant, state, claim,
reason, fee) before :func:`take` journals it, runs the definition's effect and sends the
applicant's notice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks import notifications
from kiban.blocks.procedures.definitions import (
    ActionDef,
    ProcedureDef,
    get_procedure,
    require_fee_paid,
)
from kiban.blocks.procedures.errors import (
    ActionNotAllowed,
    InvalidValue,
    NotApplicant,
    NotClaimed,
    ReasonRequired,
    RoleNotAllowed,
    SignatureRequired,
    UnknownAction,
    VersionConflict,
)
from kiban.blocks.procedures.journal import EFFECT, Json, action_read, append
from kiban.blocks.procedures.models import ProceduresApplication
from kiban.blocks.procedures.reads import current_office, get_row, read
from kiban.blocks.procedures.schemas import ApplicationRead
from kiban.blocks.procedures.values import TEXT_MAX, storable
from kiban.platform import audit

actor_of = audit.person_actor
"""The actor name of a resident acting for themselves."""


def check_applicant(row: ProceduresApplication, actor: str) -> None:
    if actor != actor_of(row.applicant_id):
        raise NotApplicant()


def _find_action(defn: ProcedureDef, name: str) -> ActionDef:
    action = defn.action(name)
    if action is None:
        raise UnknownAction(name)
    return action


def take(
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
    entry = append(
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
        outputs = effect(session, read(session, row), action_read(entry))
        if outputs:
            session.refresh(row)
            append(
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
    office = current_office(defn, session, row)
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
    if role == "official" and defn.fee is not None:
        require_fee_paid(session, read(session, row))
    return take(
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
    row = get_row(session, application_id)
    defn = get_procedure(row.code)
    found = _find_action(defn, action)
    if role != found.role:
        raise RoleNotAllowed(action, role)
    if role == "applicant":
        check_applicant(row, actor)
    if row.state not in found.from_states:
        raise ActionNotAllowed(action, row.state)
    if found.signed:
        raise SignatureRequired()
    if role == "official" and row.claimed_by != actor:
        raise NotClaimed()
    reason = (reason or "").strip() or None
    if found.needs_reason and reason is None:
        raise ReasonRequired()
    if reason is not None and len(reason) > TEXT_MAX:
        raise InvalidValue("reason", "長すぎます", f"is longer than {TEXT_MAX} characters")
    storable("reason", reason)
    if data is not None:
        storable("data", dict(data))
    return row, defn, found, reason
