"""Tables of business accounts (GビズID-like). Private to the identity block: use the facade.

``identity_business_accounts`` holds every account a corporation has had — its prime account
(gBizID プライム), verified with the representative's signing certificate, and the member
accounts the prime invited. Removing a member only marks the row, so the history stays.
``identity_business_delegations`` records which procedures the prime delegated to which member,
and when a delegation was revoked. ``identity_business_applications`` keeps every prime
application as signed (the evidence of who applied) and makes each nonce usable once.

Corporations live in the corporations block; these tables refer to them by id and corporate
number, without a foreign key across blocks.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class AccountType(enum.StrEnum):
    """A prime account (one per corporation, its representative) or a member account."""

    PRIME = "prime"
    MEMBER = "member"


class AccountStatus(enum.StrEnum):
    """An invited member has not redeemed the invitation yet; a removed account stays as history."""

    INVITED = "invited"
    ACTIVE = "active"
    REMOVED = "removed"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=16)


class BusinessAccount(IdMixin, TimestampMixin, Base):
    """One account of a corporation, held by one resident (once an invitation is redeemed)."""

    __tablename__ = "identity_business_accounts"
    __table_args__ = (
        UniqueConstraint("prime_of"),
        UniqueConstraint("invitation_code_hash"),
        Index("ix_identity_business_accounts_corporation_id_status", "corporation_id", "status"),
    )

    corporation_id: Mapped[uuid.UUID]
    corporate_number: Mapped[str] = mapped_column(String(13))
    account_type: Mapped[AccountType] = mapped_column(_enum(AccountType))
    status: Mapped[AccountStatus] = mapped_column(_enum(AccountStatus))
    # The corporation's id while this is its prime account, NULL otherwise: the unique
    # constraint then allows one prime account per corporation on every backend, even when two
    # applications race.
    prime_of: Mapped[uuid.UUID | None]
    # The resident who holds the account; NULL while a member's invitation is open.
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(64))
    invited_by: Mapped[uuid.UUID | None]
    # SHA-256 (hex) of the one-time invitation code; the code itself is shown once and never
    # stored. Cleared when the invitation is redeemed or the account removed.
    invitation_code_hash: Mapped[str | None] = mapped_column(String(64))
    invitation_expires_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None]


class BusinessDelegation(IdMixin, TimestampMixin, Base):
    """A procedure the prime delegated to a member account; revoking keeps the row."""

    __tablename__ = "identity_business_delegations"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_business_accounts.id"), index=True
    )
    procedure_code: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[uuid.UUID]
    granted_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None]


class BusinessApplication(IdMixin, Base):
    """A prime-account application exactly as the representative's card signed it."""

    __tablename__ = "identity_business_applications"
    __table_args__ = (UniqueConstraint("nonce"),)

    corporation_id: Mapped[uuid.UUID]
    corporate_number: Mapped[str] = mapped_column(String(13))
    person_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_business_accounts.id"))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    # The signed application (the JSON object whose canonical form was signed) and the
    # signature (base64url), kept as evidence.
    application: Mapped[dict[str, Any]]
    signature: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
