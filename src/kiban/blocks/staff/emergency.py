"""Break-glass: time-boxed emergency access to one person's data, granted by an administrator.

The grant names the account, the person, the organisation whose data it is, the permissions
(only read and certificate permissions over residents) and a reason; it lasts 1 to 72 hours
and ends by itself. Granting and every use are audited (``staff:break_glass:granted``,
``staff:break_glass:used``); the caller shows the grant to the person (the CLI puts a notice
in their inbox).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.staff.errors import AccountNotActive, AccountNotFound, InvalidInput
from kiban.blocks.staff.models import StaffAccount, StaffAccountEvent, StaffBreakGlass
from kiban.blocks.staff.permissions import grants
from kiban.kernel import clock
from kiban.platform import audit
from kiban.platform.authority import Principal

MAX_HOURS: Final = 72
ALLOWED: Final = frozenset({"residents.read", "residents.certificate.issue"})


@dataclass(frozen=True)
class BreakGlassRead:
    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    person_id: uuid.UUID
    organisation: str
    permissions: tuple[str, ...]
    reason: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None and clock.now() < self.expires_at


def _read(row: StaffBreakGlass, name: str) -> BreakGlassRead:
    return BreakGlassRead(
        id=row.id,
        account_id=row.account_id,
        account_name=name,
        person_id=row.person_id,
        organisation=row.organisation,
        permissions=tuple(row.permissions),
        reason=row.reason,
        granted_by=row.granted_by,
        granted_at=row.granted_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def do_grant_break_glass(
    session: Session,
    account_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    organisation: str,
    permissions: list[str],
    hours: int,
    reason: str,
    actor: str,
) -> BreakGlassRead:
    """Let an official act on one person's data of ``organisation`` for ``hours`` (1–72)."""
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise AccountNotFound
    if account.status != "active" or account.kind != "official":
        raise AccountNotActive(account.status)
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(
            f"期間は 1 から {MAX_HOURS} 時間です。",
            f"Emergency access lasts 1 to {MAX_HOURS} hours.",
            field="hours",
        )
    scope = sorted(set(permissions))
    if not scope or not set(scope) <= ALLOWED:
        raise InvalidInput(
            "緊急アクセスで許されるのは住民記録の閲覧と証明書の発行だけです。",
            "Emergency access allows reading residents' records and issuing certificates only.",
            field="permissions",
        )
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidInput(
            "理由を入力してください。", "Give the reason (up to 500 characters).", field="reason"
        )
    row = StaffBreakGlass(
        account_id=account.id,
        person_id=person_id,
        organisation=organisation,
        permissions=scope,
        reason=reason,
        granted_by=actor,
        expires_at=clock.now() + timedelta(hours=hours),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    data = {
        "break_glass": str(row.id),
        "person_id": str(person_id),
        "organisation": organisation,
        "permissions": scope,
        "reason": reason,
        "expires_at": row.expires_at.isoformat(),
    }
    session.add(
        StaffAccountEvent(account_id=account.id, action="break_glass", actor=actor, data=data)
    )
    audit.record(
        session, tag="staff:break_glass:granted", actor=actor, subject=str(account.id), data=data
    )
    session.flush()
    return _read(row, account.name)


def list_break_glass_for_person(session: Session, person_id: uuid.UUID) -> list[BreakGlassRead]:
    """Every emergency access granted over the person's data, newest first (for them to see)."""
    rows = session.execute(
        select(StaffBreakGlass, StaffAccount.name)
        .join(StaffAccount, StaffAccount.id == StaffBreakGlass.account_id)
        .where(StaffBreakGlass.person_id == person_id)
        .order_by(StaffBreakGlass.granted_at.desc())
    )
    return [_read(row, name) for row, name in rows]


def list_live_break_glass(session: Session, organisation: str) -> list[BreakGlassRead]:
    """The emergency accesses over ``organisation``'s data still in force, ending soonest
    first (for its administrators)."""
    rows = session.execute(
        select(StaffBreakGlass, StaffAccount.name)
        .join(StaffAccount, StaffAccount.id == StaffBreakGlass.account_id)
        .where(
            StaffBreakGlass.organisation == organisation,
            StaffBreakGlass.revoked_at.is_(None),
            StaffBreakGlass.expires_at > clock.now(),
        )
        .order_by(StaffBreakGlass.expires_at)
    )
    return [_read(row, name) for row, name in rows]


def break_glass_allows(
    session: Session, principal: Principal, action: str, *, organisation: str, person: uuid.UUID
) -> bool:
    """Whether a live grant lets ``principal`` take ``action`` on ``person``'s data of
    ``organisation``; a use is audited."""
    if principal.kind != "official":
        return False
    now = clock.now()
    for row in session.scalars(
        select(StaffBreakGlass).where(
            StaffBreakGlass.account_id == principal.account_id,
            StaffBreakGlass.person_id == person,
            StaffBreakGlass.organisation == organisation,
            StaffBreakGlass.revoked_at.is_(None),
            StaffBreakGlass.expires_at > now,
        )
    ):
        if grants(tuple(row.permissions), action):
            audit.record(
                session,
                tag="staff:break_glass:used",
                actor=principal.actor,
                subject=str(person),
                data={"break_glass": str(row.id), "action": action, "organisation": organisation},
            )
            return True
    return False
