"""A reference physician's office (医療機関): the death certificates (死亡診断書) it makes.

When a patient dies, the physician certifies the death: the date and time, the kind of place
and the place, the cause category (病死及び自然死, 外因死, 不詳の死) and the physician's name,
kept in the office's own table keyed by the agency code the mesh gives it for the deceased —
never kiban's person id or the individual number. The office serves them as the data service
``death-certificate``; the deceased's municipality fetches them through the mesh when a relative
files the 死亡届 (granted under 戸籍法第86条: the 死亡届 comes with the 死亡診断書), so the form
is prefilled from the physician's data and the exchange is in the deceased's access records.

The office is a mesh member of class ``MED``; it is kept out of the six enrolling agencies of
:data:`kiban.agencies.AGENCIES` (it knows a person only once it certifies their death).
:func:`register_physician` joins it to the mesh (idempotent), :func:`install` serves its
service in this process and :func:`certify_death` is what a death at the clinic looks like.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.agencies.agency import (
    Agency,
    DataService,
    Enrolment,
    NewRow,
    get_record,
    require,
)
from kiban.agencies.models import PhysicianCertificate
from kiban.blocks import mesh
from kiban.kernel import clock
from kiban.kernel.errors import KibanError

__all__ = [
    "AGENCY",
    "CAUSES",
    "ITEMS",
    "LEGAL_BASIS",
    "PLACE_KINDS",
    "SERVICE",
    "certify_death",
    "install",
    "register_physician",
]

ACTOR: Final = "system:agencies"
ITEMS: Final = ("died_at", "place_kind", "place", "cause_category", "physician", "certified_on")
CAUSES: Final = ("illness", "external", "unknown")
PLACE_KINDS: Final = ("hospital", "clinic", "elderly_home", "home", "other")
LEGAL_BASIS: Final = "戸籍法第86条第2項 (死亡診断書の添付)"
TASK: Final = "死亡届の受理 (死亡診断書の記載事項)"


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    # The office knows a person only from the certificate it writes (:func:`certify_death`).
    del session, rng, enrolment
    return []


def _certificate(session: Session, agency_code: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    row: PhysicianCertificate = require(session, AGENCY, agency_code)
    return {
        "died_at": row.died_at.isoformat(),
        "place_kind": row.place_kind,
        "place": row.place,
        "cause_category": row.cause_category,
        "physician": row.physician,
        "certified_on": row.certified_on.isoformat(),
    }


AGENCY: Final = Agency(
    name="physician",
    title="きばん診療所",
    member_class="MED",
    member_code="KIBAN-CLINIC",
    subsystem_code="clinic",
    model=PhysicianCertificate,
    make=_make,
    services=(
        DataService(
            code="death-certificate",
            items=ITEMS,
            answer=_certificate,
            summary="The death certificate of a patient (死亡診断書)",
        ),
    ),
)
SERVICE: Final = f"{AGENCY.subsystem}/death-certificate"

_OPENAPI: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {"title": "死亡診断書 (death certificate)", "version": "1"},
    "paths": {
        "/": {
            "post": {
                "summary": "The items of a death certificate",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "The requested items"},
                    "404": {"description": "The office certified no death of that person"},
                },
            }
        }
    },
}


def _provider(request: mesh.ProviderRequest) -> Any:
    answer = _certificate(mesh.provider_session(), request.agency_code, {})
    return {item: answer[item] for item in request.items if item in answer}


def _invalid(message_ja: str, message_en: str, field: str) -> KibanError:
    return KibanError(message_ja, message_en, field=field, code="kiban.invalid", status=422)


def install() -> None:
    """Serve the office's ``death-certificate`` service in this process."""
    mesh.register_provider(SERVICE, _provider)


def register_physician(session: Session, *, client: str, actor: str = ACTOR) -> str:
    """Join the office to the mesh and grant ``client`` (the municipalities' procedures
    subsystem) its certificates, once; the service id."""
    if not any(m.xroad_id == AGENCY.member for m in mesh.list_members(session)):
        mesh.register_member(
            session,
            member_class=AGENCY.member_class,
            member_code=AGENCY.member_code,
            name=AGENCY.title,
            actor=actor,
        )
    if not any(s.xroad_id == AGENCY.subsystem for s in mesh.list_subsystems(session)):
        mesh.register_subsystem(session, AGENCY.member, AGENCY.subsystem_code, actor=actor)
    if not any(s.xroad_id == SERVICE for s in mesh.list_services(session)):
        mesh.register_service(
            session,
            AGENCY.subsystem,
            "death-certificate",
            openapi=_OPENAPI,
            items=list(ITEMS),
            provider=_provider,
            actor=actor,
        )
        mesh.enable_service(session, SERVICE, actor=actor)
    if not any(g.client == client and g.service == SERVICE for g in mesh.list_grants(session)):
        mesh.grant(
            session,
            client=client,
            service=SERVICE,
            task=TASK,
            legal_basis=LEGAL_BASIS,
            items=list(ITEMS),
            actor=actor,
        )
    install()
    return SERVICE


def certify_death(
    session: Session,
    person_id: uuid.UUID,
    *,
    died_at: datetime,
    place_kind: str,
    place: str,
    cause: str,
    physician: str,
    address: str,
) -> str:
    """The office certifies a patient's death; its agency code for them.

    The caller (the demo's CLI or seed, as the patient's chart would) hands the person id to
    the mesh, which turns it into the office's code; nothing here keeps the id. Certifying the
    same person again is ``kiban.invalid`` (field ``person``): a certificate is corrected by the
    office, not replaced.
    """
    if cause not in CAUSES:
        raise _invalid("死因の種類が不正です", "unknown cause category", "cause")
    if place_kind not in PLACE_KINDS:
        raise _invalid("死亡した場所の種別が不正です", "unknown kind of place", "place_kind")
    if died_at.tzinfo is None or died_at > clock.now():
        raise _invalid("死亡日時が不正です", "the time of death is in the future", "died_at")
    code = mesh.agency_code(session, AGENCY.subsystem, person_id)
    if get_record(session, AGENCY, code) is not None:
        raise _invalid("死亡診断書は作成済みです", "the death is already certified", "person")
    session.add(
        PhysicianCertificate(
            agency_code=code,
            address=address,
            died_at=died_at,
            place_kind=place_kind,
            place=place,
            cause_category=cause,
            physician=physician,
            certified_on=clock.now().date(),
        )
    )
    session.flush()
    return code
