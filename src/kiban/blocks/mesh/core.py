"""The facade functions of the mesh core (exported by :mod:`kiban.blocks.mesh`).

Writes happen in the caller's transaction; nothing here commits. The directory functions
answer GovStack Information Mediator's calls (``listClients``, ``listMethods``,
``allowedMethods``, ``getOpenAPI``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes, gateway, service, subscribers
from kiban.blocks.mesh import service as registry
from kiban.blocks.mesh.errors import PersonUnknown
from kiban.blocks.mesh.gateway import (
    ProviderFn,
    register_provider,
)
from kiban.blocks.mesh.models import MeshMember, MeshService, MeshSubsystem
from kiban.blocks.mesh.schemas import (
    DirectoryClient,
    DirectoryMethod,
    GrantRead,
    MemberClass,
    MemberRead,
    ServiceRead,
    SubscriptionRead,
    SubsystemRead,
)

list_members = service.list_members
list_subsystems = service.list_subsystems
list_services = service.list_services
list_grants = service.list_grants


def register_member(
    session: Session, *, member_class: MemberClass, member_code: str, name: str, actor: str
) -> MemberRead:
    """Register a member (``JP/{class}/{code}``). ``mesh.invalid_id``, ``mesh.member_exists``."""
    row = service.do_register_member(
        session, member_class=member_class, member_code=member_code, name=name, actor=actor
    )
    return service.member_read(row)


def register_subsystem(
    session: Session, member_id: str, subsystem_code: str, *, actor: str
) -> SubsystemRead:
    """Register a subsystem of a member (``JP/GOV/00001/pension``) with its own Ed25519 key
    and a certificate from the mesh CA. ``mesh.member_not_found``, ``mesh.subsystem_exists``."""
    return service.subsystem_read(
        service.do_register_subsystem(session, member_id, subsystem_code, actor=actor)
    )


def register_service(
    session: Session,
    subsystem_id: str,
    service_code: str,
    *,
    openapi: dict[str, Any],
    items: list[str],
    provider: ProviderFn | str,
    actor: str,
) -> ServiceRead:
    """Register a service, disabled until :func:`enable_service`. ``provider`` is a handler
    served in this process or the base URL of a remote provider (see
    :func:`~kiban.blocks.mesh.gateway.provider_app`)."""
    url = provider if isinstance(provider, str) else None
    row = service.do_register_service(
        session,
        subsystem_id,
        service_code,
        openapi=openapi,
        items=items,
        endpoint_url=url,
        actor=actor,
    )
    if not isinstance(provider, str):
        register_provider(row.xroad_id, provider)
    return service.service_read(row)


def enable_service(session: Session, service_id: str, *, actor: str) -> ServiceRead:
    return service.service_read(
        service.do_set_service_enabled(session, service_id, enabled=True, actor=actor)
    )


def disable_service(session: Session, service_id: str, *, actor: str) -> ServiceRead:
    return service.service_read(
        service.do_set_service_enabled(session, service_id, enabled=False, actor=actor)
    )


def grant(
    session: Session,
    *,
    client: str,
    service: str,
    task: str,
    legal_basis: str,
    items: list[str],
    actor: str,
) -> GrantRead:
    """Allow ``client`` to call ``service`` for ``task`` (事務) under ``legal_basis`` and receive
    ``items`` (a subset of the service's). Without a grant every request is refused."""
    return registry.grant_read(
        registry.do_grant(
            session,
            client=client,
            service=service,
            task=task,
            legal_basis=legal_basis,
            items=items,
            actor=actor,
        )
    )


def ensure_granted_client(
    session: Session,
    *,
    subsystem: str,
    member_name: str,
    service: str,
    task: str,
    legal_basis: str,
    items: Sequence[str],
    actor: str,
) -> bool:
    """Make ``subsystem`` (``JP/GOV/<member>/<code>``, its member named ``member_name``) a mesh
    client granted ``service`` for ``task`` under ``legal_basis`` and ``items``, once the
    service is on the mesh (idempotent: what exists is left as it is). Whether the grant is
    in place: ``False`` while the provider has not registered its service yet.
    ``mesh.invalid_id``."""
    member, code = registry.parse_subsystem_id(subsystem)
    _, member_class, member_code = member.split("/")
    if not any(m.xroad_id == member for m in registry.list_members(session)):
        register_member(
            session,
            member_class=cast("MemberClass", member_class),
            member_code=member_code,
            name=member_name,
            actor=actor,
        )
    if not any(s.xroad_id == subsystem for s in registry.list_subsystems(session, member)):
        register_subsystem(session, member, code, actor=actor)
    if not any(s.xroad_id == service for s in registry.list_services(session)):
        return False
    if not registry.list_grants(session, client=subsystem, service=service):
        grant(
            session,
            client=subsystem,
            service=service,
            task=task,
            legal_basis=legal_basis,
            items=list(items),
            actor=actor,
        )
    return True


def subscribe(
    session: Session,
    subsystem: str,
    event_type: str,
    *,
    endpoint: str | None = None,
    handler: str | None = None,
    actor: str,
) -> SubscriptionRead:
    """Subscribe a subsystem to a register event type; deliveries go to ``endpoint`` (HTTP,
    answered by a ``provider_app`` serving ``{subsystem}/events``) or to the in-process
    ``handler`` registered with :func:`register_delivery_handler`."""
    return service.subscription_read(
        service.do_subscribe(
            session, subsystem, event_type, endpoint_url=endpoint, handler=handler, actor=actor
        )
    )


# --- agency codes ------------------------------------------------------------------------------


def agency_code(session: Session, subsystem_or_member: str, person_id: uuid.UUID) -> str:
    """The member's agency code for the person (made and stored on first use)."""
    return codes.agency_code(session, subsystem_or_member, person_id)


def agency_codes(
    session: Session, subsystem_or_member: str, person_ids: Sequence[uuid.UUID]
) -> list[str]:
    """The member's agency codes for many people, in order (made and stored at once)."""
    return codes.agency_codes(session, subsystem_or_member, person_ids)


def enrol_person(session: Session, person_id: uuid.UUID) -> dict[str, str]:
    """Make the person's code for every active member; member id → code."""
    return codes.enrol_person(session, person_id)


def convert_code(session: Session, from_member: str, code: str, to_member: str) -> str:
    """``to_member``'s code for the person ``from_member`` knows by ``code``;
    ``mesh.person_unknown``."""
    converted = codes.convert(session, from_member, code, to_member)
    if converted is None:
        raise PersonUnknown()
    return converted


def person_of(session: Session, member: str, code: str) -> uuid.UUID:
    """The person one of kiban's own members (a municipal register office, the procedures
    subsystem) knows by ``code``: those members are the register, so they may resolve their
    own codes; ``mesh.person_unknown``. Agencies never call this."""
    person = codes.person_for(session, member, code)
    if person is None:
        raise PersonUnknown()
    return person


# --- directory ---------------------------------------------------------------------------------


def list_clients(session: Session) -> list[DirectoryClient]:
    """Every active member and subsystem (``listClients``)."""
    members = {m.id: m for m in session.scalars(select(MeshMember).where(MeshMember.active))}
    entries = [
        DirectoryClient(
            xroad_id=m.xroad_id,
            name=m.name,
            member_class=m.member_class,
            member_code=m.member_code,
            subsystem_code=None,
            certificate_pem=None,
        )
        for m in members.values()
    ]
    for sub in session.scalars(select(MeshSubsystem).where(MeshSubsystem.active)):
        member = members.get(sub.member_id)
        if member is None:
            continue
        entries.append(
            DirectoryClient(
                xroad_id=sub.xroad_id,
                name=member.name,
                member_class=member.member_class,
                member_code=member.member_code,
                subsystem_code=sub.subsystem_code,
                certificate_pem=sub.certificate_pem,
            )
        )
    return sorted(entries, key=lambda e: e.xroad_id)


def _method(row: MeshService) -> DirectoryMethod:
    return DirectoryMethod(
        service=row.xroad_id,
        provider=row.provider,
        service_code=row.service_code,
        items=[str(i) for i in row.items],
        enabled=row.enabled,
    )


def list_methods(session: Session, provider: str | None = None) -> list[DirectoryMethod]:
    """The services of a provider subsystem, or of all (``listMethods``)."""
    query = select(MeshService).order_by(MeshService.xroad_id)
    if provider is not None:
        service.parse_subsystem_id(provider, "service")
        query = query.where(MeshService.provider == provider)
    return [_method(row) for row in session.scalars(query)]


def allowed_methods(session: Session, client: str) -> list[DirectoryMethod]:
    """The enabled services a client holds a grant for, with the items granted
    (``allowedMethods``)."""
    service.parse_subsystem_id(client, "client")
    granted: dict[str, set[str]] = {}
    for g in service.list_grants(session, client=client):
        granted.setdefault(g.service, set()).update(g.items)
    methods = []
    for row in session.scalars(select(MeshService).where(MeshService.xroad_id.in_(granted))):
        if row.enabled:
            method = _method(row)
            items = [i for i in method.items if i in granted[row.xroad_id]]
            methods.append(method.model_copy(update={"items": items}))
    return sorted(methods, key=lambda m: m.service)


def get_openapi(session: Session, service_id: str) -> dict[str, Any]:
    """The OpenAPI description a service was registered with (``getOpenAPI``)."""
    return dict(service.get_service(session, service_id).openapi)


def metrics_text() -> str:
    """The gateway's metrics in Prometheus text format."""
    return gateway.metrics.render()


# Keep the subscribers module imported with the facade, so deliveries start with the block.
_ = subscribers
