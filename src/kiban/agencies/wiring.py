"""The reference agencies joined to the mesh: members, services, grants, subscriptions.

:func:`register_reference_agencies` (idempotent) registers each agency as a mesh member with one
subsystem, its data services (served in this process) and the grants between them, and
subscribes the government agencies to the resident register's moves. :func:`install` does the
per-process part only (providers and delivery handlers), for a process that finds the rows
already there. :func:`enrol_through_mesh` is what a new person's enrolment looks like: each
agency gets its code from the mesh and asks the register's basic-four service for the facts it
keeps, so every enrolment leaves access records the person can read.

The agencies talk to kiban only through the mesh facade: they never see the person id (the
seed hands it to the mesh, which turns it into each agency's code) or the individual number.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, DataService, Enrolment, change_address, enrol, provide
from kiban.agencies.registry import AGENCIES
from kiban.blocks import mesh
from kiban.kernel.errors import KibanError

__all__ = [
    "ACTOR",
    "ADDRESS_EVENTS",
    "GRANTS",
    "SUBSCRIBERS",
    "Customer",
    "Grant",
    "enrol_customers",
    "enrol_through_mesh",
    "install",
    "register_reference_agencies",
]

log = logging.getLogger(__name__)

ACTOR: Final = "system:agencies"
ADDRESS_EVENTS: Final = ("resident.address_changed", "resident.moved_in")
DIED: Final = "resident.died"
# Companies learn of moves only with the person's consent, so only government agencies
# subscribe here; a company's subscription belongs with a consent flow.
SUBSCRIBERS: Final = ("pension", "tax", "insurer", "licence")
ENROL_ITEMS: Final = ["birth_date", "address"]


@dataclass(frozen=True)
class Grant:
    """A grant between reference agencies: who asks, which service, for what, under which law."""

    client: str
    provider: str
    service: str
    task: str
    legal_basis: str
    items: tuple[str, ...]


GRANTS: Final = (
    Grant(
        "pension",
        "tax",
        "income",
        "国民年金保険料の免除審査",
        "国民年金法第90条",
        ("year", "total_income_yen", "dependants_deduction_yen"),
    ),
    Grant(
        "insurer",
        "tax",
        "income",
        "高額療養費の所得区分の判定",
        "健康保険法第115条",
        ("year", "total_income_yen", "taxable_income_yen"),
    ),
    Grant(
        "tax",
        "pension",
        "pension-record",
        "公的年金等の源泉徴収",
        "所得税法第203条の2",
        ("pension_number", "expected_annual_benefit_yen"),
    ),
    Grant(
        "insurer",
        "pension",
        "pension-record",
        "被扶養者の認定",
        "健康保険法第3条第7項",
        ("category",),
    ),
)


def _openapi(agency: Agency, service: DataService) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{agency.title}: {service.summary}", "version": "1"},
        "paths": {
            "/": {
                "post": {
                    "summary": service.summary,
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {
                        "200": {
                            "description": f"The requested items of: {', '.join(service.items)}"
                        },
                        "404": {"description": "The agency does not know the person"},
                    },
                }
            }
        },
    }


def _provider(agency: Agency, service: DataService) -> mesh.ProviderFn:
    def answer(request: mesh.ProviderRequest) -> Any:
        params = request.body if isinstance(request.body, dict) else {}
        return provide(
            mesh.provider_session(),
            agency,
            service.code,
            request.agency_code,
            request.items,
            params=params,
        )

    return answer


def _handler_name(agency: Agency, event_type: str | None = None) -> str:
    return f"agencies.{agency.name}.{'died' if event_type == DIED else 'address'}"


def _address_consumer(agency: Agency) -> mesh.DeliveryHandler:
    def consume(session: Session, message: mesh.DeliveryMessage) -> None:
        # The delivery names only the agency's code; the new address comes from the register's
        # basic-four service, through a granted and recorded exchange.
        reply = mesh.call(
            session,
            client=agency.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            agency_code=message.agency_code,
            items=["address"],
        )
        reply.raise_for_error()
        if reply.ok and isinstance(reply.body, dict) and "address" in reply.body:
            change_address(session, agency, message.agency_code, str(reply.body["address"]))

    return consume


def _death_consumer(agency: Agency) -> mesh.DeliveryHandler:
    def consume(session: Session, message: mesh.DeliveryMessage) -> None:
        if agency.on_death is not None:
            agency.on_death(session, message.agency_code)

    return consume


def install() -> None:
    """Serve the agencies' services and consume their deliveries in this process."""
    mesh.install_register_services()
    for agency in AGENCIES.values():
        for service in agency.services:
            mesh.register_provider(f"{agency.subsystem}/{service.code}", _provider(agency, service))
        mesh.register_delivery_handler(_handler_name(agency), _address_consumer(agency))
        if agency.on_death is not None:
            mesh.register_delivery_handler(_handler_name(agency, DIED), _death_consumer(agency))


def _subscribe(session: Session, agency: Agency, event_type: str, *, actor: str) -> None:
    handler = _handler_name(agency, event_type)
    try:
        mesh.subscribe(session, agency.subsystem, event_type, handler=handler, actor=actor)
    except KibanError as error:
        # Subscribing checks for an existing subscription before it writes anything.
        if error.code != "mesh.subscription_exists":
            raise


def register_reference_agencies(session: Session, *, actor: str = ACTOR) -> None:
    """Register the six agencies with the mesh, once; later calls only :func:`install`."""
    register = mesh.register_register_services(session, actor=actor)
    members = {m.xroad_id for m in mesh.list_members(session)}
    subsystems = {s.xroad_id for s in mesh.list_subsystems(session)}
    services = {s.xroad_id for s in mesh.list_services(session)}
    grants = {(g.client, g.service) for g in mesh.list_grants(session)}
    for agency in AGENCIES.values():
        if agency.member not in members:
            mesh.register_member(
                session,
                member_class=agency.member_class,
                member_code=agency.member_code,
                name=agency.title,
                actor=actor,
            )
        if agency.subsystem not in subsystems:
            mesh.register_subsystem(session, agency.member, agency.subsystem_code, actor=actor)
        for service in agency.services:
            service_id = f"{agency.subsystem}/{service.code}"
            if service_id not in services:
                mesh.register_service(
                    session,
                    agency.subsystem,
                    service.code,
                    openapi=_openapi(agency, service),
                    items=list(service.items),
                    provider=_provider(agency, service),
                    actor=actor,
                )
                mesh.enable_service(session, service_id, actor=actor)
        if agency.member_class == "GOV" and (agency.subsystem, register) not in grants:
            mesh.grant(
                session,
                client=agency.subsystem,
                service=register,
                task=f"{agency.title}の事務に係る本人確認",
                legal_basis=mesh.BASIC_FOUR_LEGAL_BASIS,
                items=["birth_date", "address"],
                actor=actor,
            )
        if agency.name in SUBSCRIBERS:
            for event_type in ADDRESS_EVENTS:
                _subscribe(session, agency, event_type, actor=actor)
            if agency.on_death is not None:
                _subscribe(session, agency, DIED, actor=actor)
    for grant in GRANTS:
        client = AGENCIES[grant.client].subsystem
        service_id = f"{AGENCIES[grant.provider].subsystem}/{grant.service}"
        if (client, service_id) not in grants:
            mesh.grant(
                session,
                client=client,
                service=service_id,
                task=grant.task,
                legal_basis=grant.legal_basis,
                items=list(grant.items),
                actor=actor,
            )
    install()


def _enrol_by_register(session: Session, agency: Agency, code: str, *, seed: int) -> bool:
    reply = mesh.call(
        session,
        client=agency.subsystem,
        service=mesh.BASIC_FOUR_SERVICE,
        agency_code=code,
        items=ENROL_ITEMS,
    )
    if not reply.ok or not isinstance(reply.body, dict):
        log.warning("enrolment refused for %s: %s", agency.name, reply.error or reply.status)
        return False
    facts = reply.body
    enrolment = Enrolment(code, date.fromisoformat(facts["birth_date"]), str(facts["address"]))
    return enrol(session, agency, [enrolment], seed=seed) > 0


def enrol_through_mesh(
    session: Session,
    person_ids: Sequence[uuid.UUID],
    *,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Enrol people with every government agency through the mesh; how many each enrolled.

    The mesh gives each agency its code for the person; the agency asks the register's
    basic-four service for the birth date and address (recorded on both sides) and makes its
    synthetic record. Companies are not enrolled this way: they would need the person's consent.
    """
    made = dict.fromkeys(AGENCIES, 0)
    government = [a for a in AGENCIES.values() if a.member_class == "GOV"]
    for done, person_id in enumerate(person_ids, start=1):
        if progress is not None:
            progress(done, len(person_ids))
        for agency in government:
            code = mesh.agency_code(session, agency.subsystem, person_id)
            try:
                made[agency.name] += _enrol_by_register(session, agency, code, seed=seed)
            except KibanError as error:
                log.warning("enrolment failed for %s: %s", agency.name, error.code)
    return made


@dataclass(frozen=True)
class Customer:
    """What a customer writes on a company's application form, with the mesh's code for them."""

    person_id: uuid.UUID
    birth_date: date
    address: str


def enrol_customers(
    session: Session, customers: Iterable[Customer], *, seed: int
) -> dict[str, int]:
    """Open the companies' records (bank, electricity) from the customers' own forms.

    The mesh only gives each company its code for the customer; the facts come from the
    customer, because a company may ask the register only with the person's consent.
    """
    companies = [a for a in AGENCIES.values() if a.member_class == "COM"]
    made = dict.fromkeys((a.name for a in companies), 0)
    for customer in customers:
        for agency in companies:
            code = mesh.agency_code(session, agency.subsystem, customer.person_id)
            made[agency.name] += enrol(
                session, agency, [Enrolment(code, customer.birth_date, customer.address)], seed=seed
            )
    return made
