"""Procedure definitions as data, and the in-memory registry that holds them.

A procedure (手続) is a frozen :class:`ProcedureDef`: its states, the actions that move an
application between them and who may take each, the form with the registry each prefilled field
comes from, the evidence it consumes and produces, and its service-level target. Adding a
procedure means registering a definition; the engine (:mod:`~kiban.blocks.procedures.journal`,
``applications``, ``actions``, ``tasks``, ``submission``) has no code for any particular
procedure.

Whoever defines a procedure registers it at import time (the moving life event registers
転出届, 転入届 and 転居届; tests register their own). Registration checks that the definition is
coherent — every state named exists, every effect belongs to an action — so a mistake fails at
import, not in the middle of someone's application.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy.orm import Session

from kiban.blocks.procedures.errors import FeeUnpaid, ProcedureNotFound
from kiban.platform.authority import Resource

if TYPE_CHECKING:
    from kiban.blocks.procedures.schemas import ActionRead, ApplicationRead

FieldKind = Literal["text", "date", "address", "choice", "people", "slot"]
Role = Literal["applicant", "official", "system"]
ROLES: tuple[Role, ...] = ("applicant", "official", "system")

Effect = Callable[[Session, "ApplicationRead", "ActionRead"], Mapping[str, Any] | None]
"""Run in the same transaction after an action is journalled; a returned mapping is merged
into the application's ``outputs`` (and journalled with the action)."""

Validator = Callable[[Session, Mapping[str, Any]], None]
"""Extra validation of the whole form at submission; raises a KibanError naming the field."""

OfficeOf = Callable[["ApplicationRead"], str]
"""The lg_code of the office whose queue holds the application's task in its current state."""

ReadyCheck = Callable[["ApplicationRead"], None]
"""Raises a KibanError (saying from when) while officials may not take up the task yet: a
move-in cannot be completed before the moving date, so it is not claimed before it either."""


@dataclass(frozen=True)
class PrefillSource:
    """Where a prefilled field comes from: a mesh service and one of its data items."""

    service: str
    item: str
    registry_ja: str
    registry_en: str


@dataclass(frozen=True)
class FieldDef:
    """One field of a procedure's form."""

    name: str
    label_ja: str
    label_en: str
    kind: FieldKind
    required: bool = True
    choices: tuple[str, ...] = ()
    prefill: PrefillSource | None = None
    readonly: bool = False


@dataclass(frozen=True)
class FeeDef:
    """A fee the applicant pays before submitting (政府共通決済): ``amount`` yen, what it is
    for, and the law that charges it. The engine refuses to submit an application of a
    procedure with a fee until the fee gate (:func:`register_fee_gate`) says it is paid."""

    amount: int
    label_ja: str
    label_en: str
    legal_basis: str = ""


FeeGate = Callable[[Session, "ApplicationRead"], bool]
"""Whether an application's fee is paid; registered by the composition root (the payments
block sits beside procedures, so procedures cannot ask it directly)."""


@dataclass(frozen=True)
class ActionDef:
    """One action: from which states, to which state, taken by which role."""

    name: str
    label_ja: str
    label_en: str
    from_states: tuple[str, ...]
    to_state: str
    role: Role
    signed: bool = False
    needs_reason: bool = False
    notify: str | None = None
    # Separation of duties: whoever took one of these earlier actions on the same application
    # may not take this one (e.g. an approval after a counter official's acceptance).
    separate_from: tuple[str, ...] = ()


SIGN_AND_SUBMIT: Final = ActionDef(
    "submit",
    "署名して提出",
    "Sign and submit",
    ("draft", "sent_back"),
    "submitted",
    "applicant",
    signed=True,
)
"""The applicant signs a draft (or a sent-back notice) with the card and submits it: the first
step every notice the resident files shares."""
WITHDRAW: Final = ActionDef(
    "withdraw", "取り下げ", "Withdraw", ("draft", "sent_back"), "withdrawn", "applicant"
)
"""The applicant withdraws a draft or a sent-back notice."""
SEND_BACK: Final = ActionDef(
    "send_back",
    "差し戻し",
    "Send back",
    ("submitted",),
    "sent_back",
    "official",
    needs_reason=True,
)
"""The office sends a submitted notice back, with a reason, for the applicant to correct."""


@dataclass(frozen=True)
class ProcedureDef:
    """A procedure as data. See the module docstring."""

    code: str
    title_ja: str
    title_en: str
    states: tuple[str, ...]
    initial: str
    final_states: tuple[str, ...]
    actions: tuple[ActionDef, ...]
    fields: tuple[FieldDef, ...]
    evidence_in: tuple[str, ...]
    evidence_out: tuple[str, ...]
    sla_days: int
    effects: Mapping[str, Effect] = field(default_factory=dict)
    validate: Validator | None = None
    office_of: OfficeOf | None = None
    check_ready: ReadyCheck | None = None
    # The department of the office that handles it (a code of the staff block's departments,
    # e.g. ``citizens`` for 市民課): an official whose role is held in another department may
    # not work on it. ``None``: any department of the office.
    department: str | None = None
    # The fee charged before submission, if any.
    fee: FeeDef | None = None

    def action(self, name: str) -> ActionDef | None:
        """The action called ``name``, if the procedure has one."""
        return next((a for a in self.actions if a.name == name), None)

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name``, if the form has one."""
        return next((f for f in self.fields if f.name == name), None)

    def actions_from(self, state: str) -> tuple[ActionDef, ...]:
        """The actions that may be taken in ``state``."""
        return tuple(a for a in self.actions if state in a.from_states)


# Names the engine journals itself; an action of a definition may not take them.
RESERVED_ACTIONS = frozenset({"start", "save", "claim", "release", "effect"})
# Action names become event topics (``procedures.application_<action>``) and audit tags.
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_registry: dict[str, ProcedureDef] = {}
_lock = threading.Lock()
_fee_gates: list[FeeGate] = []


def register_fee_gate(gate: FeeGate) -> None:
    """Set the function that tells whether an application's fee is paid (the last one set
    wins). Without one, an application with a fee cannot be submitted: it fails closed."""
    with _lock:
        _fee_gates[:] = [gate]


def fee_paid(session: Session, app: ApplicationRead) -> bool:
    """Whether ``app``'s fee is paid (True when its procedure charges none)."""
    if get_procedure(app.code).fee is None:
        return True
    with _lock:
        gates = list(_fee_gates)
    return bool(gates) and gates[0](session, app)


def require_fee_paid(session: Session, app: ApplicationRead) -> None:
    """``procedures.fee_unpaid`` (402) unless :func:`fee_paid`."""
    fee = get_procedure(app.code).fee
    if fee is not None and not fee_paid(session, app):
        raise FeeUnpaid(fee.amount)


def _check_states(defn: ProcedureDef) -> list[str]:
    problems: list[str] = []
    states = set(defn.states)
    if len(states) != len(defn.states):
        problems.append("states are not unique")
    if defn.initial not in states:
        problems.append(f"initial state {defn.initial!r} is not a state")
    problems.extend(
        f"final state {s!r} is not a state" for s in defn.final_states if s not in states
    )
    if defn.sla_days < 0:
        problems.append("sla_days is negative")
    if defn.fee is not None and not 0 < defn.fee.amount <= 1_000_000:
        problems.append("fee amount is not 1 to 1,000,000 yen")
    return problems


def _check_actions(defn: ProcedureDef) -> list[str]:
    problems: list[str] = []
    names = [a.name for a in defn.actions]
    if len(set(names)) != len(names):
        problems.append("action names are not unique")
    for action in defn.actions:
        if not _NAME.match(action.name):
            problems.append(f"action name {action.name!r} is not lower_snake_case")
        if action.name in RESERVED_ACTIONS:
            problems.append(f"action name {action.name!r} is reserved")
        if action.role not in ROLES:
            problems.append(f"action {action.name!r} has an unknown role {action.role!r}")
        unknown = [s for s in (*action.from_states, action.to_state) if s not in defn.states]
        if unknown:
            problems.append(f"action {action.name!r} names unknown states {unknown}")
    problems.extend(
        f"effect {name!r} belongs to no action" for name in defn.effects if name not in names
    )
    return problems


def _check_fields(defn: ProcedureDef) -> list[str]:
    problems: list[str] = []
    field_names = [f.name for f in defn.fields]
    if len(set(field_names)) != len(field_names):
        problems.append("field names are not unique")
    problems.extend(
        f"choice field {f.name!r} has no choices"
        for f in defn.fields
        if f.kind == "choice" and not f.choices
    )
    return problems


def _check(defn: ProcedureDef) -> None:
    problems = _check_states(defn) + _check_actions(defn) + _check_fields(defn)
    if problems:
        raise ValueError(f"procedure {defn.code}: " + "; ".join(problems))


def register_procedure(defn: ProcedureDef) -> ProcedureDef:
    """Register (or replace) a procedure definition; an incoherent one is a ``ValueError``.

    Replacing keeps re-imports and tests simple; applications keep their journals, and the
    engine reads the definition each time it acts.
    """
    _check(defn)
    with _lock:
        _registry[defn.code] = defn
    return defn


def get_procedure(code: str) -> ProcedureDef:
    """The definition ``code``; ``procedures.procedure_not_found`` (404) if none is registered."""
    try:
        return _registry[code]
    except KeyError:
        raise ProcedureNotFound(code) from None


def list_procedures() -> list[ProcedureDef]:
    """Every registered definition, by code."""
    with _lock:
        return sorted(_registry.values(), key=lambda d: d.code)


def task_resource(app: ApplicationRead, action_name: str | None = None) -> Resource:
    """What the policy is asked about for an official's step on ``app``: the department that
    handles the procedure and, for an action (``action_name``), the applicant and the actors
    the definition keeps apart from it (separation of duties)."""
    department = get_procedure(app.code).department
    if action_name is None:
        return Resource(department=department)
    return Resource(
        subject_person=app.applicant_id,
        excluded_actors=excluded_actors(app, action_name),
        department=department,
    )


def excluded_actors(app: ApplicationRead, action_name: str) -> tuple[str, ...]:
    """The actors the definition keeps apart from ``action_name`` on ``app``: those who took
    one of its ``separate_from`` actions (for the policy's separation of duties)."""
    action = get_procedure(app.code).action(action_name)
    if action is None or not action.separate_from:
        return ()
    return tuple(entry.actor for entry in app.journal if entry.action in action.separate_from)
