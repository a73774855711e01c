"""Registering qualifications and changing their status (actions never commit).

Every action writes the registration, appends its history row, records the audit entry and
queues the event in the caller's transaction. The state machine:

- ``register``: (none) → ``active``
- ``renew``: ``active`` → ``active`` (a new ``valid_until``)
- ``suspend``: ``active`` → ``suspended`` (業務停止, optionally until a day)
- ``reinstate``: ``suspended`` → ``active``
- ``revoke``: ``active`` | ``suspended`` → ``revoked`` (免許の取消; final)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.qualifications import events as topics
from kiban.blocks.qualifications.definitions import (
    PREFECTURE,
    TYPES_BY_CODE,
    QualificationType,
)
from kiban.blocks.qualifications.errors import (
    AlreadyRegistered,
    HolderNotFound,
    InvalidRegistration,
    InvalidTransition,
    NumberTaken,
    QualificationNotFound,
)
from kiban.blocks.qualifications.models import QualificationsHistory, QualificationsHolder
from kiban.kernel import clock
from kiban.platform import audit, events

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"
STATUSES: Final = (ACTIVE, SUSPENDED, REVOKED)

TRANSITIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "renewed": (frozenset({ACTIVE}), ACTIVE),
    "suspended": (frozenset({ACTIVE}), SUSPENDED),
    "reinstated": (frozenset({SUSPENDED}), ACTIVE),
    "revoked": (frozenset({ACTIVE, SUSPENDED}), REVOKED),
}
"""For each action after registration: the statuses it may start from and where it leads."""

_TOPICS: Final = {
    "registered": (topics.REGISTERED, topics.AUDIT_REGISTERED),
    "renewed": (topics.RENEWED, topics.AUDIT_RENEWED),
    "suspended": (topics.SUSPENDED, topics.AUDIT_SUSPENDED),
    "reinstated": (topics.REINSTATED, topics.AUDIT_REINSTATED),
    "revoked": (topics.REVOKED, topics.AUDIT_REVOKED),
}
NUMBER_LENGTH: Final = 32
REASON_LENGTH: Final = 400


@dataclass(frozen=True)
class HolderRead:
    """A registration as the registry holds it (no name: ask the register for that)."""

    id: uuid.UUID
    qualification: str
    person_id: uuid.UUID
    registration_number: str
    registered_on: date
    authority: str
    status: str
    valid_until: date | None
    suspended_until: date | None
    details: dict[str, Any]
    version: int
    changed_at: datetime


@dataclass(frozen=True)
class HistoryRead:
    """One step of a registration's history."""

    version: int
    action: str
    status: str
    reason: str | None
    effective_on: date
    acted_by: str
    acted_at: datetime


def _read(row: QualificationsHolder) -> HolderRead:
    return HolderRead(
        id=row.id,
        qualification=row.qualification,
        person_id=row.person_id,
        registration_number=row.registration_number,
        registered_on=row.registered_on,
        authority=row.authority,
        status=row.status,
        valid_until=row.valid_until,
        suspended_until=row.suspended_until,
        details=dict(row.details),
        version=row.version,
        changed_at=row.changed_at,
    )


def get_type(code: str) -> QualificationType:
    """The qualification type ``code`` (``qualifications.type_not_found``)."""
    kind = TYPES_BY_CODE.get(code)
    if kind is None:
        raise QualificationNotFound(code)
    return kind


def _row(session: Session, holder_id: uuid.UUID, *, lock: bool = False) -> QualificationsHolder:
    row = session.get(QualificationsHolder, holder_id, with_for_update=lock)
    if row is None:
        raise HolderNotFound
    return row


def get_holder(session: Session, holder_id: uuid.UUID) -> HolderRead:
    return _read(_row(session, holder_id))


def get_history(session: Session, holder_id: uuid.UUID) -> list[HistoryRead]:
    _row(session, holder_id)
    rows = session.scalars(
        select(QualificationsHistory)
        .where(QualificationsHistory.holder_id == holder_id)
        .order_by(QualificationsHistory.version)
    )
    return [
        HistoryRead(r.version, r.action, r.status, r.reason, r.effective_on, r.acted_by, r.acted_at)
        for r in rows
    ]


def list_holders(
    session: Session,
    *,
    authority: str | None = None,
    qualification: str | None = None,
    registration_number: str | None = None,
    person_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[HolderRead]:
    """Registrations matching every filter given, newest change first."""
    query = select(QualificationsHolder)
    if authority is not None:
        query = query.where(QualificationsHolder.authority == authority)
    if qualification is not None:
        query = query.where(QualificationsHolder.qualification == qualification)
    if registration_number is not None:
        query = query.where(QualificationsHolder.registration_number == registration_number)
    if person_id is not None:
        query = query.where(QualificationsHolder.person_id == person_id)
    if status is not None:
        query = query.where(QualificationsHolder.status == status)
    query = (
        query.order_by(QualificationsHolder.changed_at.desc(), QualificationsHolder.id)
        .limit(limit)
        .offset(offset)
    )
    return [_read(r) for r in session.scalars(query)]


def live_holding(session: Session, person_id: uuid.UUID, qualification: str) -> HolderRead | None:
    """The person's registration of ``qualification`` that is not revoked, if any."""
    row = session.scalars(
        select(QualificationsHolder).where(
            QualificationsHolder.person_id == person_id,
            QualificationsHolder.qualification == qualification,
            QualificationsHolder.status != REVOKED,
        )
    ).first()
    return _read(row) if row is not None else None


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidRegistration("reason", "理由を入力してください", "a reason is required")
    if len(text) > REASON_LENGTH:
        raise InvalidRegistration(
            "reason", f"{REASON_LENGTH}文字以内", f"at most {REASON_LENGTH} characters"
        )
    return text or None


def _record(
    session: Session,
    row: QualificationsHolder,
    action: str,
    *,
    reason: str | None,
    effective_on: date,
    actor: str,
) -> None:
    history = QualificationsHistory(
        holder_id=row.id,
        version=row.version,
        action=action,
        status=row.status,
        reason=reason,
        effective_on=effective_on,
        acted_by=actor,
    )
    session.add(history)
    topic, tag = _TOPICS[action]
    audit.record(
        session,
        tag=tag,
        actor=actor,
        subject=f"qualification:{row.id}",
        data={
            "person_id": str(row.person_id),
            "qualification": row.qualification,
            "authority": row.authority,
            "status": row.status,
            "version": row.version,
            "reason": reason,
        },
    )
    events.emit(
        session,
        topic,
        {
            "holder_id": str(row.id),
            "person_id": str(row.person_id),
            "qualification": row.qualification,
            "version": row.version,
        },
        key=str(row.person_id),
    )
    session.flush()


def do_register(
    session: Session,
    *,
    qualification: str,
    person_id: uuid.UUID,
    registration_number: str,
    registered_on: date,
    authority: str,
    details: dict[str, str] | None = None,
    actor: str,
) -> HolderRead:
    """Register ``person_id`` as holding ``qualification`` under ``authority`` (the
    organisation that registers: the type's own, or a prefecture for a prefectural type; the
    caller has checked the official may). Errors: ``qualifications.type_not_found``,
    ``qualifications.invalid``, ``qualifications.already_registered``,
    ``qualifications.number_taken``, ``residents.person_not_found``."""
    kind = get_type(qualification)
    number = registration_number.strip()
    if not number or len(number) > NUMBER_LENGTH or not number.isascii() or not number.isalnum():
        raise InvalidRegistration(
            "registration_number",
            f"英数字{NUMBER_LENGTH}文字以内",
            f"letters and digits, at most {NUMBER_LENGTH}",
        )
    if registered_on > clock.today_jst():
        raise InvalidRegistration("registered_on", "未来の日付です", "in the future")
    if kind.authority not in (PREFECTURE, authority):
        raise InvalidRegistration(
            "organisation",
            "この資格を登録する機関ではありません",
            "not this qualification's authority",
        )
    given = dict(details or {})
    allowed = {f.name for f in kind.fields}
    for name, value in given.items():
        if name not in allowed:
            raise InvalidRegistration(f"details.{name}", "この資格にない項目です", "not a field")
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise InvalidRegistration(f"details.{name}", "100文字以内", "1 to 100 characters")
    person = residents.get_person(session, person_id)
    if person.status == residents.Status.DECEASED:
        raise InvalidRegistration("person_id", "死亡した方です", "the person has died")
    if live_holding(session, person_id, qualification) is not None:
        raise AlreadyRegistered
    if session.scalars(
        select(QualificationsHolder.id).where(
            QualificationsHolder.qualification == qualification,
            QualificationsHolder.registration_number == number,
        )
    ).first():
        raise NumberTaken
    valid_until = None
    if kind.renewal_years:
        valid_until = _years_after(registered_on, kind.renewal_years)
    row = QualificationsHolder(
        qualification=kind.code,
        person_id=person.id,
        registration_number=number,
        registered_on=registered_on,
        authority=authority,
        status=ACTIVE,
        valid_until=valid_until,
        suspended_until=None,
        details={k: v.strip() for k, v in given.items()},
        version=1,
    )
    session.add(row)
    session.flush()
    _record(session, row, "registered", reason=None, effective_on=registered_on, actor=actor)
    return _read(row)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February.
        return date(day.year + years, 3, 1)


def do_change(
    session: Session,
    holder_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    until: date | None = None,
    expected_version: int | None = None,
    actor: str,
) -> HolderRead:
    """Take ``action`` (``renewed``, ``suspended``, ``reinstated``, ``revoked``) on a
    registration. ``until``: the suspension's last day, or the renewal's new end. Errors:
    ``qualifications.holder_not_found``, ``qualifications.invalid_transition`` (also when
    ``expected_version`` is not the current one: someone changed it meanwhile),
    ``qualifications.invalid``."""
    if action not in TRANSITIONS:
        raise InvalidRegistration("action", "不明な操作です", f"unknown action {action}")
    sources, target = TRANSITIONS[action]
    row = _row(session, holder_id, lock=True)
    if row.status not in sources or (
        expected_version is not None and expected_version != row.version
    ):
        raise InvalidTransition(action, row.status)
    today = clock.today_jst()
    text = _reason(reason, required=action in {"suspended", "revoked"})
    if until is not None and until < today:
        raise InvalidRegistration("until", "過去の日付です", "in the past")
    kind = get_type(row.qualification)
    if action == "renewed":
        if kind.renewal_years is None and until is None:
            raise InvalidRegistration(
                "until", "更新後の有効期限を入力してください", "the new end date is required"
            )
        row.valid_until = until or _years_after(
            max(today, row.valid_until or today), kind.renewal_years or 0
        )
    row.suspended_until = until if action == "suspended" else None
    row.status = target
    row.version += 1
    row.changed_at = clock.now()
    _record(session, row, action, reason=text, effective_on=today, actor=actor)
    return _read(row)
