"""DTOs of the card PKI (the facade's return types)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from kiban.blocks.identity.models import CertificateKind


class BasicFour(BaseModel):
    """The basic four (基本4情報) as the signing certificate carries them."""

    name: str = Field(description="Full name as on the register (family name, space, given)")
    name_kana: str | None = Field(default=None, description="Name in katakana, when known")
    birth_date: date
    sex: Literal["male", "female"]
    address: str = Field(description="The address as one line")


class CertificateRead(BaseModel):
    """One certificate of a card."""

    serial: str = Field(description="Serial number, upper-case hex without separators")
    kind: CertificateKind
    status: Literal["good", "revoked"]
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None = Field(description="RFC 5280 CRLReason name, when revoked")
    pem: str


class CardRead(BaseModel):
    """A card and its current certificate of each kind."""

    id: uuid.UUID
    person_id: uuid.UUID
    card_number: str = Field(description="12 digits printed on the card; not the My Number")
    status: Literal["active", "lost", "expired", "revoked"]
    issued_at: datetime
    expires_on: date
    auth_certificate: CertificateRead
    signing_certificate: CertificateRead


class VerifiedCertificate(BaseModel):
    """Who a verified card certificate belongs to."""

    card_id: uuid.UUID
    person_id: uuid.UUID
    serial: str
    kind: CertificateKind
    basic_four: BasicFour | None = Field(description="Signing certificates only")
