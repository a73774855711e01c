"""Tables of consent for companies: the signed artefacts, their hash-chained status log and the
uses that consume them.

The artefact row never changes after it is written (its JWS is the evidence of what the person
agreed to); everything that changes lives in the status log, one appended row per change, and
in the use table, whose unique constraint is what stops two concurrent fetches from both
passing a once-only or per-period limit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.kernel import clock
from kiban.platform.db import Base, IdMixin


class MeshConsent(IdMixin, Base):
    """A consent artefact: what a person allowed a company to fetch, signed by the mesh."""

    __tablename__ = "mesh_consents"
    __table_args__ = (Index("ix_mesh_consents_person_company", "person_id", "company"),)

    # The internal person id; the mesh never keeps the My Number.
    person_id: Mapped[uuid.UUID]
    # The subsystem id of a COM member, such as ``JP/COM/0000000000001/bank``.
    company: Mapped[str] = mapped_column(String(200))
    purpose_code: Mapped[str] = mapped_column(String(64))
    purpose_text: Mapped[str] = mapped_column(String(500))
    items: Mapped[list[Any]]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    fetch_type: Mapped[str] = mapped_column(String(16))
    # ``{"unit": "day"|"week"|"month"|"year", "value": n}`` for periodic consents, else null.
    frequency: Mapped[dict[str, Any] | None]
    data_life_days: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The compact JWS (ES256, key ``mesh-consent``) over the canonical artefact.
    jws: Mapped[str] = mapped_column(Text)


class MeshConsentStatus(IdMixin, Base):
    """One status change of a consent, chained to the previous one by its hash."""

    __tablename__ = "mesh_consent_statuses"
    __table_args__ = (UniqueConstraint("consent_id", "seq"),)

    consent_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class MeshConsentUse(IdMixin, Base):
    """One fetch made under a consent. ``period`` names the once-only use (``once``) or the
    period of a periodic consent; ``slot`` counts the fetches within it. The unique constraint
    lets exactly one of two concurrent fetches take a slot."""

    __tablename__ = "mesh_consent_uses"
    __table_args__ = (UniqueConstraint("consent_id", "period", "slot"),)

    consent_id: Mapped[uuid.UUID]
    period: Mapped[str] = mapped_column(String(32))
    slot: Mapped[int]
    used_at: Mapped[datetime]
