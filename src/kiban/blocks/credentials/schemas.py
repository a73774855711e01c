"""HTTP models of the credentials block."""

from __future__ import annotations

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
