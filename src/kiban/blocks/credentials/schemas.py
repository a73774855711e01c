"""HTTP models of the credentials block."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PresentationVerify(BaseModel):
    """A presentation to verify, with what the verifier expects of its key binding."""

    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(
        min_length=1,
        max_length=65536,
        description="The SD-JWT VC presentation: `<JWT>~<disclosures>~<KB-JWT>`",
    )
    nonce: str = Field(min_length=1, max_length=512, description="The nonce the verifier sent")
    audience: str = Field(
        min_length=1, max_length=2048, description="The verifier's identifier (the KB-JWT's aud)"
    )


class PresentationVerified(BaseModel):
    """A presentation that verified: the disclosed claims and nothing else."""

    vct: str
    credential_type: str
    issuer: str
    claims: dict[str, Any] = Field(description="The disclosed claims, and only those")
    issued_at: datetime
    expires_at: datetime
    status: str = Field(description="`valid` (anything else is refused)")


class OfferCreate(BaseModel):
    """An offer of a credential to a register person."""

    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    credential_type: str = Field(min_length=1, max_length=64, examples=["resident"])


class OfferRead(BaseModel):
    """An offer as made: the link now in the person's inbox, and the transaction code to hand
    over by another channel (shown once, never stored)."""

    id: uuid.UUID
    credential_offer: dict[str, Any]
    offer_uri: str
    tx_code: str
    expires_at: datetime


class PresentationRequestCreate(BaseModel):
    """What a verifier wants to see."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(
        min_length=1, max_length=2048, examples=["redirect_uri:https://shop.example.jp/cb"]
    )
    response_uri: str = Field(min_length=1, max_length=2048)
    credential_type: str = Field(min_length=1, max_length=64, examples=["resident"])
    claims: list[str] = Field(min_length=1, max_length=32, examples=[["age_over_20"]])


class PresentationResponseVerify(BaseModel):
    """A wallet's ``direct_post`` answer, with the request it answers."""

    model_config = ConfigDict(extra="forbid")

    request: dict[str, Any] = Field(description="The request object made for this exchange")
    vp_token: dict[str, Any] = Field(description="`{credential query id: [presentation]}`")


class PresentationResponseVerified(BaseModel):
    """Each credential query's verified presentation, holding only the claims asked for."""

    credentials: dict[str, PresentationVerified]
