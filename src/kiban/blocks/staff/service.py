"""Actions of the staff block: organisations, accounts, memberships and API keys.

Every ``do_*`` writes its row(s), a history step of the account and an audit entry in the
caller's transaction; nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.staff.errors import (
    AccountExists,
    AccountNotActive,
    AccountNotFound,
    BootstrapDone,
    DepartmentNotFound,
    InvalidInput,
    KeyInvalid,
    MembershipNotFound,
    OrganisationNotFound,
    RoleNotFound,
)
from kiban.blocks.staff.models import (
    StaffAccount,
    StaffAccountEvent,
    StaffApiKey,
    StaffDepartment,
    StaffMembership,
    StaffOrganisation,
    StaffRole,
)
from kiban.blocks.staff.permissions import (
    DEFAULT_DEPARTMENTS,
    DEFAULT_ROLES,
    OPERATOR_ORGANISATION,
    PERMISSIONS,
    OrganisationKind,
    grants,
)
from kiban.kernel import clock
from kiban.kernel.identifiers import compute_lg_code_check_digit
from kiban.platform import audit, sessions
from kiban.platform.authority import Principal

KEY_PREFIX: Final = "kiban_sk_"
MAX_KEY_DAYS: Final = 366


# --- DTOs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRead:
    code: str
    kind: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class MembershipRead:
    id: uuid.UUID
    organisation: str
    organisation_name_ja: str
    organisation_name_en: str
    organisation_kind: str
    role: str
    role_name_ja: str
    role_name_en: str
    department: str | None
    granted_at: datetime
    granted_by: str
    department_name_ja: str | None = None
    department_name_en: str | None = None


@dataclass(frozen=True)
class DepartmentRead:
    code: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class HistoryStep:
    at: datetime
    action: str
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class KeyRead:
    id: uuid.UUID
    prefix: str
    organisation: str
    permissions: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AccountRead:
    id: uuid.UUID
    kind: str
    name: str
    person_id: uuid.UUID | None
    status: str
    created_at: datetime
    memberships: tuple[MembershipRead, ...] = ()
    history: tuple[HistoryStep, ...] = ()
    keys: tuple[KeyRead, ...] = ()


@dataclass(frozen=True)
class KeyCreated:
    """A new key: ``secret`` is shown once and never stored."""

    key: KeyRead
    secret: str


# --- organisations ------------------------------------------------------------------------------


def prefecture_code(pref_code: str) -> str:
    """The local government code of a prefecture (``01`` -> ``010006``)."""
    base = f"{pref_code}000"
    return f"{base}{compute_lg_code_check_digit(base)}"


def _org(session: Session, code: str, field: str = "organisation") -> StaffOrganisation:
    row = session.scalar(select(StaffOrganisation).where(StaffOrganisation.code == code))
    if row is None:
        raise OrganisationNotFound(code, field)
    return row


def _org_read(row: StaffOrganisation) -> OrganisationRead:
    return OrganisationRead(row.code, row.kind, row.name_ja, row.name_en)


def do_seed_roles(session: Session, kind: OrganisationKind) -> None:
    """Write the default roles of ``kind`` that are not there yet (roles are data: existing
    ones, perhaps changed by an administrator, are left alone)."""
    have = set(
        session.scalars(select(StaffRole.code).where(StaffRole.organisation_kind == kind.value))
    )
    for role in DEFAULT_ROLES[kind]:
        if role.code not in have:
            session.add(
                StaffRole(
                    organisation_kind=kind.value,
                    code=role.code,
                    name_ja=role.name_ja,
                    name_en=role.name_en,
                    permissions=list(role.permissions),
                )
            )
    session.flush()


def _add_organisations(
    session: Session, rows: Iterable[tuple[str, OrganisationKind, str, str]], *, actor: str
) -> int:
    existing = set(session.scalars(select(StaffOrganisation.code)))
    added = 0
    kinds: set[OrganisationKind] = set()
    for code, kind, name_ja, name_en in rows:
        if code in existing:
            continue
        existing.add(code)
        organisation = StaffOrganisation(
            code=code, kind=kind.value, name_ja=name_ja, name_en=name_en
        )
        session.add(organisation)
        session.flush()
        session.add_all(
            StaffDepartment(organisation_id=organisation.id, code=d, name_ja=ja, name_en=en)
            for d, ja, en in DEFAULT_DEPARTMENTS[kind]
        )
        kinds.add(kind)
        added += 1
    for kind in kinds:
        do_seed_roles(session, kind)
    if added:
        audit.record(
            session,
            tag="staff:organisation:synced",
            actor=actor,
            subject="organisations",
            data={"added": added},
        )
    session.flush()
    return added


def do_sync_organisations(
    session: Session,
    *,
    agencies: Sequence[tuple[str, str, str]] = (),
    actor: str,
) -> int:
    """Every municipality of the address registry (by lg_code), its prefecture, the given
    agencies (code, Japanese and English name) and kiban's operator become organisations with
    their default departments and roles. Idempotent; returns how many were added."""
    rows: list[tuple[str, OrganisationKind, str, str]] = [
        (OPERATOR_ORGANISATION, OrganisationKind.OPERATOR, "基盤運用者", "Kiban operator")
    ]
    prefectures: dict[str, tuple[str, str]] = {}
    for m in address.list_municipalities(session):
        prefectures.setdefault(m.pref_code, (m.pref_name, m.pref_name_en))
        rows.append((m.lg_code, OrganisationKind.MUNICIPALITY, m.full_name, m.name_en))
    rows.extend(
        (prefecture_code(p), OrganisationKind.PREFECTURE, ja, en)
        for p, (ja, en) in sorted(prefectures.items())
    )
    rows.extend((code, OrganisationKind.AGENCY, ja, en) for code, ja, en in agencies)
    return _add_organisations(session, rows, actor=actor)


def do_add_organisation(
    session: Session, code: str, kind: OrganisationKind, name_ja: str, name_en: str, *, actor: str
) -> OrganisationRead:
    """One organisation (an agency, say) with its default departments and roles; idempotent."""
    _add_organisations(session, [(code, kind, name_ja, name_en)], actor=actor)
    return get_organisation(session, code)


def get_organisation(session: Session, code: str) -> OrganisationRead:
    """The organisation with this code (``staff.organisation_not_found``)."""
    return _org_read(_org(session, code))


def list_organisations(session: Session, kind: str | None = None) -> list[OrganisationRead]:
    query = select(StaffOrganisation).order_by(StaffOrganisation.code)
    if kind is not None:
        query = query.where(StaffOrganisation.kind == kind)
    return [_org_read(row) for row in session.scalars(query)]


def list_departments(session: Session, organisation: str) -> list[DepartmentRead]:
    """The departments of an organisation (市民課 ``citizens``, ...), by code."""
    org = _org(session, organisation)
    rows = session.scalars(
        select(StaffDepartment)
        .where(StaffDepartment.organisation_id == org.id)
        .order_by(StaffDepartment.code)
    )
    return [DepartmentRead(r.code, r.name_ja, r.name_en) for r in rows]


def list_roles(session: Session, kind: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """The roles of a kind of organisation: code, names and permissions."""
    rows = session.scalars(
        select(StaffRole).where(StaffRole.organisation_kind == kind).order_by(StaffRole.code)
    )
    return [(r.code, r.name_ja, r.name_en, tuple(r.permissions)) for r in rows]


# --- accounts -----------------------------------------------------------------------------------


def _account(session: Session, account_id: uuid.UUID) -> StaffAccount:
    row = session.get(StaffAccount, account_id)
    if row is None:
        raise AccountNotFound
    return row


def _step(session: Session, account: StaffAccount, action: str, actor: str, **data: Any) -> None:
    session.add(StaffAccountEvent(account_id=account.id, action=action, actor=actor, data=data))
    audit.record(
        session,
        tag=f"staff:account:{action}",
        actor=actor,
        subject=str(account.id),
        data=data,
    )
    session.flush()


def _memberships(session: Session, account_id: uuid.UUID) -> list[MembershipRead]:
    rows = session.execute(
        select(StaffMembership, StaffOrganisation, StaffRole, StaffDepartment)
        .join(StaffOrganisation, StaffOrganisation.id == StaffMembership.organisation_id)
        .join(StaffRole, StaffRole.id == StaffMembership.role_id)
        .outerjoin(StaffDepartment, StaffDepartment.id == StaffMembership.department_id)
        .where(StaffMembership.account_id == account_id, StaffMembership.revoked_at.is_(None))
        .order_by(StaffOrganisation.code, StaffRole.code)
    )
    return [
        MembershipRead(
            id=m.id,
            organisation=o.code,
            organisation_name_ja=o.name_ja,
            organisation_name_en=o.name_en,
            organisation_kind=o.kind,
            role=r.code,
            role_name_ja=r.name_ja,
            role_name_en=r.name_en,
            department=d.code if d is not None else None,
            granted_at=m.granted_at,
            granted_by=m.granted_by,
            department_name_ja=d.name_ja if d is not None else None,
            department_name_en=d.name_en if d is not None else None,
        )
        for m, o, r, d in rows
    ]


def _keys(session: Session, account_id: uuid.UUID) -> list[KeyRead]:
    rows = session.execute(
        select(StaffApiKey, StaffOrganisation.code)
        .join(StaffOrganisation, StaffOrganisation.id == StaffApiKey.organisation_id)
        .where(StaffApiKey.account_id == account_id)
        .order_by(StaffApiKey.created_at)
    )
    return [
        KeyRead(
            k.id, k.prefix, code, tuple(k.permissions), k.created_at, k.expires_at, k.revoked_at
        )
        for k, code in rows
    ]


def _account_read(session: Session, row: StaffAccount, *, full: bool = False) -> AccountRead:
    history: tuple[HistoryStep, ...] = ()
    keys: tuple[KeyRead, ...] = ()
    if full:
        steps = session.scalars(
            select(StaffAccountEvent)
            .where(StaffAccountEvent.account_id == row.id)
            .order_by(StaffAccountEvent.at)
        )
        history = tuple(HistoryStep(s.at, s.action, s.actor, dict(s.data)) for s in steps)
        keys = tuple(_keys(session, row.id))
    return AccountRead(
        id=row.id,
        kind=row.kind,
        name=row.name,
        person_id=row.person_id,
        status=row.status,
        created_at=row.created_at,
        memberships=tuple(_memberships(session, row.id)),
        history=history,
        keys=keys,
    )


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            "名前を入力してください。", "Enter a name (up to 200 characters).", field="name"
        )
    return name


def do_create_official(
    session: Session, *, person_id: uuid.UUID, name: str, actor: str
) -> AccountRead:
    """An official's account, tied to their record in the register by ``person_id`` (they sign
    in with their own card). One account per person: it follows them between organisations."""
    if session.scalar(select(StaffAccount.id).where(StaffAccount.person_id == person_id)):
        raise AccountExists
    row = StaffAccount(kind="official", person_id=person_id, name=_name(name), status="active")
    session.add(row)
    session.flush()
    _step(session, row, "created", actor, kind="official", person_id=str(person_id))
    return _account_read(session, row)


def do_create_service_account(session: Session, *, name: str, actor: str) -> AccountRead:
    """A machine client's account (an agency's system, a batch job); it acts with API keys."""
    row = StaffAccount(kind="service", person_id=None, name=_name(name), status="active")
    session.add(row)
    session.flush()
    _step(session, row, "created", actor, kind="service")
    return _account_read(session, row)


def _set_status(
    session: Session, account_id: uuid.UUID, status: str, action: str, *, reason: str, actor: str
) -> AccountRead:
    row = _account(session, account_id)
    if row.status == "closed":
        raise AccountNotActive(row.status)
    row.status = status
    if status == "closed":
        now = clock.now()
        for membership in session.scalars(
            select(StaffMembership).where(
                StaffMembership.account_id == row.id, StaffMembership.revoked_at.is_(None)
            )
        ):
            membership.revoked_at, membership.revoked_by = now, actor
        for key in session.scalars(
            select(StaffApiKey).where(
                StaffApiKey.account_id == row.id, StaffApiKey.revoked_at.is_(None)
            )
        ):
            key.revoked_at = now
    _step(session, row, action, actor, reason=reason)
    if status != "active":
        # Its office sessions end now (they would stop acting anyway: every request re-reads
        # the account), so they no longer show as live.
        sessions.revoke_sessions_of(
            session, audience="office", subject=str(row.id), reason=action, actor=actor
        )
    return _account_read(session, row)


def do_suspend_account(
    session: Session, account_id: uuid.UUID, *, reason: str, actor: str
) -> AccountRead:
    """Suspend: the account's sessions and keys stop acting at once; reinstating restores."""
    return _set_status(session, account_id, "suspended", "suspended", reason=reason, actor=actor)


def do_reinstate_account(
    session: Session, account_id: uuid.UUID, *, reason: str, actor: str
) -> AccountRead:
    return _set_status(session, account_id, "active", "reinstated", reason=reason, actor=actor)


def do_close_account(
    session: Session, account_id: uuid.UUID, *, reason: str, actor: str
) -> AccountRead:
    """Close for good: every membership and key is revoked; the history stays."""
    return _set_status(session, account_id, "closed", "closed", reason=reason, actor=actor)


def get_account(session: Session, account_id: uuid.UUID) -> AccountRead:
    """The account with its live memberships, keys and history."""
    return _account_read(session, _account(session, account_id), full=True)


def get_account_by_person(session: Session, person_id: uuid.UUID) -> AccountRead | None:
    row = session.scalar(select(StaffAccount).where(StaffAccount.person_id == person_id))
    return _account_read(session, row) if row is not None else None


def list_accounts(
    session: Session, *, organisation: str | None = None, former: bool = False
) -> list[AccountRead]:
    """Accounts (of one organisation's live members, when given; with ``former``, also those
    whose roles there have ended, closed accounts among them), by name."""
    query = select(StaffAccount).order_by(StaffAccount.name, StaffAccount.id)
    if organisation is not None:
        org = _org(session, organisation)
        members = select(StaffMembership.account_id).where(
            StaffMembership.organisation_id == org.id
        )
        if not former:
            members = members.where(StaffMembership.revoked_at.is_(None))
        query = query.where(StaffAccount.id.in_(members))
    return [_account_read(session, row) for row in session.scalars(query)]


def has_belonged(session: Session, account_id: uuid.UUID, organisation: str) -> bool:
    """Whether the account holds, or once held, a role in ``organisation`` (its history there
    is that organisation's to read)."""
    found = session.scalar(
        select(StaffMembership.id)
        .join(StaffOrganisation, StaffOrganisation.id == StaffMembership.organisation_id)
        .where(StaffMembership.account_id == account_id, StaffOrganisation.code == organisation)
        .limit(1)
    )
    return found is not None


# --- memberships --------------------------------------------------------------------------------


def _role(session: Session, organisation: StaffOrganisation, code: str) -> StaffRole:
    row = session.scalar(
        select(StaffRole).where(
            StaffRole.organisation_kind == organisation.kind, StaffRole.code == code
        )
    )
    if row is None:
        raise RoleNotFound(code)
    return row


def do_grant(
    session: Session,
    account_id: uuid.UUID,
    *,
    organisation: str,
    role: str,
    department: str | None = None,
    actor: str,
) -> AccountRead:
    """Give the account ``role`` in ``organisation``, in one ``department`` or (``None``) the
    whole organisation; idempotent for the same live membership. A role may be held in
    several departments: each is its own membership."""
    row = _account(session, account_id)
    if row.status != "active":
        raise AccountNotActive(row.status)
    org = _org(session, organisation)
    role_row = _role(session, org, role)
    department_id = None
    if department is not None:
        dept = session.scalar(
            select(StaffDepartment).where(
                StaffDepartment.organisation_id == org.id, StaffDepartment.code == department
            )
        )
        if dept is None:
            raise DepartmentNotFound(department)
        department_id = dept.id
    live = session.scalar(
        select(StaffMembership).where(
            StaffMembership.account_id == row.id,
            StaffMembership.organisation_id == org.id,
            StaffMembership.role_id == role_row.id,
            StaffMembership.department_id.is_(None)
            if department_id is None
            else StaffMembership.department_id == department_id,
            StaffMembership.revoked_at.is_(None),
        )
    )
    if live is None:
        session.add(
            StaffMembership(
                account_id=row.id,
                organisation_id=org.id,
                department_id=department_id,
                role_id=role_row.id,
                granted_by=actor,
            )
        )
        _step(
            session, row, "granted", actor, organisation=org.code, role=role, department=department
        )
    return _account_read(session, row)


def do_revoke(
    session: Session, account_id: uuid.UUID, *, organisation: str, role: str, actor: str
) -> AccountRead:
    """End the account's ``role`` in ``organisation`` (in every department it is held in);
    sessions using it stop acting."""
    row = _account(session, account_id)
    org = _org(session, organisation)
    role_row = _role(session, org, role)
    live = list(
        session.scalars(
            select(StaffMembership).where(
                StaffMembership.account_id == row.id,
                StaffMembership.organisation_id == org.id,
                StaffMembership.role_id == role_row.id,
                StaffMembership.revoked_at.is_(None),
            )
        )
    )
    if not live:
        raise MembershipNotFound
    now = clock.now()
    for membership in live:
        membership.revoked_at, membership.revoked_by = now, actor
    _step(session, row, "revoked", actor, organisation=org.code, role=role)
    return _account_read(session, row)


def do_revoke_membership(
    session: Session, account_id: uuid.UUID, membership_id: uuid.UUID, *, actor: str
) -> AccountRead:
    """End one live membership of the account (a role in one organisation and department)."""
    row = _account(session, account_id)
    held = next((m for m in _memberships(session, row.id) if m.id == membership_id), None)
    membership = session.get(StaffMembership, membership_id)
    if held is None or membership is None:
        raise MembershipNotFound
    membership.revoked_at, membership.revoked_by = clock.now(), actor
    _step(
        session,
        row,
        "revoked",
        actor,
        organisation=held.organisation,
        role=held.role,
        department=held.department,
    )
    return _account_read(session, row)


def do_bootstrap(session: Session, *, person_id: uuid.UUID, name: str, actor: str) -> AccountRead:
    """The first administrator of kiban's operator. Refused (``staff.bootstrap_done``) once any
    account holds a role in the operator organisation: from then on administrators add staff."""
    do_sync_organisations(session, actor=actor)
    operator = _org(session, OPERATOR_ORGANISATION)
    if session.scalar(
        select(StaffMembership.id).where(StaffMembership.organisation_id == operator.id).limit(1)
    ):
        raise BootstrapDone
    existing = session.scalar(select(StaffAccount).where(StaffAccount.person_id == person_id))
    account = (
        _account_read(session, existing)
        if existing is not None
        else do_create_official(session, person_id=person_id, name=name, actor=actor)
    )
    return do_grant(
        session, account.id, organisation=OPERATOR_ORGANISATION, role="administrator", actor=actor
    )


def is_bootstrapped(session: Session) -> bool:
    """Whether the operator organisation has any member (then the shared token is retired)."""
    operator = session.scalar(
        select(StaffOrganisation.id).where(StaffOrganisation.code == OPERATOR_ORGANISATION)
    )
    if operator is None:
        return False
    found = session.scalar(
        select(StaffMembership.id).where(StaffMembership.organisation_id == operator).limit(1)
    )
    return found is not None


# --- API keys -----------------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def do_create_key(
    session: Session,
    account_id: uuid.UUID,
    *,
    organisation: str,
    permissions: Sequence[str],
    days: int = 90,
    actor: str,
) -> KeyCreated:
    """A key for a service account, for ``organisation`` (where the account must hold a role)
    and at most the permissions that role grants, valid for ``days`` (1 to 366)."""
    row = _account(session, account_id)
    if row.kind != "service":
        raise InvalidInput(
            "API キーはサービスアカウントにだけ発行できます。",
            "API keys are for service accounts only.",
            field="account",
        )
    if row.status != "active":
        raise AccountNotActive(row.status)
    if not 1 <= days <= MAX_KEY_DAYS:
        raise InvalidInput(
            f"有効期間は 1 から {MAX_KEY_DAYS} 日です。",
            f"A key is valid for 1 to {MAX_KEY_DAYS} days.",
            field="days",
        )
    held = _held(session, row.id, organisation)
    scope = sorted(set(permissions))
    if not scope:
        raise InvalidInput(
            "権限を一つ以上指定してください。", "Name at least one permission.", field="permissions"
        )
    for permission in scope:
        known = permission in PERMISSIONS or "*" in permission
        if not known or not grants(held, permission):
            raise InvalidInput(
                f"この団体での役割にない権限です：{permission}",
                f"The account's role in this organisation does not grant {permission}.",
                field="permissions",
            )
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(6)
    org = _org(session, organisation)
    key = StaffApiKey(
        account_id=row.id,
        organisation_id=org.id,
        prefix=prefix,
        key_hash=_hash(secret),
        permissions=scope,
        created_by=actor,
        expires_at=clock.now() + timedelta(days=days),
        revoked_at=None,
        last_used_at=None,
    )
    session.add(key)
    session.flush()
    _step(
        session,
        row,
        "key_created",
        actor,
        key=str(key.id),
        organisation=org.code,
        permissions=scope,
    )
    read = KeyRead(key.id, prefix, org.code, tuple(scope), key.created_at, key.expires_at, None)
    return KeyCreated(key=read, secret=f"{KEY_PREFIX}{prefix}_{secret}")


def do_revoke_key(session: Session, key_id: uuid.UUID, *, actor: str) -> None:
    key = session.get(StaffApiKey, key_id)
    if key is None:
        raise KeyInvalid
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        _step(session, _account(session, key.account_id), "key_revoked", actor, key=str(key.id))


def key_organisation(session: Session, key_id: uuid.UUID) -> str:
    """The organisation a key acts for (for authorizing its revocation)."""
    key = session.get(StaffApiKey, key_id)
    if key is None:
        raise KeyInvalid
    return session.get_one(StaffOrganisation, key.organisation_id).code


# --- principals ---------------------------------------------------------------------------------


def _held(
    session: Session, account_id: uuid.UUID, organisation: str, role: str | None = None
) -> frozenset[str]:
    query = (
        select(StaffRole.permissions)
        .join(StaffMembership, StaffMembership.role_id == StaffRole.id)
        .join(StaffOrganisation, StaffOrganisation.id == StaffMembership.organisation_id)
        .where(
            StaffMembership.account_id == account_id,
            StaffMembership.revoked_at.is_(None),
            StaffOrganisation.code == organisation,
        )
    )
    if role is not None:
        query = query.where(StaffRole.code == role)
    held: set[str] = set()
    for permissions in session.scalars(query):
        held.update(permissions)
    return frozenset(held)


def _departments(
    session: Session, account_id: uuid.UUID, organisation: str, role: str | None = None
) -> frozenset[str] | None:
    """The departments the account's live roles there are held in; ``None`` when one of them
    is held for the whole organisation (no department)."""
    query = (
        select(StaffDepartment.code)
        .select_from(StaffMembership)
        .join(StaffOrganisation, StaffOrganisation.id == StaffMembership.organisation_id)
        .join(StaffRole, StaffRole.id == StaffMembership.role_id)
        .outerjoin(StaffDepartment, StaffDepartment.id == StaffMembership.department_id)
        .where(
            StaffMembership.account_id == account_id,
            StaffMembership.revoked_at.is_(None),
            StaffOrganisation.code == organisation,
        )
    )
    if role is not None:
        query = query.where(StaffRole.code == role)
    codes = list(session.scalars(query))
    if not codes or None in codes:
        return None
    return frozenset(c for c in codes if c is not None)


def principal_for(
    session: Session,
    account_id: uuid.UUID,
    *,
    organisation: str,
    role: str,
    session_id: uuid.UUID | None = None,
    authenticated_at: datetime | None = None,
    authenticated_with: str | None = None,
) -> Principal | None:
    """The official acting in ``organisation`` as ``role``, read afresh: ``None`` when the
    account is no longer active or no longer holds that role there."""
    row = session.get(StaffAccount, account_id)
    if row is None or row.status != "active":
        return None
    org = session.scalar(select(StaffOrganisation).where(StaffOrganisation.code == organisation))
    if org is None:
        return None
    if not any(
        m.role == role for m in _memberships(session, account_id) if m.organisation == organisation
    ):
        return None
    principal = Principal(
        account_id=row.id,
        kind=row.kind,
        name=row.name,
        organisation=org.code,
        organisation_kind=org.kind,
        role=role,
        permissions=_held(session, row.id, organisation, role),
        person_id=row.person_id,
        session_id=session_id,
        authenticated_at=authenticated_at,
        departments=_departments(session, row.id, organisation, role),
        authenticated_with=authenticated_with,
    )
    if session_id is not None:  # An office session: its audit entries name it.
        bind_principal(session, principal, f"office-session:{session_id}")
    return principal


def bind_principal(session: Session, principal: Principal, reference: str) -> None:
    """Let every audit entry ``principal`` records in ``session`` name its account,
    organisation, role and the (non-secret) session ``reference`` (see ``platform.audit``)."""
    audit.bind_acting(
        session,
        audit.ActingAs(
            actor=principal.actor,
            account=str(principal.account_id),
            organisation=principal.organisation,
            role=principal.role,
            session=reference,
        ),
    )


def principal_from_key(session: Session, secret: str) -> Principal:
    """The service account behind an API key (``staff.key_invalid`` when it is unknown,
    expired, revoked, or its account is not active). Touches ``last_used_at``."""
    if not secret.startswith(KEY_PREFIX):
        raise KeyInvalid
    prefix, _, rest = secret[len(KEY_PREFIX) :].partition("_")
    key = session.scalar(select(StaffApiKey).where(StaffApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.key_hash, _hash(rest)):
        raise KeyInvalid
    now = clock.now()
    if key.revoked_at is not None or key.expires_at <= now:
        raise KeyInvalid
    account = session.get(StaffAccount, key.account_id)
    if account is None or account.status != "active":
        raise KeyInvalid
    org = session.get_one(StaffOrganisation, key.organisation_id)
    # A key never grants more than its account's roles there grant today.
    held = _held(session, account.id, org.code)
    permissions = frozenset(p for p in key.permissions if grants(held, p))
    key.last_used_at = now
    principal = Principal(
        account_id=account.id,
        kind=account.kind,
        name=account.name,
        organisation=org.code,
        organisation_kind=org.kind,
        role=None,
        permissions=permissions,
        key_id=key.id,
        departments=_departments(session, account.id, org.code),
    )
    bind_principal(session, principal, f"api-key:{key.id}")
    return principal


def describe_actor(session: Session, actor: str | None, lang: str = "ja") -> str:
    """A journal's or the audit log's actor as a person reads it: the official's name with
    organisation and role, for ``staff:<id>@<org>/<role>``; other actors as they are."""
    if not actor or not actor.startswith("staff:"):
        return actor or ""
    ident, _, rest = actor[len("staff:") :].partition("@")
    organisation, _, role = rest.partition("/")
    try:
        account = session.get(StaffAccount, uuid.UUID(ident))
    except ValueError:
        return actor
    if account is None:
        return actor
    org = session.scalar(select(StaffOrganisation).where(StaffOrganisation.code == organisation))
    role_row = (
        session.scalar(
            select(StaffRole).where(StaffRole.organisation_kind == org.kind, StaffRole.code == role)
        )
        if org is not None
        else None
    )
    org_name = (org.name_en if lang == "en" else org.name_ja) if org else organisation
    role_name = (role_row.name_en if lang == "en" else role_row.name_ja) if role_row else role
    return (
        f"{account.name}（{org_name}・{role_name}）"
        if lang != "en"
        else f"{account.name} ({org_name}, {role_name})"
    )
