"""Data shapes of business accounts: the facade's DTOs and the HTTP models of
``/api/v1/business``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kiban.blocks.identity.business_models import AccountStatus, AccountType
from kiban.platform.fields import Name

EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
PROCEDURE_CODE = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PrimeApplicationContent(BaseModel):
    """What the representative's card signs: the challenge
    ``kiban-business-prime.<base64url SHA-256 of the canonical JSON of this object>`` (keys
    sorted, no spaces, UTF-8; see ``prime_application_challenge``). Every field is a plain
    string or integer so that the object the server receives serialises to exactly the JSON
    whose hash was signed."""

    # Not stripped or otherwise normalised: the signature covers the values as sent.
    model_config = ConfigDict(extra="forbid")

    corporate_number: str = Field(min_length=1, max_length=32, examples=["4011001098993"])
    display_name: str = Field(min_length=1, max_length=128, examples=["山田　花子"])
    email: str = Field(max_length=254, pattern=EMAIL, examples=["hanako@example.jp"])
    nonce: str = Field(
        pattern=r"^[A-Za-z0-9_-]{16,64}$",
        description="A fresh random value (16–64 base64url characters); usable once",
    )
    signed_at: int = Field(
        description="When the card signed, in seconds since 1970-01-01 UTC; within 10 minutes"
    )


class PrimeApplicationCreate(BaseModel):
    """A prime-account application signed with the representative's signing key."""

    model_config = ConfigDict(extra="forbid")

    application: PrimeApplicationContent
    certificate: str = Field(
        min_length=1,
        max_length=8192,
        description="The signing certificate (署名用電子証明書), DER as base64url, or PEM",
    )
    signature: str = Field(
        min_length=1,
        max_length=1024,
        description="RSA PKCS#1 v1.5 SHA-256 signature of the application challenge, base64url",
    )


class MemberInvite(_Input):
    """A member the prime invites: who (name, e-mail) and in which role."""

    display_name: Name = Field(min_length=1, max_length=128, examples=["佐藤　一郎"])
    email: str = Field(max_length=254, pattern=EMAIL, examples=["ichiro@example.jp"])
    role: Name = Field(default="member", min_length=1, max_length=64, examples=["経理担当"])


class InvitationRedeem(_Input):
    invitation_code: str = Field(min_length=1, max_length=128)


class DelegationCreate(_Input):
    procedure_code: str = Field(
        max_length=64,
        pattern=PROCEDURE_CODE,
        description="The procedure delegated, as dotted lower-case words",
        examples=["subsidy.it_introduction"],
    )


class BusinessAccountRead(BaseModel):
    """A business account as its holder and the corporation's prime see it."""

    id: uuid.UUID
    corporation_id: uuid.UUID
    corporate_number: str
    corporation_name: str
    account_type: AccountType
    status: AccountStatus
    display_name: str
    email: str
    role: str
    procedures: list[str] = Field(
        description="Procedures delegated to a member (a prime account may file every procedure)"
    )
    created_at: datetime
    activated_at: datetime | None
    removed_at: datetime | None


class MemberInvited(BaseModel):
    """A new member account and its one-time invitation code (shown only this once)."""

    account: BusinessAccountRead
    invitation_code: str
    invitation_expires_at: datetime
