"""The mesh registry: members, subsystems (with their keys and certificates), services, grants
and subscriptions. Each ``do_*`` validates first, then writes, audits and emits in the caller's
transaction; nothing here commits.

The mesh CA (an EC P-256 key in the key store, its self-signed certificate beside the keys)
certifies each subsystem's Ed25519 signing key; the certificate names the subsystem by its
X-Road id, and the gateway and providers check message signatures against it.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks.mesh import events as topics
from kiban.blocks.mesh.errors import (
    InvalidId,
    InvalidItems,
    InvalidSubscription,
    MemberExists,
    MemberNotFound,
    ServiceExists,
    ServiceNotFound,
    SubscriptionExists,
    SubsystemExists,
    SubsystemNotFound,
)
from kiban.blocks.mesh.models import (
    MeshGrant,
    MeshMember,
    MeshService,
    MeshSubscription,
    MeshSubsystem,
)
from kiban.blocks.mesh.schemas import (
    GrantRead,
    MemberRead,
    ServiceRead,
    SubscriptionRead,
    SubsystemRead,
)
from kiban.kernel import clock
from kiban.platform import audit, events
from kiban.platform.keys import KeyStore, create_file_once, get_key_store
from kiban.platform.settings import get_settings

INSTANCE: Final = "JP"
MEMBER_CLASSES: Final = ("GOV", "MUN", "COM", "MED")
MEMBER_ID = re.compile(r"^JP/(GOV|MUN|COM|MED)/([A-Za-z0-9-]{1,32})$")
SUBSYSTEM_ID = re.compile(r"^(JP/(?:GOV|MUN|COM|MED)/[A-Za-z0-9-]{1,32})/([a-z0-9-]{1,40})$")
SERVICE_ID = re.compile(
    r"^(JP/(?:GOV|MUN|COM|MED)/[A-Za-z0-9-]{1,32}/[a-z0-9-]{1,40})/([A-Za-z0-9._-]{1,60})$"
)
_MEMBER_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_SUBSYSTEM_CODE = re.compile(r"^[a-z0-9-]{1,40}$")
_SERVICE_CODE = re.compile(r"^[A-Za-z0-9._-]{1,60}$")
_ITEM = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
EVENT_TYPES: Final = (
    "resident.moved_in",
    "resident.address_changed",
    "resident.died",
    "resident.name_changed",
    "resident.registered",  # delivered for births only (mesh.subscribers.on_registered)
)
CERT_DAYS: Final = 825


# --- identifiers -------------------------------------------------------------------------------


def parse_subsystem_id(value: str, field: str = "subsystem") -> tuple[str, str]:
    """``(member id, subsystem code)`` of an X-Road subsystem id; ``mesh.invalid_id``."""
    match = SUBSYSTEM_ID.match(value)
    if match is None:
        raise InvalidId(value, field)
    return match.group(1), match.group(2)


def parse_service_id(value: str, field: str = "service") -> tuple[str, str]:
    """``(provider subsystem id, service code)`` of a service id; ``mesh.invalid_id``."""
    match = SERVICE_ID.match(value)
    if match is None:
        raise InvalidId(value, field)
    return match.group(1), match.group(2)


def member_of(xroad_id: str) -> str:
    """The member id (``JP/GOV/00001``) of a member, subsystem or service id."""
    return "/".join(xroad_id.split("/")[:3])


def key_name(subsystem_id: str) -> str:
    """The key store name of a subsystem's signing key."""
    return "mesh-" + subsystem_id.lower().replace("/", ".")


# --- the mesh CA -------------------------------------------------------------------------------

_ca_lock = threading.Lock()


def _ca_key() -> ec.EllipticCurvePrivateKey:
    key = get_key_store().get_or_create("mesh-ca", "ec-p256")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the mesh CA key must be an EC key")
    return key


@lru_cache(maxsize=8)
def _ca_certificate_at(path: Path) -> x509.Certificate:
    with _ca_lock:
        if not path.exists():
            key = _ca_key()
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kiban"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "kiban mesh CA"),
                ]
            )
            now = clock.now()
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5))
                .not_valid_after(now + timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=False,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .sign(key, hashes.SHA256())
            )
            create_file_once(path, cert.public_bytes(serialization.Encoding.PEM))
        return x509.load_pem_x509_certificate(path.read_bytes())


@dataclass
class _ProcessKeys:
    """The key store, the CA and the subsystem keys of one settings object. Finding the key
    store resolves paths on disk, which costs more than the signature the key makes; the
    gateway asks for three keys a request, so they are kept until the settings change."""

    settings: object
    store: KeyStore
    ca: x509.Certificate | None = None
    ca_pem: str | None = None
    subsystem_keys: dict[str, ed25519.Ed25519PrivateKey] = dataclasses.field(default_factory=dict)


_process_keys: _ProcessKeys | None = None


def _keys() -> _ProcessKeys:
    global _process_keys  # noqa: PLW0603 - a per-process cache, replaced when settings change.
    settings = get_settings()
    current = _process_keys
    if current is None or current.settings is not settings:
        current = _process_keys = _ProcessKeys(settings, get_key_store())
    return current


def key_store() -> KeyStore:
    """The process key store (cached until the settings change)."""
    return _keys().store


def ca_certificate() -> x509.Certificate:
    """The mesh CA's certificate (made on first use)."""
    keys = _keys()
    if keys.ca is None:
        keys.ca = _ca_certificate_at((get_settings().data_dir / "mesh" / "ca.pem").resolve())
    return keys.ca


def ca_pem() -> str:
    """The mesh CA's certificate, PEM: what a provider needs to check client certificates."""
    keys = _keys()
    if keys.ca_pem is None:
        keys.ca_pem = ca_certificate().public_bytes(serialization.Encoding.PEM).decode()
    return keys.ca_pem


def subsystem_key(subsystem_id: str) -> ed25519.Ed25519PrivateKey:
    """The subsystem's signing key from the key store."""
    keys = _keys()
    key = keys.subsystem_keys.get(subsystem_id)
    if key is None:
        found = keys.store.get_or_create(key_name(subsystem_id), "ed25519")
        if not isinstance(found, ed25519.Ed25519PrivateKey):
            raise TypeError("mesh subsystem keys are Ed25519")
        key = keys.subsystem_keys[subsystem_id] = found
    return key


def _issue_certificate(subsystem_id: str, public_key: ed25519.Ed25519PublicKey) -> str:
    ca = ca_certificate()
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, member_of(subsystem_id)),
                    x509.NameAttribute(NameOID.COMMON_NAME, subsystem_id),
                ]
            )
        )
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(_ca_key(), hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# --- the gateway's view of the registry, cached briefly ----------------------------------------

REGISTRY_TTL_SECONDS: Final = 1.0
"""How long the gateway may use what it read of clients, services and grants. Changes made in
this process apply at once (every action clears the cache); those made by another process
within this time (X-Road's security servers cache global configuration the same way)."""


@dataclass(frozen=True)
class ClientEntry:
    xroad_id: str
    certificate_pem: str


@dataclass(frozen=True)
class ServiceEntry:
    xroad_id: str
    provider: str
    endpoint_url: str | None
    enabled: bool
    items: tuple[str, ...]
    provider_certificate: str


@dataclass(frozen=True)
class GrantEntry:
    task: str
    legal_basis: str
    items: tuple[str, ...]


# Per engine (a database), so that a test's fresh database never sees another's entries; the
# entries go with the engine.
_registry_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], tuple[float, Any]]] = (
    weakref.WeakKeyDictionary()
)


def invalidate_registry() -> None:
    """Forget what the gateway read of the registry."""
    _registry_cache.clear()


def engine_of(session: Session) -> Engine:
    """The engine a session works on."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _cached(session: Session, kind: str, key: str, load: Any) -> Any:
    engine = engine_of(session)
    slots = _registry_cache.get(engine)
    if slots is None:
        slots = _registry_cache.setdefault(engine, {})
    now = time.monotonic()
    hit = slots.get((kind, key))
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if value is not None:
        slots[kind, key] = (now + REGISTRY_TTL_SECONDS, value)
    return value


def active_client(session: Session, xroad_id: str) -> ClientEntry | None:
    """The subsystem if it and its member are active."""

    def load() -> ClientEntry | None:
        pem = session.scalar(
            select(MeshSubsystem.certificate_pem)
            .join(MeshMember, MeshMember.id == MeshSubsystem.member_id)
            .where(
                MeshSubsystem.xroad_id == xroad_id,
                MeshSubsystem.active.is_(True),
                MeshMember.active.is_(True),
            )
        )
        return None if pem is None else ClientEntry(xroad_id, pem)

    entry: ClientEntry | None = _cached(session, "client", xroad_id, load)
    return entry


def service_entry(session: Session, xroad_id: str) -> ServiceEntry | None:
    """The service with its provider's certificate."""

    def load() -> ServiceEntry | None:
        found = session.execute(
            select(MeshService, MeshSubsystem.certificate_pem)
            .join(MeshSubsystem, MeshSubsystem.id == MeshService.subsystem_id)
            .where(MeshService.xroad_id == xroad_id)
        ).first()
        if found is None:
            return None
        row, pem = found
        return ServiceEntry(
            row.xroad_id,
            row.provider,
            row.endpoint_url,
            row.enabled,
            tuple(str(i) for i in row.items),
            pem,
        )

    entry: ServiceEntry | None = _cached(session, "service", xroad_id, load)
    return entry


def grant_entries(session: Session, client: str, service_id: str) -> tuple[GrantEntry, ...]:
    """The grants in force for the client on the service (an empty tuple: deny)."""

    def load() -> tuple[GrantEntry, ...]:
        rows = session.scalars(
            select(MeshGrant)
            .where(
                MeshGrant.client == client,
                MeshGrant.service == service_id,
                MeshGrant.active.is_(True),
            )
            .order_by(MeshGrant.created_at)
        )
        return tuple(
            GrantEntry(g.task, g.legal_basis, tuple(str(i) for i in g.items)) for g in rows
        )

    entries: tuple[GrantEntry, ...] = _cached(session, "grants", f"{client} {service_id}", load)
    return entries


# --- reads -------------------------------------------------------------------------------------


def member_read(row: MeshMember) -> MemberRead:
    return MemberRead(
        id=row.id,
        xroad_id=row.xroad_id,
        member_class=row.member_class,
        member_code=row.member_code,
        name=row.name,
        active=row.active,
    )


def subsystem_read(row: MeshSubsystem) -> SubsystemRead:
    return SubsystemRead(
        id=row.id,
        xroad_id=row.xroad_id,
        member=member_of(row.xroad_id),
        subsystem_code=row.subsystem_code,
        certificate_pem=row.certificate_pem,
        active=row.active,
    )


def service_read(row: MeshService) -> ServiceRead:
    return ServiceRead(
        id=row.id,
        xroad_id=row.xroad_id,
        provider=row.provider,
        service_code=row.service_code,
        items=[str(i) for i in row.items],
        endpoint_url=row.endpoint_url,
        enabled=row.enabled,
    )


def grant_read(row: MeshGrant) -> GrantRead:
    return GrantRead(
        id=row.id,
        client=row.client,
        service=row.service,
        task=row.task,
        legal_basis=row.legal_basis,
        items=[str(i) for i in row.items],
        active=row.active,
    )


def subscription_read(row: MeshSubscription) -> SubscriptionRead:
    return SubscriptionRead(
        id=row.id,
        subsystem=row.subsystem,
        event_type=row.event_type,
        endpoint_url=row.endpoint_url,
        handler=row.handler,
        active=row.active,
    )


def get_member(session: Session, member_id: str, field: str = "member") -> MeshMember:
    row = session.scalar(select(MeshMember).where(MeshMember.xroad_id == member_id))
    if row is None:
        raise MemberNotFound(field)
    return row


def find_subsystem(session: Session, subsystem_id: str) -> MeshSubsystem | None:
    return session.scalar(select(MeshSubsystem).where(MeshSubsystem.xroad_id == subsystem_id))


def get_subsystem(session: Session, subsystem_id: str, field: str = "subsystem") -> MeshSubsystem:
    row = find_subsystem(session, subsystem_id)
    if row is None:
        raise SubsystemNotFound(field)
    return row


def find_service(session: Session, service_id: str) -> MeshService | None:
    return session.scalar(select(MeshService).where(MeshService.xroad_id == service_id))


def get_service(session: Session, service_id: str, field: str = "service") -> MeshService:
    row = find_service(session, service_id)
    if row is None:
        raise ServiceNotFound(field)
    return row


def list_members(session: Session) -> list[MemberRead]:
    return [
        member_read(m) for m in session.scalars(select(MeshMember).order_by(MeshMember.xroad_id))
    ]


def list_subsystems(session: Session, member: str | None = None) -> list[SubsystemRead]:
    query = select(MeshSubsystem).order_by(MeshSubsystem.xroad_id)
    if member is not None:
        query = query.where(MeshSubsystem.xroad_id.startswith(member + "/"))
    return [subsystem_read(s) for s in session.scalars(query)]


def list_services(session: Session, provider: str | None = None) -> list[ServiceRead]:
    query = select(MeshService).order_by(MeshService.xroad_id)
    if provider is not None:
        query = query.where(MeshService.provider == provider)
    return [service_read(s) for s in session.scalars(query)]


def list_grants(
    session: Session, *, client: str | None = None, service: str | None = None
) -> list[GrantRead]:
    query = select(MeshGrant).where(MeshGrant.active.is_(True)).order_by(MeshGrant.created_at)
    if client is not None:
        query = query.where(MeshGrant.client == client)
    if service is not None:
        query = query.where(MeshGrant.service == service)
    return [grant_read(g) for g in session.scalars(query)]


# --- actions -----------------------------------------------------------------------------------


def do_register_member(
    session: Session, *, member_class: str, member_code: str, name: str, actor: str
) -> MeshMember:
    if member_class not in MEMBER_CLASSES:
        raise InvalidId(member_class, "member_class")
    if not _MEMBER_CODE.match(member_code):
        raise InvalidId(member_code, "member_code")
    if not name.strip():
        raise InvalidId(name, "name")
    xroad_id = f"{INSTANCE}/{member_class}/{member_code}"
    if session.scalar(select(MeshMember.id).where(MeshMember.xroad_id == xroad_id)) is not None:
        raise MemberExists()
    row = MeshMember(
        id=uuid.uuid4(),
        xroad_id=xroad_id,
        instance=INSTANCE,
        member_class=member_class,
        member_code=member_code,
        name=name.strip(),
        active=True,
    )
    session.add(row)
    session.flush()
    invalidate_registry()
    audit.record(
        session, tag="mesh:member:registered", actor=actor, subject=xroad_id, data={"name": name}
    )
    events.emit(session, topics.MEMBER_REGISTERED, {"member": xroad_id}, key=xroad_id)
    return row


def do_register_subsystem(
    session: Session, member_id: str, subsystem_code: str, *, actor: str
) -> MeshSubsystem:
    if not _SUBSYSTEM_CODE.match(subsystem_code):
        raise InvalidId(subsystem_code, "subsystem_code")
    member = get_member(session, member_id)
    xroad_id = f"{member.xroad_id}/{subsystem_code}"
    if find_subsystem(session, xroad_id) is not None:
        raise SubsystemExists()
    key = subsystem_key(xroad_id)
    row = MeshSubsystem(
        id=uuid.uuid4(),
        member_id=member.id,
        xroad_id=xroad_id,
        subsystem_code=subsystem_code,
        key_name=key_name(xroad_id),
        certificate_pem=_issue_certificate(xroad_id, key.public_key()),
        active=True,
    )
    session.add(row)
    session.flush()
    invalidate_registry()
    audit.record(session, tag="mesh:subsystem:registered", actor=actor, subject=xroad_id)
    events.emit(session, topics.SUBSYSTEM_REGISTERED, {"subsystem": xroad_id}, key=xroad_id)
    return row


def _check_items(items: list[str], field: str = "items") -> list[str]:
    bad = [i for i in items if not isinstance(i, str) or not _ITEM.match(i)]
    if bad or not items or len(set(items)) != len(items):
        raise InvalidItems([str(i) for i in bad] or list(items), field)
    return list(items)


def do_register_service(
    session: Session,
    subsystem_id: str,
    service_code: str,
    *,
    openapi: dict[str, Any],
    items: list[str],
    endpoint_url: str | None,
    actor: str,
) -> MeshService:
    if not _SERVICE_CODE.match(service_code):
        raise InvalidId(service_code, "service_code")
    if not isinstance(openapi, dict) or "openapi" not in openapi:
        raise InvalidId("openapi", "openapi")
    if endpoint_url is not None and not re.match(r"^https?://[^\s]+$", endpoint_url):
        raise InvalidId(endpoint_url, "endpoint_url")
    items = _check_items(items)
    subsystem = get_subsystem(session, subsystem_id)
    xroad_id = f"{subsystem.xroad_id}/{service_code}"
    if find_service(session, xroad_id) is not None:
        raise ServiceExists()
    row = MeshService(
        id=uuid.uuid4(),
        subsystem_id=subsystem.id,
        provider=subsystem.xroad_id,
        xroad_id=xroad_id,
        service_code=service_code,
        openapi=openapi,
        items=items,
        endpoint_url=endpoint_url.rstrip("/") if endpoint_url else None,
        enabled=False,
    )
    session.add(row)
    session.flush()
    invalidate_registry()
    audit.record(
        session,
        tag="mesh:service:registered",
        actor=actor,
        subject=xroad_id,
        data={"items": items, "endpoint_url": endpoint_url},
    )
    events.emit(session, topics.SERVICE_REGISTERED, {"service": xroad_id}, key=xroad_id)
    return row


def do_set_service_enabled(
    session: Session, service_id: str, *, enabled: bool, actor: str
) -> MeshService:
    row = get_service(session, service_id)
    if row.enabled != enabled:
        row.enabled = enabled
        session.flush()
        invalidate_registry()
        action = "enabled" if enabled else "disabled"
        audit.record(session, tag=f"mesh:service:{action}", actor=actor, subject=service_id)
        events.emit(
            session,
            topics.SERVICE_ENABLED,
            {"service": service_id, "enabled": enabled},
            key=service_id,
        )
    return row


def do_grant(
    session: Session,
    *,
    client: str,
    service: str,
    task: str,
    legal_basis: str,
    items: list[str],
    actor: str,
) -> MeshGrant:
    parse_subsystem_id(client, "client")
    parse_service_id(service, "service")
    if not task.strip():
        raise InvalidId(task, "task")
    if not legal_basis.strip():
        raise InvalidId(legal_basis, "legal_basis")
    items = _check_items(items)
    get_subsystem(session, client, "client")
    svc = get_service(session, service)
    unknown = [i for i in items if i not in svc.items]
    if unknown:
        raise InvalidItems(unknown)
    row = MeshGrant(
        id=uuid.uuid4(),
        client=client,
        service=service,
        task=task.strip(),
        legal_basis=legal_basis.strip(),
        items=items,
        active=True,
    )
    session.add(row)
    session.flush()
    invalidate_registry()
    audit.record(
        session,
        tag="mesh:grant:created",
        actor=actor,
        subject=f"{client} -> {service}",
        data={"task": task, "legal_basis": legal_basis, "items": items},
    )
    events.emit(session, topics.GRANT_CREATED, {"client": client, "service": service}, key=service)
    return row


def do_revoke_grant(session: Session, grant_id: uuid.UUID, *, actor: str) -> None:
    row = session.get(MeshGrant, grant_id)
    if row is None or not row.active:
        raise ServiceNotFound("grant_id")
    row.active = False
    session.flush()
    invalidate_registry()
    audit.record(
        session, tag="mesh:grant:revoked", actor=actor, subject=f"{row.client} -> {row.service}"
    )


def do_subscribe(
    session: Session,
    subsystem_id: str,
    event_type: str,
    *,
    endpoint_url: str | None,
    handler: str | None,
    actor: str,
) -> MeshSubscription:
    if event_type not in EVENT_TYPES:
        raise InvalidSubscription(
            f"購読できない種類のイベントです: {event_type}",
            f"Not an event type one can subscribe to: {event_type}",
            "event_type",
        )
    if (endpoint_url is None) == (handler is None):
        raise InvalidSubscription(
            "配信先(URLまたはハンドラ)を一つだけ指定してください。",
            "Give exactly one destination: an endpoint URL or a handler.",
            "endpoint_url",
        )
    if endpoint_url is not None and not re.match(r"^https?://[^\s]+$", endpoint_url):
        raise InvalidId(endpoint_url, "endpoint_url")
    get_subsystem(session, subsystem_id)
    existing = session.scalar(
        select(MeshSubscription.id).where(
            MeshSubscription.subsystem == subsystem_id, MeshSubscription.event_type == event_type
        )
    )
    if existing is not None:
        raise SubscriptionExists()
    row = MeshSubscription(
        id=uuid.uuid4(),
        subsystem=subsystem_id,
        event_type=event_type,
        endpoint_url=endpoint_url,
        handler=handler,
        active=True,
    )
    session.add(row)
    session.flush()
    invalidate_registry()
    audit.record(
        session,
        tag="mesh:subscription:created",
        actor=actor,
        subject=subsystem_id,
        data={"event_type": event_type},
    )
    events.emit(
        session,
        topics.SUBSCRIPTION_CREATED,
        {"subsystem": subsystem_id, "event_type": event_type},
        key=subsystem_id,
    )
    return row
