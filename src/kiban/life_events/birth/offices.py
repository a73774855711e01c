"""The municipal office's side of a birth on the mesh, and kiban's inbox service for guardians.

- ``JP/MUN/<lg_code>/juki/birth-certificate``: the office receives a hospital's 出生証明書 for
  a mother it knows (by its own agency code; the gateway converts the hospital's), and the
  receiver set by the birth life event opens the mother's 出生届, prefilled from it. The
  hospital is granted the service under 戸籍法第49条 when the office first needs it.
- ``JP/GOV/kiban/inbox/guardian-notice``: an agency that learns of a birth through its
  subscription (the health insurer) tells the child's guardians through it, naming the child
  by its own code; the birth life event puts the notice in the inbox of the parent who filed
  the 出生届. Granted to the insurer under 健康保険法第3条第7項 (被扶養者).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.kernel.errors import KibanError
from kiban.life_events.moving import offices as moving_offices

CERTIFICATE_SERVICE_CODE: Final = "birth-certificate"
CERTIFICATE_ITEMS: Final = (
    "certificate_number",
    "born_at",
    "birth_place",
    "weight_grams",
    "sex",
    "hospital",
)
CERTIFICATE_TASK: Final = "出生証明書情報の送付 (出生届への添付)"
CERTIFICATE_BASIS: Final = "戸籍法第49条第3項 (出生証明書の添付)"
INBOX_MEMBER: Final = "JP/GOV/kiban"
INBOX_SUBSYSTEM_CODE: Final = "inbox"
INBOX_SUBSYSTEM: Final = f"{INBOX_MEMBER}/{INBOX_SUBSYSTEM_CODE}"
GUARDIAN_SERVICE_CODE: Final = "guardian-notice"
GUARDIAN_SERVICE: Final = f"{INBOX_SUBSYSTEM}/{GUARDIAN_SERVICE_CODE}"
GUARDIAN_ITEMS: Final = ("insurer", "insurer_number", "symbol", "number", "eligible_from")
INSURER_SUBSYSTEM: Final = "JP/GOV/KYOKAIKENPO/insurer"
GUARDIAN_TASK: Final = "出生した被扶養者の資格取得の通知"
GUARDIAN_BASIS: Final = "健康保険法第3条第7項 (被扶養者)"


def _openapi(title: str, summary: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": {
            "/": {
                "post": {
                    "summary": summary,
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {
                        "200": {"description": "Received; the receipt"},
                        "404": {"description": "The person is unknown here"},
                        "409": {"description": "Not taken (see the error code)"},
                    },
                }
            }
        },
    }


@dataclass(frozen=True)
class Message:
    """A message as the receiving side sees it: the receiver's own code for the person, the
    sender, the mesh message and its items."""

    receiver: str
    client: str
    agency_code: str
    message_id: str
    data: Mapping[str, Any]


Receiver = Callable[[Session, Message], Mapping[str, Any]]
_receivers: dict[str, Receiver] = {}


def set_receivers(certificate: Receiver, guardian: Receiver) -> None:
    """What the office does with a certificate and the inbox with a guardian notice."""
    _receivers["certificate"] = certificate
    _receivers["guardian"] = guardian


def _provider(kind: str, receiver: str) -> mesh.ProviderFn:
    def answer(request: mesh.ProviderRequest) -> Any:
        handler = _receivers.get(kind)
        if handler is None:
            return 503, {"error": "birth.receiver_missing"}
        body = request.body if isinstance(request.body, dict) else {}
        message = Message(
            receiver=receiver,
            client=request.client,
            agency_code=request.agency_code,
            message_id=request.message_id,
            data=body,
        )
        try:
            return dict(handler(mesh.provider_session(), message))
        except KibanError as error:
            return error.status, {"error": error.code, "message": error.message_en}

    return answer


def certificate_service(lg_code: str) -> str:
    """``JP/MUN/<lg_code>/juki/birth-certificate``."""
    return f"{moving_offices.office_subsystem(lg_code)}/{CERTIFICATE_SERVICE_CODE}"


def ensure_certificate_route(session: Session, lg_code: str, hospital: str, *, actor: str) -> str:
    """The office on the mesh with its certificate service (served in this process) and the
    hospital's subsystem granted it, once. Returns the service id."""
    subsystem = moving_offices.ensure_office(session, lg_code, actor=actor)
    service = certificate_service(lg_code)
    provider = _provider("certificate", subsystem)
    if not any(s.xroad_id == service for s in mesh.list_services(session, provider=subsystem)):
        mesh.register_service(
            session,
            subsystem,
            CERTIFICATE_SERVICE_CODE,
            openapi=_openapi("出生証明書情報の受信", "Receive a hospital's birth certificate"),
            items=list(CERTIFICATE_ITEMS),
            provider=provider,
            actor=actor,
        )
        mesh.enable_service(session, service, actor=actor)
    else:
        mesh.register_provider(service, provider)
    if not mesh.list_grants(session, client=hospital, service=service):
        mesh.grant(
            session,
            client=hospital,
            service=service,
            task=CERTIFICATE_TASK,
            legal_basis=CERTIFICATE_BASIS,
            items=list(CERTIFICATE_ITEMS),
            actor=actor,
        )
    return service


def ensure_guardian_route(session: Session, *, actor: str) -> str:
    """kiban's inbox service for guardians on the mesh, granted to the insurer, once."""
    if not any(s.xroad_id == INBOX_SUBSYSTEM for s in mesh.list_subsystems(session)):
        if not any(m.xroad_id == INBOX_MEMBER for m in mesh.list_members(session)):
            mesh.register_member(
                session, member_class="GOV", member_code="kiban", name="きばん", actor=actor
            )
        mesh.register_subsystem(session, INBOX_MEMBER, INBOX_SUBSYSTEM_CODE, actor=actor)
    provider = _provider("guardian", INBOX_SUBSYSTEM)
    if not any(s.xroad_id == GUARDIAN_SERVICE for s in mesh.list_services(session)):
        mesh.register_service(
            session,
            INBOX_SUBSYSTEM,
            GUARDIAN_SERVICE_CODE,
            openapi=_openapi("保護者への通知", "A notice to a child's guardians"),
            items=list(GUARDIAN_ITEMS),
            provider=provider,
            actor=actor,
        )
        mesh.enable_service(session, GUARDIAN_SERVICE, actor=actor)
    else:
        mesh.register_provider(GUARDIAN_SERVICE, provider)
    if any(s.xroad_id == INSURER_SUBSYSTEM for s in mesh.list_subsystems(session)) and not (
        mesh.list_grants(session, client=INSURER_SUBSYSTEM, service=GUARDIAN_SERVICE)
    ):
        mesh.grant(
            session,
            client=INSURER_SUBSYSTEM,
            service=GUARDIAN_SERVICE,
            task=GUARDIAN_TASK,
            legal_basis=GUARDIAN_BASIS,
            items=list(GUARDIAN_ITEMS),
            actor=actor,
        )
    return GUARDIAN_SERVICE


def install(session: Session) -> int:
    """Serve the birth services already registered (per process); how many."""
    served = 0
    for service in mesh.list_services(session):
        parts = service.xroad_id.split("/")
        if len(parts) == 5 and parts[1] == "MUN" and parts[4] == CERTIFICATE_SERVICE_CODE:
            mesh.register_provider(service.xroad_id, _provider("certificate", "/".join(parts[:4])))
            served += 1
        elif service.xroad_id == GUARDIAN_SERVICE:
            mesh.register_provider(service.xroad_id, _provider("guardian", INBOX_SUBSYSTEM))
            served += 1
    return served


def serve_guardian_notice() -> None:
    """Serve kiban's guardian-notice service in this process (no database needed)."""
    mesh.register_provider(GUARDIAN_SERVICE, _provider("guardian", INBOX_SUBSYSTEM))
