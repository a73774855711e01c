"""Data shapes of the mesh core: the facade's DTOs and the HTTP models are the same classes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MemberClass = Literal["GOV", "MUN", "COM", "MED"]
DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]


class _Read(BaseModel):
    model_config = ConfigDict(frozen=True)


class MemberRead(_Read):
    id: uuid.UUID
    xroad_id: str = Field(examples=["JP/GOV/00001"])
    member_class: str
    member_code: str
    name: str
    active: bool


class SubsystemRead(_Read):
    id: uuid.UUID
    xroad_id: str = Field(examples=["JP/GOV/00001/pension"])
    member: str
    subsystem_code: str
    certificate_pem: str
    active: bool


class ServiceRead(_Read):
    id: uuid.UUID
    xroad_id: str = Field(examples=["JP/GOV/00001/pension/records"])
    provider: str
    service_code: str
    items: list[str]
    endpoint_url: str | None
    enabled: bool


class GrantRead(_Read):
    id: uuid.UUID
    client: str
    service: str
    task: str
    legal_basis: str
    items: list[str]
    active: bool


class SubscriptionRead(_Read):
    id: uuid.UUID
    subsystem: str
    event_type: str
    endpoint_url: str | None
    handler: str | None
    active: bool


class DeliveryRead(_Read):
    id: uuid.UUID
    subscription_id: uuid.UUID
    subsystem: str
    event_type: str
    event_id: uuid.UUID
    agency_code: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


# --- directory (GovStack Information Mediator) --------------------------------------------------


class DirectoryClient(_Read):
    """One entry of ``listClients``: a member or one of its subsystems."""

    xroad_id: str
    name: str
    member_class: str
    member_code: str
    subsystem_code: str | None
    certificate_pem: str | None


class DirectoryMethod(_Read):
    """One entry of ``listMethods`` / ``allowedMethods``: a service of a provider."""

    service: str
    provider: str
    service_code: str
    items: list[str]
    enabled: bool


class MeshError(_Read):
    code: str
    xroad_error: str
    message: str


class ProviderPayload(_Read):
    """What a provider answers, as the gateway hands it back."""

    status: int
    body: dict[str, Any] | list[Any] | None
