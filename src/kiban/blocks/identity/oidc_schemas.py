"""Data shapes of the OpenID Connect provider: the facade's DTOs and the HTTP models."""

from __future__ import annotations

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
        description="Host name that groups clients sharing one pairwise `sub`; default: the "
        "redirect URIs' host.",
        examples=["shop.example"],
    )
    auth_method: AuthMethod = Field(
        default="client_secret_basic",
        description="How the client authenticates at the token endpoint; `none` is a public "
        "client (PKCE only, no secret).",
    )
    first_party: bool = Field(default=False, description="Kiban's own services (the portal).")

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, value: list[str]) -> list[str]:
        for uri in value:
            check_redirect_uri(uri)
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a URI")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[Scope]) -> list[Scope]:
        wanted = set(value) | {"openid"}
        return [scope for scope in SCOPES if scope in wanted]

    @field_validator("sector_identifier")
    @classmethod
    def _sector(cls, value: str | None) -> str | None:
        if value is not None and (not value or "/" in value or ":" in value or " " in value):
            raise ValueError("must be a host name such as shop.example")
        return value.lower() if value else value


class ClientRead(BaseModel):
    """A registered relying party (never its secret)."""

    client_id: str
    name: str
    purpose: str
    scopes: list[Scope]
    redirect_uris: list[str]
    sector_identifier: str
    auth_method: AuthMethod
    first_party: bool
    created_at: datetime


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
