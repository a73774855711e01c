"""Tables of the credentials block.

Kiban keeps no claim of an issued credential: only whom it was issued to, its type, the
holder key's thumbprint, its validity and its place in a status list. The claims live in the
holder's wallet; the register stays the source of truth.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class CredentialsStatusList(IdMixin, Base):
    """A published Token Status List: ``number`` is its public name in its URL."""

    __tablename__ = "credentials_status_lists"
    __table_args__ = (UniqueConstraint("number"),)

    number: Mapped[int]
    size: Mapped[int]
    bits: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CredentialsCredential(IdMixin, Base):
    """An issued credential: to whom, which type, and its own index in a status list."""

    __tablename__ = "credentials_credentials"
    __table_args__ = (
        UniqueConstraint("status_list_number", "status_index"),
        Index("ix_credentials_credentials_person_type", "person_id", "credential_type"),
    )

    person_id: Mapped[uuid.UUID]
    credential_type: Mapped[str] = mapped_column(String(64))
    vct: Mapped[str] = mapped_column(String(300))
    holder_key_thumbprint: Mapped[str] = mapped_column(String(64))
    status_list_number: Mapped[int]
    status_index: Mapped[int]
    # valid, revoked or suspended, as the status list publishes it.
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(200))


class CredentialsOffer(IdMixin, Base):
    """An OpenID4VCI credential offer with a pre-authorized code and a transaction code.

    Only digests of the codes and of the access token are kept. An offer is redeemed once (the
    code gives one access token) and issues one credential; five wrong transaction codes burn
    it.
    """

    __tablename__ = "credentials_offers"
    __table_args__ = (UniqueConstraint("code_hash"), UniqueConstraint("access_token_hash"))

    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    credential_type: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    tx_code_hash: Mapped[str] = mapped_column(String(64))
    tx_code_failures: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    access_token_hash: Mapped[str | None] = mapped_column(String(64))
    access_expires_at: Mapped[datetime | None]
    credential_id: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CredentialsRelyingParty(IdMixin, Base):
    """A registered verifier: who it is, why it asks, and the claims of one credential type it
    may ask for. The wallet shows this registration to the person before they choose."""

    __tablename__ = "credentials_relying_parties"
    __table_args__ = (UniqueConstraint("name"),)

    # A short name, the last part of the verifier's response URI (``shop``, ``hospital``).
    name: Mapped[str] = mapped_column(String(64))
    display_ja: Mapped[str] = mapped_column(String(200))
    display_en: Mapped[str] = mapped_column(String(200))
    purpose_ja: Mapped[str] = mapped_column(String(500))
    purpose_en: Mapped[str] = mapped_column(String(500))
    credential_type: Mapped[str] = mapped_column(String(64))
    claims: Mapped[list[Any]]
    registered_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CredentialsPresentationRequest(IdMixin, Base):
    """A stored OpenID4VP request: served once by reference (``request_uri``), answered once by
    ``direct_post``. ``result`` holds only the claims the request asked for, for the relying
    party to read; a refusal keeps its reason."""

    __tablename__ = "credentials_presentation_requests"
    __table_args__ = (UniqueConstraint("handle"), UniqueConstraint("state"))

    handle: Mapped[str] = mapped_column(String(64))
    relying_party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    claims: Mapped[list[Any]]
    expires_at: Mapped[datetime]
    # pending, verified or refused.
    outcome: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
