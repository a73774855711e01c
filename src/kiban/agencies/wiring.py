"""The reference agencies joined to the mesh: members, services, grants, subscriptions.

:func:`register_reference_agencies` (idempotent) registers each agency as a mesh member with one
subsystem, its data services (served in this process) and the grants between them, and
subscribes the agencies to the resident register's moves — the companies too, but the mesh tells
a company of a move only when the person has consented (see
:mod:`kiban.blocks.mesh.subscribers`), and the company's fetch of the new address is checked
against that consent by the gateway. :func:`install` does the
per-process part only (providers and delivery handlers), for a process that finds the rows
already there. :func:`enrol_through_mesh` is what a new person's enrolment looks like: each
agency gets its code from the mesh and asks the register's basic-four service for the facts it
keeps, so every enrolment leaves access records the person can read.
:func:`consent_to_address_updates` is a customer's consent that a company keep their address up
to date; :func:`consent_demo_customers` gives some of the seeded customers one.

The agencies talk to kiban only through the mesh facade: they never see the person id (the
seed hands it to the mesh, which turns it into each agency's code) or the individual number.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies import bank as bank_module
from kiban.agencies import hospital, physician
from kiban.agencies.agency import (
    Agency,
    DataService,
    Enrolment,
    change_address,
    enrol,
    enrol_many,
    get_record,
    provide,
)
from kiban.agencies.registry import AGENCIES
from kiban.blocks import mesh, payments, procedures
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit

__all__ = [
    "ACTOR",
    "ADDRESS_CONSENT_PURPOSE",
    "ADDRESS_EVENTS",
    "DEMO_ACCOUNT_SHARE",
    "DEMO_CONSENT_SHARE",
    "GRANTS",
    "SUBSCRIBERS",
    "AccountHolder",
    "Customer",
    "Grant",
    "consent_demo_customers",
    "consent_to_address_updates",
    "enrol_customers",
    "enrol_through_mesh",
    "install",
    "register_demo_accounts",
    "register_reference_agencies",
]

log = logging.getLogger(__name__)

ACTOR: Final = "system:agencies"
ADDRESS_EVENTS: Final = ("resident.address_changed", "resident.moved_in")
DIED: Final = "resident.died"
BORN: Final = "resident.registered"
"""The register's registration event; the mesh delivers it for births only."""
# The companies subscribe like the government agencies, but the mesh delivers a move to a
# company only when the person has consented to it, and the company's fetch of the new address
# is checked against that consent by the gateway.
SUBSCRIBERS: Final = ("pension", "tax", "insurer", "licence", "bank", "electricity")
ENROL_ITEMS: Final = ["birth_date", "address"]
COMPANY_TASK: Final = "顧客の登録住所の更新"
COMPANY_BASIS: Final = "本人の同意 (consent of the person)"
ADDRESS_CONSENT_PURPOSE: Final = (
    "address_update",
    "登録住所を最新に保つため / To keep the address on file up to date",
)
DEMO_CONSENT_SHARE: Final = {"bank": 0.5, "electricity": 0.25}
"""The share of a seeded company's customers that consent to address updates."""


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
    kind = {DIED: "died", BORN: "born"}.get(event_type or "", "address")
    return f"agencies.{agency.name}.{kind}"


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


def _birth_consumer(agency: Agency) -> mesh.DeliveryHandler:
    def consume(session: Session, message: mesh.DeliveryMessage) -> None:
        if agency.on_birth is not None:
            agency.on_birth(session, message.agency_code)

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
        if agency.on_birth is not None:
            mesh.register_delivery_handler(_handler_name(agency, BORN), _birth_consumer(agency))


def _subscribe(session: Session, agency: Agency, event_type: str, *, actor: str) -> None:
    handler = _handler_name(agency, event_type)
    try:
        mesh.subscribe(session, agency.subsystem, event_type, handler=handler, actor=actor)
    except KibanError as error:
        # Subscribing checks for an existing subscription before it writes anything.
        if error.code != "mesh.subscription_exists":
            raise


def _grant_register(
    session: Session,
    agency: Agency,
    register: str,
    grants: set[tuple[str, str]],
    *,
    actor: str,
) -> None:
    """The agency's grant to the register's basic-four service, by kind, once."""
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
    if agency.member_class == "COM" and (agency.subsystem, register) not in grants:
        # Deny by default holds for companies too: the grant says what a company may ever
        # ask the register for, and each request also needs the person's consent.
        mesh.grant(
            session,
            client=agency.subsystem,
            service=register,
            task=COMPANY_TASK,
            legal_basis=COMPANY_BASIS,
            items=["address"],
            actor=actor,
        )
    if agency.member_class == "MED" and (agency.subsystem, register) not in grants:
        # The maternity hospital asks only where the mother lives (where its 出生証明書 goes).
        mesh.grant(
            session,
            client=agency.subsystem,
            service=register,
            task=hospital.REGISTER_TASK,
            legal_basis=hospital.REGISTER_BASIS,
            items=list(hospital.REGISTER_ITEMS),
            actor=actor,
        )


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
        _grant_register(session, agency, register, grants, actor=actor)
        if agency.name in SUBSCRIBERS:
            for event_type in ADDRESS_EVENTS:
                _subscribe(session, agency, event_type, actor=actor)
            if agency.on_death is not None:
                _subscribe(session, agency, DIED, actor=actor)
            if agency.on_birth is not None:
                _subscribe(session, agency, BORN, actor=actor)
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
    # The payments block verifies receiving accounts with the bank's account-check service.
    payments.register_payments_member(session, actor=actor)
    # The physician's office serves the municipalities' procedures (the 死亡届's prefill).
    physician.register_physician(
        session, client=procedures.register_procedures_member(session, actor=actor), actor=actor
    )
    install()


ENROL_BATCH: Final = 1000
"""People per batch exchange when agencies enrol a country (the mesh's largest batch)."""


def _enrol_batch(
    session: Session, agency: Agency, person_ids: Sequence[uuid.UUID], *, seed: int
) -> int:
    """Enrol people with one agency through one batch exchange with the register's basic-four
    service; how many it enrolled. A person the register refuses is left out and logged."""
    agency_codes = mesh.agency_codes(session, agency.subsystem, person_ids)
    reply = mesh.call_batch(
        session,
        client=agency.subsystem,
        service=mesh.BASIC_FOUR_SERVICE,
        subjects=[mesh.BatchSubject(code) for code in agency_codes],
        items=ENROL_ITEMS,
    )
    if not reply.ok:
        log.warning("enrolment refused for %s: %s", agency.name, reply.error or reply.status)
        return 0
    enrolments: list[Enrolment] = []
    for answer in reply.answers:
        facts = answer.body
        if not answer.ok or not isinstance(facts, dict):
            log.warning("enrolment refused for %s: %s", agency.name, answer.error or answer.status)
            continue
        birth_date = date.fromisoformat(facts["birth_date"])
        enrolments.append(Enrolment(answer.code, birth_date, str(facts["address"])))
    return enrol_many(session, agency, enrolments, seed=seed)


def enrol_through_mesh(
    session: Session,
    person_ids: Sequence[uuid.UUID],
    *,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Enrol people with every government agency through the mesh; how many each enrolled.

    The mesh gives each agency its code for the person; the agency asks the register's
    basic-four service for the birth date and address (recorded on both sides, per person) and
    makes its synthetic record. The questions go in batch exchanges of :data:`ENROL_BATCH`
    people. Companies are not enrolled this way: they would need the person's consent.
    """
    made = dict.fromkeys(AGENCIES, 0)
    government = [a for a in AGENCIES.values() if a.member_class == "GOV"]
    total = len(person_ids)
    for start in range(0, total, ENROL_BATCH):
        chunk = person_ids[start : start + ENROL_BATCH]
        for agency in government:
            try:
                made[agency.name] += _enrol_batch(session, agency, chunk, seed=seed)
            except KibanError as error:
                log.warning("enrolment failed for %s: %s", agency.name, error.code)
        if progress is not None:
            progress(start + len(chunk), total)
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


def consent_to_address_updates(
    session: Session,
    person_id: uuid.UUID,
    company: str,
    *,
    actor: str,
    days: int = 365,
) -> mesh.ConsentRead:
    """The person's consent that a company (``bank`` or ``electricity``) be told when their
    address changes and fetch the new one: periodic (at most four fetches a month), for
    ``days`` days, the data kept for as long as the consent runs."""
    agency = AGENCIES[company]
    today = clock.today_jst()
    code, text = ADDRESS_CONSENT_PURPOSE
    return mesh.grant_consent(
        session,
        person_id=person_id,
        company=agency.subsystem,
        purpose_code=code,
        purpose_text=text,
        items=["address"],
        valid_from=today,
        valid_until=today + timedelta(days=days),
        fetch_type="periodic",
        frequency={"unit": "month", "value": 4},
        data_life_days=days,
        actor=actor,
    )


def consent_demo_customers(
    session: Session,
    person_ids: Iterable[uuid.UUID],
    *,
    seed: int,
    always: Sequence[uuid.UUID] = (),
) -> dict[str, int]:
    """Let a share of each company's customers (:data:`DEMO_CONSENT_SHARE`) consent to address
    updates, chosen by ``seed``; the people in ``always`` (the demo card holders) consent to the
    bank, and every other one of them to the electricity company too. Only customers a company
    knows are asked. Returns how many consents each company got."""
    made = dict.fromkeys(DEMO_CONSENT_SHARE, 0)
    favourites = {person: n for n, person in enumerate(always)}
    for person_id in person_ids:
        rng = random.Random(f"{seed}:consent:{person_id}")  # noqa: S311 - synthetic data.
        for company, share in DEMO_CONSENT_SHARE.items():
            agency = AGENCIES[company]
            code = mesh.agency_code(session, agency.subsystem, person_id)
            if get_record(session, agency, code) is None:
                continue
            n = favourites.get(person_id)
            chosen = rng.random() < share
            if n is not None:
                chosen = company == "bank" or n % 2 == 0
            if chosen:
                consent_to_address_updates(
                    session, person_id, company, actor=audit.person_actor(person_id)
                )
                made[company] += 1
    return made


DEMO_ACCOUNT_SHARE: Final = 0.85
"""The share of the demo's residents who register a bank account as their public-fund
receiving account (公金受取口座): the share the national run's bench assumes too."""
DEMO_BANKS: Final = ("0001", "0005", "0009", "0010", "0017", "9900")
"""Banks (Zengin codes) the seeded customers' accounts are spread over, when loaded."""


@dataclass(frozen=True)
class AccountHolder:
    """A resident as the seed knows them: person id, the name in kana and the address (what
    the bank takes from an account opening form)."""

    person_id: uuid.UUID
    name_kana: str
    address: str = ""


def register_demo_accounts(session: Session, holders: Iterable[AccountHolder], *, seed: int) -> int:
    """Give a share (:data:`DEMO_ACCOUNT_SHARE`) of ``holders``, chosen by ``seed``, an account
    at a real Zengin bank and branch in their own name (the bank's customers keep their account
    number; the others open one, a child's by their parents), and register it as their receiving
    account: each registration is verified by the bank through the mesh, as a person's own would
    be. Needs the Zengin list loaded (``kiban payments load-banks``). Returns how many are
    active."""
    bank_agency = AGENCIES["bank"]
    branches = [
        (branch.bank_code, branch.code)
        for code in DEMO_BANKS
        for branch in payments.list_branches(session, code)[:20]
    ]
    if not branches:
        return 0
    made = 0
    for holder in holders:
        rng = random.Random(f"{seed}:account:{holder.person_id}")  # noqa: S311 - synthetic.
        code = mesh.agency_code(session, bank_agency.subsystem, holder.person_id)
        if rng.random() >= DEMO_ACCOUNT_SHARE:
            continue
        try:
            name = payments.to_zengin(holder.name_kana)
        except KibanError:
            continue
        bank_code, branch_code = rng.choice(branches)
        row = get_record(session, bank_agency, code)
        number = getattr(row, "account_number", None) or f"{rng.randint(0, 9_999_999):07d}"
        opened = bank_module.open_account(
            session,
            code,
            bank_code=bank_code,
            branch_code=branch_code,
            account_number=str(number),
            holder_kana=name,
            address=holder.address,
        )
        account = payments.do_register_account(
            session,
            holder.person_id,
            payments.AccountCreate(
                bank_code=opened.bank_code,
                branch_code=opened.branch_code,
                account_number=opened.account_number,
                holder_kana=name,
            ),
            actor=audit.person_actor(holder.person_id),
        )
        made += account.status == "active"
    return made
