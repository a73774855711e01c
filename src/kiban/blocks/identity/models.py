"""Tables of the identity block. Private to the block: use the facade.

``identity_cards`` holds each issued card (a software token the resident keeps in the card
reader); ``identity_certificates`` every certificate ever issued for a card — the register the
CRLs and the OCSP responder answer from. Rows are never deleted: a revoked certificate keeps
its row with the time and the RFC 5280 reason.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class CertificateKind(enum.StrEnum):
    """The two certificates of a card."""

    AUTH = "auth"  # 利用者証明用電子証明書
    SIGNING = "signing"  # 署名用電子証明書


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    LOST = "lost"
    EXPIRED = "expired"
    REVOKED = "revoked"


class CertificateStatus(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=16)


class Card(IdMixin, TimestampMixin, Base):
    """A card issued to a person (by internal person id; the register is another block)."""

    __tablename__ = "identity_cards"
    __table_args__ = (UniqueConstraint("card_number"), UniqueConstraint("active_person_id"))

    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # The 12-digit number printed on the card; random, and unrelated to the individual number.
    card_number: Mapped[str] = mapped_column(String(12))
    status: Mapped[CardStatus] = mapped_column(_enum(CardStatus))
    # The person id while the card is active, NULL otherwise: the unique constraint then allows
    # one active card per person on every backend, even when two issues race.
    active_person_id: Mapped[uuid.UUID | None]
    issued_at: Mapped[datetime]
    expires_on: Mapped[date]


class Certificate(IdMixin, TimestampMixin, Base):
    """One certificate of a card, as issued (PEM) and with its current revocation status."""

    __tablename__ = "identity_certificates"
    __table_args__ = (
        UniqueConstraint("serial"),
        Index("ix_identity_certificates_card_id_kind", "card_id", "kind"),
    )

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_cards.id"))
    kind: Mapped[CertificateKind] = mapped_column(_enum(CertificateKind))
    # Upper-case hex without separators; serials are unique across both issuing CAs.
    serial: Mapped[str] = mapped_column(String(64))
    status: Mapped[CertificateStatus] = mapped_column(_enum(CertificateStatus))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # An RFC 5280 CRLReason name (``keyCompromise``, ``affiliationChanged``, ``superseded``,
    # ``cessationOfOperation``), as in cryptography's ``x509.ReasonFlags`` values.
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    pem: Mapped[str] = mapped_column(Text)


# Other parts of the identity block keep their tables in their own modules; they are imported
# here because kiban.platform.migrate discovers tables through modules named ``models`` only.
# --- model modules of the OpenID provider (C) and business accounts (D): add imports below ---
from kiban.blocks.identity import business_models as _business_models  # noqa: E402, F401
from kiban.blocks.identity import oidc_models as _oidc_models  # noqa: E402, F401
