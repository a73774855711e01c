"""Tables of the OpenID Connect provider. Private to the block: use the facade.

- ``identity_oidc_clients``: the relying-party registry (client secret stored hashed).
- ``identity_oidc_authorizations``: one authorization request from ``/oidc/authorize`` until a
  code is issued or the resident declines. It holds the card challenge while the resident is
  at the reader, then the person the card proved.
- ``identity_oidc_codes``: authorization codes (stored hashed, single use, one minute).
- ``identity_oidc_access_tokens``: opaque access tokens (stored hashed) for ``/oidc/userinfo``.
- ``identity_oidc_consents``: what a resident agreed to share with a client, remembered.
- ``identity_oidc_sectors``: sectors an operator approved (OpenID Connect Core §8.1), each with
  the redirect URIs that belong to it; a client joins a sector only with redirect URIs it lists.

Nothing here stores the individual number; people are referred to by the resident register's
person id, and relying parties only ever see a pairwise subject computed from it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class OidcClient(IdMixin, TimestampMixin, Base):
    """A registered relying party."""

    __tablename__ = "identity_oidc_clients"
    __table_args__ = (UniqueConstraint("client_id"),)

    client_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the secret (hex). Secrets are 256 random bits, so a fast hash is enough: there
    # is nothing to guess, unlike a password. Empty for public clients.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # client_secret_basic, client_secret_post or none (public client, PKCE only).
    auth_method: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(512))
    allowed_scopes: Mapped[list[Any]]
    redirect_uris: Mapped[list[Any]]
    sector_identifier: Mapped[str] = mapped_column(String(255))
    first_party: Mapped[bool] = mapped_column(default=False)
    registered_by: Mapped[str] = mapped_column(String(128))
    # RS256 (the default of OpenID Connect Dynamic Client Registration) or ES256. Clients
    # registered before RS256 existed keep ES256 (migration 0019).
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="RS256")


class OidcAuthorization(IdMixin, TimestampMixin, Base):
    """An authorization request in progress (sign-in with the card, then consent)."""

    __tablename__ = "identity_oidc_authorizations"

    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_oidc_clients.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[Any]]
    state: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    # Random per browser: the flow cookie carries it, so that only the browser that started the
    # request can finish it (the request id alone travels through the card reader's URL).
    browser_binding: Mapped[str] = mapped_column(String(64))
    # pending -> authenticated -> completed | denied.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime]
    # The challenge the card signs: single use, cleared when a callback consumes it.
    challenge: Mapped[str | None] = mapped_column(String(128))
    challenge_expires_at: Mapped[datetime | None]
    person_id: Mapped[uuid.UUID | None]
    auth_time: Mapped[datetime | None]
    # PEM of the signing certificate the card delivered, when the ``sign`` scope was asked for.
    signing_certificate_pem: Mapped[str | None] = mapped_column(Text)


class OidcCode(IdMixin, Base):
    """An authorization code: bound to the client, redirect URI, PKCE challenge and nonce."""

    __tablename__ = "identity_oidc_codes"
    __table_args__ = (UniqueConstraint("code_hash"),)

    code_hash: Mapped[str] = mapped_column(String(64))
    authorization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_oidc_authorizations.id"), index=True
    )
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_oidc_clients.id"))
    person_id: Mapped[uuid.UUID]
    scopes: Mapped[list[Any]]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class OidcAccessToken(IdMixin, Base):
    """An opaque access token for ``/oidc/userinfo``; only its hash is stored."""

    __tablename__ = "identity_oidc_access_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    token_hash: Mapped[str] = mapped_column(String(64))
    code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_oidc_codes.id"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_oidc_clients.id"))
    person_id: Mapped[uuid.UUID]
    scopes: Mapped[list[Any]]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class OidcConsent(IdMixin, TimestampMixin, Base):
    """The items a resident last agreed to share with a client."""

    __tablename__ = "identity_oidc_consents"
    __table_args__ = (UniqueConstraint("client_pk", "person_id"),)

    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_oidc_clients.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    scopes: Mapped[list[Any]]


class OidcSector(IdMixin, TimestampMixin, Base):
    """A sector an operator approved: clients registered with this sector identifier share one
    pairwise ``sub``, and only clients whose every redirect URI is listed here may use it. kiban
    serves the list as the sector's JSON document (``/oidc/sectors/{sector_identifier}``)."""

    __tablename__ = "identity_oidc_sectors"
    __table_args__ = (UniqueConstraint("sector_identifier"),)

    sector_identifier: Mapped[str] = mapped_column(String(255))
    # Who the sector belongs to, as the operator checked it (a company's name).
    name: Mapped[str] = mapped_column(String(128))
    redirect_uris: Mapped[list[Any]]
    approved_by: Mapped[str] = mapped_column(String(128))
