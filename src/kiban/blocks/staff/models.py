"""Tables of the staff block: organisations and their departments, roles (sets of
permissions, per kind of organisation), staff accounts (officials tied to a person of the
register by id, and service accounts), memberships, the accounts' history, and API keys
(stored as SHA-256 only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class StaffOrganisation(IdMixin, Base):
    """A municipality (``code`` is its lg_code), prefecture, agency or kiban's operator."""

    __tablename__ = "staff_organisations"
    __table_args__ = (UniqueConstraint("code"),)

    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class StaffDepartment(IdMixin, Base):
    """A department of an organisation (市民課, 保険年金課, 福祉課, ...)."""

    __tablename__ = "staff_departments"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    organisation_id: Mapped[uuid.UUID]
    code: Mapped[str] = mapped_column(String(64))
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class StaffRole(IdMixin, Base):
    """A role of one kind of organisation: a named set of permissions (data, not code)."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("organisation_kind", "code"),)

    organisation_kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    permissions: Mapped[list[Any]]


class StaffAccount(IdMixin, Base):
    """An official (``person_id`` names them in the register) or a service account."""

    __tablename__ = "staff_accounts"
    __table_args__ = (Index("ix_staff_accounts_person_id", "person_id"),)

    kind: Mapped[str] = mapped_column(String(16))  # official | service
    person_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | closed
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class StaffMembership(IdMixin, Base):
    """An account holds a role in an organisation (optionally in one department) from
    ``granted_at`` until it is revoked."""

    __tablename__ = "staff_memberships"
    __table_args__ = (Index("ix_staff_memberships_account_id", "account_id"),)

    account_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID | None]
    role_id: Mapped[uuid.UUID]
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    granted_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class StaffAccountEvent(IdMixin, Base):
    """One step of an account's history: created, suspended, reinstated, closed, granted,
    revoked, key_created, key_revoked."""

    __tablename__ = "staff_account_events"
    __table_args__ = (Index("ix_staff_account_events_account_at", "account_id", "at"),)

    account_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=clock.now)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]


class StaffApiKey(IdMixin, Base):
    """An API key of a service account: scoped to one organisation and a set of permissions,
    expiring, revocable. Only the SHA-256 of the key is kept; ``prefix`` finds the row."""

    __tablename__ = "staff_api_keys"
    __table_args__ = (UniqueConstraint("prefix"),)

    account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    organisation_id: Mapped[uuid.UUID]
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class StaffBreakGlass(IdMixin, Base):
    """Emergency access (break-glass): an administrator lets one account act on one person's
    data of an organisation beyond its own roles, for a few hours, with a reason. Recorded,
    shown to the person, and over by itself at ``expires_at``."""

    __tablename__ = "staff_break_glass"
    __table_args__ = (Index("ix_staff_break_glass_account_person", "account_id", "person_id"),)

    account_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    organisation: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(String(500))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StaffWebAuthnCredential(IdMixin, Base):
    """A WebAuthn credential (security key or passkey) an official enrolled as a second way to
    sign in without a card reader: the public key, its sign counter (a counter that goes
    backwards betrays a cloned key) and the name the official gave it."""

    __tablename__ = "staff_webauthn_credentials"
    __table_args__ = (UniqueConstraint("credential_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    credential_id: Mapped[str] = mapped_column(String(1400))  # base64url, as WebAuthn sends it.
    public_key: Mapped[str] = mapped_column(String(2000))  # COSE key, base64url.
    sign_count: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    transports: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]


class StaffTotpSecret(IdMixin, Base):
    """An official's TOTP secret (RFC 6238), encrypted under the installation secret. It is
    active once confirmed by a first code; ``last_step`` is the time step of the last code
    accepted, so a code is never accepted twice."""

    __tablename__ = "staff_totp_secrets"
    __table_args__ = (UniqueConstraint("account_id"),)

    account_id: Mapped[uuid.UUID]
    secret_encrypted: Mapped[str] = mapped_column(String(500))
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class StaffFactorChallenge(IdMixin, Base):
    """A WebAuthn challenge handed to one browser: bound to the office session (enrolment) or
    to the sign-in's flow cookie (``binding`` is a SHA-256), used at most once, short-lived."""

    __tablename__ = "staff_factor_challenges"
    __table_args__ = (Index("ix_staff_factor_challenges_binding", "binding"),)

    purpose: Mapped[str] = mapped_column(String(16))  # register | sign_in | step_up
    binding: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID | None]
    challenge: Mapped[str] = mapped_column(String(200))  # base64url
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
