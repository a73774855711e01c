"""Data shapes of the OpenID Connect provider: the facade's DTOs and the HTTP models."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiban.platform.fields import FreeText, Name

Scope = Literal["openid", "name", "address", "birthdate", "gender", "sign", "business"]
SCOPES: tuple[Scope, ...] = ("openid", "name", "address", "birthdate", "gender", "sign", "business")
"""Scopes as the Digital Agency's authentication API names them, plus ``business`` (GビズID)."""

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
IdTokenAlg = Literal["RS256", "ES256"]

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_redirect_uri(uri: str) -> str:
    """``uri`` if it may be registered as a redirect URI, else ``ValueError``.

    Absolute, without a fragment, and ``https`` except on a loopback host (RFC 8252 §7.3 for
    native apps and local development).
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if parts.fragment or "#" in uri:
        raise ValueError("must not contain a fragment")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError("must use https (http only on a loopback host)")
    return uri


def check_redirect_uris(value: list[str]) -> list[str]:
    """``value`` if every URI may be registered and none repeats, else ``ValueError``."""
    for uri in value:
        check_redirect_uri(uri)
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a URI")
    return value


_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def check_sector_identifier(value: str) -> str:
    """``value`` in lower case if it is a host name (the form of a sector identifier), else
    ``ValueError``."""
    lowered = value.lower()
    if not _HOST.match(lowered) or len(lowered) > 253:
        raise ValueError("must be a host name such as shop.example")
    return lowered


RedirectUri = Annotated[
    str,
    Field(
        max_length=2000,
        pattern=r"^(?:https://[A-Za-z0-9.-]+|http://(?:127\.0\.0\.1|localhost|\[::1\]))"
        r"(?::[0-9]{1,4})?(?:/[^#\s]*)?$",
        description="https, or http on a loopback host; no fragment",
    ),
]


class ClientCreate(BaseModel):
    """Registration of a relying party (a service that signs residents in with kiban)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$",
        description="Empty: kiban makes one up.",
        examples=["example-shop"],
    )
    name: Name = Field(min_length=1, max_length=128, examples=["例示商店 / Example Shop"])
    purpose: FreeText = Field(
        min_length=1,
        max_length=512,
        description="Why the service asks: residents read this before they agree.",
        examples=["年齢確認のため / To check the buyer's age"],
    )
    scopes: list[Scope] = Field(
        min_length=1,
        description="The scopes the client may ask for; `openid` is always included.",
        examples=[["openid", "name", "birthdate"]],
    )
    redirect_uris: list[RedirectUri] = Field(
        min_length=1,
        max_length=10,
        json_schema_extra={"uniqueItems": True},
        examples=[["https://shop.example/callback"]],
    )
    sector_identifier: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$",
        description="Host name that groups clients sharing one pairwise `sub` (OpenID Connect "
        "Core §8.1). Default: the redirect URIs' host (on a loopback host: this client alone). "
        "Any other value must be a sector the operator approved whose redirect URIs include "
        "every one of this client's.",
        examples=["shop.example"],
    )
    sector_identifier_uri: str | None = Field(
        default=None,
        max_length=500,
        description="The sector's JSON document (Core §8.1) as kiban serves it for an approved "
        "sector, `{issuer}/oidc/sectors/{sector_identifier}`; another way of naming "
        "`sector_identifier`. kiban does not fetch documents from elsewhere.",
        examples=["https://kiban.example/oidc/sectors/shop.example"],
    )
    auth_method: AuthMethod = Field(
        default="client_secret_basic",
        description="How the client authenticates at the token endpoint; `none` is a public "
        "client (PKCE only, no secret).",
    )
    first_party: bool = Field(default=False, description="Kiban's own services (the portal).")
    id_token_signed_response_alg: IdTokenAlg = Field(
        default="RS256",
        description="How the client's ID tokens are signed (OpenID Connect Dynamic Client "
        "Registration): RS256 (the default) or ES256.",
    )

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, value: list[str]) -> list[str]:
        return check_redirect_uris(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[Scope]) -> list[Scope]:
        wanted = set(value) | {"openid"}
        return [scope for scope in SCOPES if scope in wanted]

    @field_validator("sector_identifier")
    @classmethod
    def _sector(cls, value: str | None) -> str | None:
        return check_sector_identifier(value) if value is not None else None


class ClientRead(BaseModel):
    """A registered relying party (never its secret)."""

    client_id: str
    name: str
    purpose: str
    scopes: list[Scope]
    redirect_uris: list[str]
    sector_identifier: str
    sector_identifier_uri: str | None = Field(
        description="The approved sector's document at kiban, when the client is in one"
    )
    auth_method: AuthMethod
    first_party: bool
    id_token_signed_response_alg: IdTokenAlg
    created_at: datetime


# A host name, as a sector identifier is (checked again, lowered, by check_sector_identifier).
SectorIdentifierText = Annotated[
    str,
    Field(
        max_length=253,
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    ),
]


class SectorCreate(BaseModel):
    """A sector the operator approves after checking that one owner runs every redirect URI
    listed (what fetching a sector_identifier_uri proves, OpenID Connect Core §8.1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sector_identifier: SectorIdentifierText = Field(examples=["shop.example"])
    name: Name = Field(
        min_length=1,
        max_length=128,
        description="Who runs the sector's services",
        examples=["例示商店株式会社 / Example Shop Co."],
    )
    redirect_uris: list[RedirectUri] = Field(
        min_length=1,
        max_length=50,
        description="Every redirect URI that belongs to the sector",
        examples=[["https://shop.example/cb", "https://app.shop-example.jp/cb"]],
    )

    @field_validator("sector_identifier")
    @classmethod
    def _sector(cls, value: str) -> str:
        return check_sector_identifier(value)

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, value: list[str]) -> list[str]:
        return check_redirect_uris(value)


class SectorUpdate(BaseModel):
    """A new owner's name and list of redirect URIs for an approved sector."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name = Field(min_length=1, max_length=128)
    redirect_uris: list[RedirectUri] = Field(min_length=1, max_length=50)

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, value: list[str]) -> list[str]:
        return check_redirect_uris(value)


class SectorRead(BaseModel):
    """An approved sector and the clients registered in it."""

    sector_identifier: str
    name: str
    redirect_uris: list[str]
    sector_identifier_uri: str = Field(description="Where kiban serves the sector's document")
    clients: list[str] = Field(description="The client ids registered in the sector")
    approved_by: str
    created_at: datetime
    updated_at: datetime


class ClientCreated(ClientRead):
    """A new registration: the only time the client secret is shown."""

    client_secret: str | None = Field(
        description="Shown once; kiban keeps only a hash. Empty for public clients."
    )


class AccessTokenInfo(BaseModel):
    """Who an access token speaks for."""

    person_id: uuid.UUID
    client_id: str
    scopes: list[Scope]
    expires_at: datetime


class TokenResponse(BaseModel):
    """The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret.
    expires_in: int
    id_token: str
    scope: str


class SignInRequest(BaseModel):
    """What the sign-in page shows and sends to the card reader."""

    request_id: uuid.UUID
    client_name: str
    client_purpose: str
    first_party: bool
    scopes: list[Scope]
    challenge: str
    challenge_expires_at: datetime
    keys: Literal["auth", "auth,signing"]
    return_to: str
    reader_url: str


class ConsentRequest(BaseModel):
    """What the consent page shows: the items asked for and what the resident agreed before."""

    request_id: uuid.UUID
    client_name: str
    client_purpose: str
    first_party: bool
    scopes: list[Scope]
    remembered: list[Scope] | None = Field(
        description="The items agreed last time with this client; None if never asked."
    )
    person_id: uuid.UUID
