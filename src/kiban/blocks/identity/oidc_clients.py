"""The relying-party registry of the OpenID provider, and the sectors an operator approved.

A pairwise ``sub`` is computed from the client's **sector identifier** (OpenID Connect Core
§8.1), so whoever chooses a client's sector chooses which other clients see the same ``sub``.
The registry therefore never takes a sector on trust:

- Without one, the sector is the host of the redirect URIs (all must share it): the codes go
  to that host, so only its owner can use the ``sub``. On a loopback host (127.0.0.1,
  localhost, ::1), which every native app and development server shares, the sector is the
  client alone (``client:<client_id>``).
- Any other sector must be one the operator approved (``identity_oidc_sectors``) whose list of
  redirect URIs includes every redirect URI of the client — the rule of §8.1 for the JSON
  document at a ``sector_identifier_uri``. kiban cannot fetch such documents from other hosts
  here, so the operator checks the owner and records the list, and kiban serves it as the
  sector's document at ``/oidc/sectors/{sector_identifier}``; a client may name its sector by
  that URI (``sector_identifier_uri``) or by the identifier.

See docs/adr/0007-openid-provider.md.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Final, cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks.identity.oidc_errors import (
    ClientExists,
    ClientInvalid,
    ClientNotFound,
    SectorExists,
    SectorInvalid,
    SectorNotFound,
)
from kiban.blocks.identity.oidc_models import OidcClient, OidcSector
from kiban.blocks.identity.oidc_schemas import (
    ClientCreate,
    ClientCreated,
    ClientRead,
    IdTokenAlg,
    Scope,
    SectorCreate,
    SectorRead,
    SectorUpdate,
)
from kiban.platform import audit
from kiban.platform.settings import get_settings

PORTAL_CLIENT_ID: Final = "kiban-portal"
OFFICE_CLIENT_ID: Final = "kiban-office"
AUDIT_SOURCE: Final = "identity"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
SECTORS_PATH: Final = "/oidc/sectors/"


def issuer() -> str:
    """The issuer identifier: the public base URL, without a trailing slash."""
    return get_settings().base_url.rstrip("/")


def digest(secret: str) -> str:
    """SHA-256 (hex) of a random secret: client secrets, codes and tokens are stored so."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def sector_document_uri(sector_identifier: str) -> str:
    """Where kiban serves an approved sector's JSON document (Core §8.1)."""
    return f"{issuer()}{SECTORS_PATH}{sector_identifier}"


# --- Sectors --------------------------------------------------------------------------------


def _find_sector(session: Session, sector_identifier: str) -> OidcSector | None:
    return session.scalar(
        select(OidcSector).where(OidcSector.sector_identifier == sector_identifier)
    )


def _sector_read(session: Session, sector: OidcSector) -> SectorRead:
    clients = session.scalars(
        select(OidcClient.client_id)
        .where(OidcClient.sector_identifier == sector.sector_identifier)
        .order_by(OidcClient.client_id)
    )
    return SectorRead(
        sector_identifier=sector.sector_identifier,
        name=sector.name,
        redirect_uris=list(sector.redirect_uris),
        sector_identifier_uri=sector_document_uri(sector.sector_identifier),
        clients=list(clients),
        approved_by=sector.approved_by,
        created_at=sector.created_at,
        updated_at=sector.updated_at,
    )


def do_approve_sector(session: Session, data: SectorCreate, *, actor: str) -> SectorRead:
    """Record a sector the operator checked: its owner and every redirect URI that belongs to
    it. ``identity.sector_exists`` (409) if the identifier is approved already."""
    if _find_sector(session, data.sector_identifier) is not None:
        raise SectorExists
    sector = OidcSector(
        sector_identifier=data.sector_identifier,
        name=data.name,
        redirect_uris=list(data.redirect_uris),
        approved_by=actor,
    )
    session.add(sector)
    session.flush()
    audit.record(
        session,
        tag=f"{AUDIT_SOURCE}:oidc_sector:approved",
        actor=actor,
        subject=f"oidc_sector:{data.sector_identifier}",
        data={"name": data.name, "redirect_uris": list(data.redirect_uris)},
    )
    return _sector_read(session, sector)


def do_update_sector(
    session: Session, sector_identifier: str, data: SectorUpdate, *, actor: str
) -> SectorRead:
    """Replace an approved sector's owner name and redirect URIs. A URI a client of the sector
    is registered with cannot be dropped (``identity.sector_invalid``, field
    ``redirect_uris``): that client would keep a ``sub`` the sector no longer vouches for."""
    sector = _find_sector(session, sector_identifier)
    if sector is None:
        raise SectorNotFound
    kept = set(data.redirect_uris)
    for client in session.scalars(
        select(OidcClient).where(OidcClient.sector_identifier == sector_identifier)
    ):
        dropped = [uri for uri in client.redirect_uris if uri not in kept]
        if dropped:
            raise SectorInvalid(
                f"連携サービス {client.client_id} が使うリダイレクトURIは外せません: "
                f"{' '.join(dropped)}",
                f"Client {client.client_id} is registered with these redirect URIs: "
                f"{' '.join(dropped)}",
                field="redirect_uris",
            )
    sector.name = data.name
    sector.redirect_uris = list(data.redirect_uris)
    session.flush()
    audit.record(
        session,
        tag=f"{AUDIT_SOURCE}:oidc_sector:updated",
        actor=actor,
        subject=f"oidc_sector:{sector_identifier}",
        data={"name": data.name, "redirect_uris": list(data.redirect_uris)},
    )
    return _sector_read(session, sector)


def list_sectors(session: Session) -> list[SectorRead]:
    """Every approved sector, by identifier."""
    sectors = session.scalars(select(OidcSector).order_by(OidcSector.sector_identifier))
    return [_sector_read(session, sector) for sector in sectors]


def get_sector(session: Session, sector_identifier: str) -> SectorRead:
    """One approved sector; ``identity.sector_not_found`` (404) otherwise."""
    sector = _find_sector(session, sector_identifier)
    if sector is None:
        raise SectorNotFound
    return _sector_read(session, sector)


def sector_document(session: Session, sector_identifier: str) -> list[str]:
    """The sector's JSON document: the redirect URIs that belong to it (Core §8.1)."""
    sector = _find_sector(session, sector_identifier)
    if sector is None:
        raise SectorNotFound
    return list(sector.redirect_uris)


def _sector_from_uri(uri: str) -> str:
    """The sector a ``sector_identifier_uri`` names: only kiban's own documents are read."""
    prefix = f"{issuer()}{SECTORS_PATH}"
    sector = uri[len(prefix) :] if uri.startswith(prefix) else ""
    if not sector or "/" in sector or "?" in sector or "#" in sector:
        raise ClientInvalid(
            "セクター識別子URIは、このサービスが公開する承認済みセクターの文書"
            f"（{prefix}…）を指定してください。",
            "kiban reads only the sector documents it serves itself "
            f"({prefix}…); ask the operator to approve the sector.",
            field="sector_identifier_uri",
        )
    return sector.lower()


def _hosts(redirect_uris: list[str]) -> set[str]:
    return {(urlsplit(uri).hostname or "").lower() for uri in redirect_uris}


def _sector_for(session: Session, data: ClientCreate, client_id: str) -> str:
    """The verified sector of a new client (see the module's docstring)."""
    sector = data.sector_identifier
    if data.sector_identifier_uri is not None:
        named = _sector_from_uri(data.sector_identifier_uri)
        if sector is not None and sector != named:
            raise ClientInvalid(
                "セクター識別子とセクター識別子URIが別のセクターを指しています。",
                "sector_identifier and sector_identifier_uri name different sectors.",
                field="sector_identifier_uri",
            )
        sector = named
    hosts = _hosts(list(data.redirect_uris))
    if sector is None:
        if len(hosts) != 1:
            raise ClientInvalid(
                "リダイレクトURIのホストが複数あるときは、承認済みのセクター識別子を指定して"
                "ください。",
                "Give an approved sector identifier when the redirect URIs have more than one "
                "host.",
                field="sector_identifier",
            )
        host = hosts.pop()
        return f"client:{client_id}" if host in LOOPBACK_HOSTS else host
    if hosts == {sector} and sector not in LOOPBACK_HOSTS:
        return sector  # The redirect URIs' own host: the default, nothing to verify.
    approved = _find_sector(session, sector)
    if approved is None:
        raise ClientInvalid(
            f"セクター {sector} は承認されていません。オペレーターにセクターの承認を依頼して"
            "ください。",
            f"The sector {sector} is not approved; ask the operator to approve it with the "
            "redirect URIs that belong to it.",
            field="sector_identifier_uri" if data.sector_identifier_uri else "sector_identifier",
        )
    unlisted = [uri for uri in data.redirect_uris if uri not in approved.redirect_uris]
    if unlisted:
        raise ClientInvalid(
            f"セクター {sector} の文書に載っていないリダイレクトURIがあります: "
            f"{' '.join(unlisted)}",
            f"The sector {sector} does not list these redirect URIs: {' '.join(unlisted)}",
            field="redirect_uris",
        )
    return sector


# --- Clients --------------------------------------------------------------------------------


def client_read(session: Session, client: OidcClient) -> ClientRead:
    approved = _find_sector(session, client.sector_identifier)
    return ClientRead(
        client_id=client.client_id,
        name=client.name,
        purpose=client.purpose,
        scopes=cast(list[Scope], list(client.allowed_scopes)),
        redirect_uris=list(client.redirect_uris),
        sector_identifier=client.sector_identifier,
        sector_identifier_uri=(
            sector_document_uri(client.sector_identifier) if approved is not None else None
        ),
        auth_method=cast(Any, client.auth_method),
        first_party=client.first_party,
        id_token_signed_response_alg=cast(IdTokenAlg, client.id_token_signed_response_alg),
        created_at=client.created_at,
    )


def find_client(session: Session, client_id: str) -> OidcClient | None:
    return session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))


def do_register_client(session: Session, data: ClientCreate, *, actor: str) -> ClientCreated:
    """Register a relying party; the secret (confidential clients) is returned only here."""
    client_id = data.client_id or f"rp-{secrets.token_hex(8)}"
    if find_client(session, client_id) is not None:
        raise ClientExists
    sector = _sector_for(session, data, client_id)
    secret = None if data.auth_method == "none" else secrets.token_urlsafe(32)
    client = OidcClient(
        client_id=client_id,
        secret_hash=digest(secret) if secret else None,
        auth_method=data.auth_method,
        name=data.name,
        purpose=data.purpose,
        allowed_scopes=list(data.scopes),
        redirect_uris=list(data.redirect_uris),
        sector_identifier=sector,
        first_party=data.first_party,
        registered_by=actor,
        id_token_signed_response_alg=data.id_token_signed_response_alg,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        tag=f"{AUDIT_SOURCE}:oidc_client:registered",
        actor=actor,
        subject=f"oidc_client:{client_id}",
        data={
            "name": data.name,
            "scopes": list(data.scopes),
            "redirect_uris": list(data.redirect_uris),
            "sector_identifier": sector,
            "first_party": data.first_party,
            "id_token_signed_response_alg": data.id_token_signed_response_alg,
        },
    )
    return ClientCreated(**client_read(session, client).model_dump(), client_secret=secret)


def list_clients(session: Session) -> list[ClientRead]:
    """Every registered relying party, by name."""
    clients = session.scalars(select(OidcClient).order_by(OidcClient.name, OidcClient.client_id))
    return [client_read(session, client) for client in clients]


def get_client(session: Session, client_id: str) -> ClientRead:
    """One relying party; ``identity.client_not_found`` otherwise."""
    client = find_client(session, client_id)
    if client is None:
        raise ClientNotFound
    return client_read(session, client)


def portal_redirect_uri() -> str:
    return f"{issuer()}/portal/callback"


def do_ensure_portal_client(session: Session) -> ClientRead:
    """The portal's own registration, created on first use (first party, public, PKCE).

    The redirect URI follows ``KIBAN_BASE_URL``, so the registration is brought in line when the
    base URL changes.
    """
    return _ensure_first_party(
        session,
        PORTAL_CLIENT_ID,
        name="マイページ / My page",
        purpose="住民ご本人が自分の記録を確認するため / So that residents can see their own "
        "records",
        scopes=["openid", "name", "address", "birthdate", "gender"],
        redirect_uri=portal_redirect_uri(),
        actor="system:portal",
    )


def do_ensure_office_client(session: Session) -> ClientRead:
    """The back office's own registration (officials sign in with their own card), created on
    first use like the portal's."""
    return _ensure_first_party(
        session,
        OFFICE_CLIENT_ID,
        name="職員用業務画面 / Office",
        purpose="職員ご本人の確認のため / To identify the official signing in",
        scopes=["openid", "name"],
        redirect_uri=f"{issuer()}/office/callback",
        actor="system:office",
    )


def _ensure_first_party(
    session: Session,
    client_id: str,
    *,
    name: str,
    purpose: str,
    scopes: list[Scope],
    redirect_uri: str,
    actor: str,
) -> ClientRead:
    client = find_client(session, client_id)
    # Built without validation: the redirect URI comes from the operator's configuration
    # (KIBAN_BASE_URL), which may be plain http on a development host name.
    data = ClientCreate.model_construct(
        client_id=client_id,
        name=name,
        purpose=purpose,
        scopes=scopes,
        redirect_uris=[redirect_uri],
        sector_identifier=None,
        sector_identifier_uri=None,
        auth_method="none",
        first_party=True,
    )
    if client is None:
        # Several serve processes meet their first sign-in at once: one registers the
        # client; the others find it registered by then, or their insert hits the unique
        # client id, and they read the winner's row.
        try:
            with session.begin_nested():
                do_register_client(session, data, actor=actor)
        except (ClientExists, IntegrityError):
            pass
        client = find_client(session, client_id)
        assert client is not None  # noqa: S101 - registered in this transaction or another.
    elif list(client.redirect_uris) != [redirect_uri]:
        client.redirect_uris = [redirect_uri]
        client.sector_identifier = _sector_for(session, data, client_id)
        session.flush()
    return client_read(session, client)
