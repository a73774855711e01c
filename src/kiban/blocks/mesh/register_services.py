"""The resident register as a data provider of the mesh: its basic-four service.

``JP/GOV/kiban/residents/basic-four`` answers with a person's 基本4情報 (name, address, birth
date, sex) and where they stand in the register, for the person the requester knows by its own
agency code — the gateway has already converted that code into the register's. It is how an
agency enrols a person and how it learns a new address after a delivery tells it that someone
moved: the delivery carries only the agency code, the data comes through a granted, recorded
exchange. The individual number is not an item of this service and never leaves the register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.mesh import codes, gateway, service, subscribers

REGISTER: Final = subscribers.PUBLISHER
BASIC_FOUR_SERVICE: Final = f"{REGISTER}/basic-four"
BASIC_FOUR_ITEMS: Final = ("name", "name_kana", "birth_date", "sex", "address", "lg_code", "status")
LEGAL_BASIS: Final = "住民基本台帳法第30条の9 (本人確認情報の提供)"
# The household (世帯) of the person: the other members, each named by the requester's own
# agency code for them, so a municipal procedure can offer "who moves with you" without typing.
HOUSEHOLD_SERVICE: Final = f"{REGISTER}/household"
HOUSEHOLD_ITEMS: Final = ("members",)
# What the household service discloses about each member besides the requester's code for them;
# each member is declared a subject of the answer with these items, so the exchange is in their
# own access records too.
HOUSEHOLD_MEMBER_ITEMS: Final = ("name", "name_kana", "birth_date", "sex", "relationship")
HOUSEHOLD_LEGAL_BASIS: Final = "住民基本台帳法第12条 (世帯の住民票の記載事項)"
_OPENAPI: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {"title": "基本4情報 (basic four)", "version": "1"},
    "paths": {
        "/": {
            "post": {
                "summary": "The basic four of the person the requester's agency code names",
                "responses": {"200": {"description": "The requested items"}},
            }
        }
    },
}


def _answer(request: gateway.ProviderRequest) -> Any:
    session = gateway.provider_session()
    person_id = codes.person_for(session, REGISTER, request.agency_code)
    if person_id is None:
        return 404, {"error": "residents.person_not_found"}
    return _basic_four(_facts(residents.get_person(session, person_id)), request.items)


def _answer_many(requests: Sequence[gateway.ProviderRequest]) -> list[Any]:
    """The basic four for a batch: the codes and the people read in a few queries, each answer
    the same as :func:`_answer` gives for its request alone."""
    session = gateway.provider_session()
    people_of = codes.people_for(session, REGISTER, [r.agency_code for r in requests])
    people = residents.get_basic_four(session, list(set(people_of.values())))
    answers: list[Any] = []
    for request in requests:
        person_id = people_of.get(request.agency_code)
        person = None if person_id is None else people.get(person_id)
        if person is None:
            answers.append((404, {"error": "residents.person_not_found"}))
        else:
            answers.append(_basic_four(person, request.items))
    return answers


def _facts(person: residents.PersonRead) -> residents.BasicFourRead:
    return residents.BasicFourRead(
        id=person.id,
        name=person.full_name,
        name_kana=f"{person.family_name_kana}\u3000{person.given_name_kana}",
        birth_date=person.birth_date,
        sex=person.sex,
        status=person.status,
        lg_code=person.address.lg_code,
        address=person.address.text,
    )


def _basic_four(person: residents.BasicFourRead, items: Sequence[str]) -> dict[str, Any]:
    full: dict[str, Any] = {
        "name": person.name,
        "name_kana": person.name_kana,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex.value,
        "address": person.address,
        "lg_code": person.lg_code,
        "status": person.status.value,
    }
    return {item: full[item] for item in items if item in full}


def _answer_household(request: gateway.ProviderRequest) -> Any:
    session = gateway.provider_session()
    person_id = codes.person_for(session, REGISTER, request.agency_code)
    if person_id is None:
        return 404, {"error": "residents.person_not_found"}
    if "members" not in request.items:
        return {}
    person = residents.get_person(session, person_id)
    others = [
        member
        for member in residents.get_household(session, person.household_id)
        if member.id != person.id
    ]
    members = [
        {
            # The requester's own code for each member: no register key leaves the register.
            "code": codes.agency_code(session, request.client, member.id),
            "name": member.full_name,
            "name_kana": f"{member.family_name_kana}\u3000{member.given_name_kana}",
            "birth_date": member.birth_date.isoformat(),
            "sex": member.sex.value,
            "relationship": member.relationship,
        }
        for member in others
    ]
    # Every member whose data leaves the register is a subject of the answer, by the register's
    # own code for them: the gateway records the exchange for each of them too.
    subjects = [
        gateway.Subject(codes.agency_code(session, REGISTER, member.id), HOUSEHOLD_MEMBER_ITEMS)
        for member in others
    ]
    return gateway.ProviderResult({"members": members}, subjects=subjects)


_HOUSEHOLD_OPENAPI: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {"title": "世帯 (household)", "version": "1"},
    "paths": {
        "/": {
            "post": {
                "summary": "The other members of the household of the person the code names",
                "responses": {"200": {"description": "members: code, name, birth date, sex"}},
            }
        }
    },
}


def install_register_services() -> None:
    """Serve the register's services in this process (provider registration is per process)."""
    gateway.register_provider(BASIC_FOUR_SERVICE, _answer, many=_answer_many)
    gateway.register_provider(HOUSEHOLD_SERVICE, _answer_household)


def register_register_services(session: Session, *, actor: str) -> str:
    """Register and enable the basic-four service once (idempotent) and serve it here."""
    if service.find_subsystem(session, REGISTER) is None:
        member = service.member_of(REGISTER)
        if not any(m.xroad_id == member for m in service.list_members(session)):
            service.do_register_member(
                session, member_class="GOV", member_code="kiban", name="住民基本台帳", actor=actor
            )
        service.do_register_subsystem(session, member, REGISTER.rsplit("/", 1)[1], actor=actor)
    if service.find_service(session, BASIC_FOUR_SERVICE) is None:
        service.do_register_service(
            session,
            REGISTER,
            BASIC_FOUR_SERVICE.rsplit("/", 1)[1],
            openapi=_OPENAPI,
            items=list(BASIC_FOUR_ITEMS),
            endpoint_url=None,
            actor=actor,
        )
    service.do_set_service_enabled(session, BASIC_FOUR_SERVICE, enabled=True, actor=actor)
    if service.find_service(session, HOUSEHOLD_SERVICE) is None:
        service.do_register_service(
            session,
            REGISTER,
            HOUSEHOLD_SERVICE.rsplit("/", 1)[1],
            openapi=_HOUSEHOLD_OPENAPI,
            items=list(HOUSEHOLD_ITEMS),
            endpoint_url=None,
            actor=actor,
        )
        service.do_set_service_enabled(session, HOUSEHOLD_SERVICE, enabled=True, actor=actor)
    install_register_services()
    return BASIC_FOUR_SERVICE
