"""Municipal offices as members of the mesh, and the moving packet between them.

Each municipality's resident-register office is a mesh member ``JP/MUN/<lg_code>`` with one
subsystem ``JP/MUN/<lg_code>/juki`` (住基), registered the first time a move needs it. The new
municipality's subsystem serves ``moving-packet``: when the old office accepts a moving-out
notice, it sends each mover's 転出証明書情報 (the facts a paper moving-out certificate would
carry) to the new office through the gateway, under a grant citing the Basic Resident Register
Act's special rule for card holders (住民基本台帳法第24条の2). The exchange is signed both ways
and recorded on both sides, so the person sees in "who used my data" that the old office sent
their data to the new one, when, which items and why — within the same transaction as the
approval, instead of hours later.

The request names the person by the old office's agency code; the gateway converts it into the
new office's code. The receiving side (:data:`PacketReceiver`, set by the moving life event)
checks the packet against the moving-out application it cites and keeps it for the move-in.
Providers are registered per process: :func:`install` does it for every office already in the
mesh (at start-up), :func:`ensure_office` for a new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import address, mesh
from kiban.kernel.errors import KibanError

SUBSYSTEM_CODE: Final = "juki"
PACKET_SERVICE_CODE: Final = "moving-packet"
PACKET_ITEMS: Final = (
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "previous_address",
    "destination",
    "moved_out_on",
    "relationship",
    "head_of_household",
    "reference",
)
PACKET_TASK: Final = "転出証明書情報の通知 (転入届の特例)"
PACKET_LEGAL_BASIS: Final = "住民基本台帳法第24条の2"
_OPENAPI: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {"title": "転出証明書情報の受信 (moving packet)", "version": "1"},
    "paths": {
        "/": {
            "post": {
                "summary": "Receive the moving-out certificate data of one person who moves here",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "The packet was received; its receipt"},
                    "404": {"description": "The cited moving-out notice is unknown"},
                    "409": {"description": "The cited moving-out notice is not approved"},
                },
            }
        }
    },
}


@dataclass(frozen=True)
class Packet:
    """One mover's packet as the new office receives it: the new office's agency code for the
    person, the data items, and the mesh message that carried them."""

    to_lg_code: str
    from_office: str
    agency_code: str
    message_id: str
    legal_basis: str | None
    data: Mapping[str, Any]


PacketReceiver = Callable[[Session, Packet], Mapping[str, Any]]
"""Keeps a received packet (in the provider's transaction) and returns the receipt body."""

_receiver: list[PacketReceiver] = []


def office_member(lg_code: str) -> str:
    """The mesh member of a municipality: ``JP/MUN/<lg_code>``."""
    return f"JP/MUN/{lg_code}"


def office_subsystem(lg_code: str) -> str:
    """The resident-register subsystem of a municipality: ``JP/MUN/<lg_code>/juki``."""
    return f"{office_member(lg_code)}/{SUBSYSTEM_CODE}"


def packet_service(lg_code: str) -> str:
    """The moving-packet service of a municipality."""
    return f"{office_subsystem(lg_code)}/{PACKET_SERVICE_CODE}"


def _provider(lg_code: str) -> mesh.ProviderFn:
    def answer(request: mesh.ProviderRequest) -> Any:
        if not _receiver:
            return 503, {"error": "moving.packet_receiver_missing"}
        body = request.body if isinstance(request.body, dict) else {}
        packet = Packet(
            to_lg_code=lg_code,
            from_office=request.client,
            agency_code=request.agency_code,
            message_id=request.message_id,
            legal_basis=request.legal_basis,
            data=body,
        )
        try:
            return dict(_receiver[0](mesh.provider_session(), packet))
        except KibanError as error:
            return error.status, {"error": error.code, "message": error.message_en}

    return answer


def set_packet_receiver(receiver: PacketReceiver) -> None:
    """What the new office does with a packet (the moving life event sets it at import)."""
    _receiver[:] = [receiver]


def ensure_office(session: Session, lg_code: str, *, actor: str) -> str:
    """Register the municipality's office, its subsystem and its packet service (enabled) once,
    and serve the service in this process. Returns the subsystem id."""
    member = office_member(lg_code)
    subsystem = office_subsystem(lg_code)
    service = packet_service(lg_code)
    if not any(s.xroad_id == subsystem for s in mesh.list_subsystems(session, member=member)):
        if not any(m.xroad_id == member for m in mesh.list_members(session)):
            municipality = address.get_municipality(session, lg_code)
            mesh.register_member(
                session,
                member_class="MUN",
                member_code=lg_code,
                name=f"{municipality.full_name}役所",
                actor=actor,
            )
        mesh.register_subsystem(session, member, SUBSYSTEM_CODE, actor=actor)
    if not any(s.xroad_id == service for s in mesh.list_services(session, provider=subsystem)):
        mesh.register_service(
            session,
            subsystem,
            PACKET_SERVICE_CODE,
            openapi=_OPENAPI,
            items=list(PACKET_ITEMS),
            provider=_provider(lg_code),
            actor=actor,
        )
        mesh.enable_service(session, service, actor=actor)
    else:
        mesh.register_provider(service, _provider(lg_code))
    return subsystem


def ensure_packet_route(
    session: Session, from_lg_code: str, to_lg_code: str, *, actor: str
) -> None:
    """Both offices on the mesh and the old office granted the new office's packet service."""
    client = ensure_office(session, from_lg_code, actor=actor)
    ensure_office(session, to_lg_code, actor=actor)
    service = packet_service(to_lg_code)
    if not mesh.list_grants(session, client=client, service=service):
        mesh.grant(
            session,
            client=client,
            service=service,
            task=PACKET_TASK,
            legal_basis=PACKET_LEGAL_BASIS,
            items=list(PACKET_ITEMS),
            actor=actor,
        )


def send_packet(
    session: Session,
    *,
    from_lg_code: str,
    to_lg_code: str,
    person_id: uuid.UUID,
    data: Mapping[str, Any],
    actor: str,
) -> mesh.MeshResponse:
    """Send one mover's packet from the old office to the new one through the gateway (the
    route registered first). Refusals are returned, not raised, as the gateway does."""
    ensure_packet_route(session, from_lg_code, to_lg_code, actor=actor)
    client = office_subsystem(from_lg_code)
    return mesh.call(
        session,
        client=client,
        service=packet_service(to_lg_code),
        agency_code=mesh.agency_code(session, client, person_id),
        user_id=actor,
        body=dict(data),
        items=[item for item in PACKET_ITEMS if item in data],
    )


def install(session: Session) -> int:
    """Serve the packet service of every office already registered (per process); how many."""
    served = 0
    for service in mesh.list_services(session):
        parts = service.xroad_id.split("/")
        if (
            len(parts) == 5
            and parts[1] == "MUN"
            and parts[3:] == [SUBSYSTEM_CODE, PACKET_SERVICE_CODE]
        ):
            mesh.register_provider(service.xroad_id, _provider(parts[2]))
            served += 1
    return served
