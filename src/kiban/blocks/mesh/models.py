"""Tables of the mesh. The core tables are defined here; access records and consent keep their
tables in their own modules, imported below so that the migrations see them.

Core tables: members and their subsystems (each subsystem with its own key and certificate),
services with their OpenAPI description and data items, grants (deny by default: no row, no
access), agency codes (one row per member and person, for the reverse lookup), subscriptions to
register events and the deliveries they produce. Ids in the X-Road style
(``JP/GOV/00001/pension``) are stored as strings because that is how every message names them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class MeshMember(IdMixin, TimestampMixin, Base):
    """A member of the mesh: a ministry or agency, a municipality, a company or a hospital."""

    __tablename__ = "mesh_members"
    __table_args__ = (UniqueConstraint("xroad_id"),)

    xroad_id: Mapped[str] = mapped_column(String(80))
    instance: Mapped[str] = mapped_column(String(16))
    member_class: Mapped[str] = mapped_column(String(8))
    member_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class MeshSubsystem(IdMixin, TimestampMixin, Base):
    """A member's subsystem, the party that signs messages and holds grants."""

    __tablename__ = "mesh_subsystems"
    __table_args__ = (UniqueConstraint("xroad_id"),)

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mesh_members.id"), index=True)
    xroad_id: Mapped[str] = mapped_column(String(120))
    subsystem_code: Mapped[str] = mapped_column(String(40))
    key_name: Mapped[str] = mapped_column(String(100))
    certificate_pem: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class MeshService(IdMixin, TimestampMixin, Base):
    """A service a subsystem provides, disabled until an operator enables it."""

    __tablename__ = "mesh_services"
    __table_args__ = (UniqueConstraint("xroad_id"),)

    subsystem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mesh_subsystems.id"), index=True)
    provider: Mapped[str] = mapped_column(String(120))
    xroad_id: Mapped[str] = mapped_column(String(200))
    service_code: Mapped[str] = mapped_column(String(60))
    openapi: Mapped[dict[str, Any]]
    items: Mapped[list[Any]]
    # A remote provider's base URL; None means an in-process provider registered by name.
    endpoint_url: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=False)


class MeshGrant(IdMixin, TimestampMixin, Base):
    """A right: this client subsystem may call this service for this task (事務), under this
    legal basis, and receive these data items."""

    __tablename__ = "mesh_grants"
    __table_args__ = (Index("ix_mesh_grants_client_service", "client", "service"),)

    client: Mapped[str] = mapped_column(String(120))
    service: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(300))
    items: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(default=True)


class MeshAgencyCode(IdMixin, Base):
    """A member's agency code (機関別符号) for a person, kept for the reverse lookup."""

    __tablename__ = "mesh_agency_codes"
    __table_args__ = (
        UniqueConstraint("member", "code"),
        UniqueConstraint("member", "person_id"),
    )

    member: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class MeshSubscription(IdMixin, TimestampMixin, Base):
    """A subsystem's subscription to one type of register event."""

    __tablename__ = "mesh_subscriptions"
    __table_args__ = (UniqueConstraint("subsystem", "event_type"),)

    subsystem: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(60), index=True)
    # Either an HTTP endpoint or the name of an in-process handler.
    endpoint_url: Mapped[str | None] = mapped_column(String(500))
    handler: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)


class MeshDelivery(IdMixin, TimestampMixin, Base):
    """One event delivered (or still to be delivered) to one subscription."""

    __tablename__ = "mesh_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_mesh_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mesh_subscriptions.id"))
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(60))
    person_id: Mapped[uuid.UUID]
    agency_code: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]


# --- access records (M2) and consent (M3) keep their tables in their own modules; importing
# them here lets the migrations and ``import_all_models`` see them. Add lines below. ---
from kiban.blocks.mesh import consent_models as _consent_models  # noqa: E402, F401
from kiban.blocks.mesh import record_models as _record_models  # noqa: E402, F401


class MeshMessageId(Base):
    """A message id a client used, kept while its request is fresh (the replay guard).

    The gateway inserts the row before the provider is asked; the primary key on client and
    message id makes a second insert fail, in whichever process it runs, so that one message
    is accepted once. Rows whose request has gone stale (``expires_at``) guard nothing — a
    stale request is refused on its ``iat`` — and are deleted from time to time.
    """

    __tablename__ = "mesh_message_ids"
    __table_args__ = (Index("ix_mesh_message_ids_expires_at", "expires_at"),)

    client: Mapped[str] = mapped_column(String(255), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime]
