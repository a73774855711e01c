"""産院 (a reference maternity hospital): the births it certifies and the 出生証明書 it sends.

When a child is born, the hospital keeps the certificate's facts (date and time, place, weight,
sex; the child has no name yet) with the mother by its own agency code, and sends them through
the mesh to the mother's municipal office (``JP/MUN/<lg_code>/juki/birth-certificate``), where
the parent's 出生届 is prefilled from them. The hospital learns the mother's municipality from
the register's basic-four service (a granted, recorded exchange), never from kiban's person id.
The municipal side (its service and the hospital's grant to it) belongs to the birth life event.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.agencies.agency import Agency, Enrolment, NewRow, get_record
from kiban.agencies.errors import UnknownPerson
from kiban.agencies.models import HospitalBirth, HospitalPatient
from kiban.blocks import mesh
from kiban.kernel import clock
from kiban.kernel.errors import KibanError

NAME: Final = "きばん産院"
PLACE: Final = "東京都千代田区丸の内一丁目1番1号 きばん産院"
CERTIFICATE_SERVICE: Final = "birth-certificate"
CERTIFICATE_ITEMS: Final = (
    "certificate_number",
    "born_at",
    "birth_place",
    "weight_grams",
    "sex",
    "hospital",
)
REGISTER_ITEMS: Final = ("address", "lg_code")
REGISTER_TASK: Final = "出生証明書の送付先（母の住所地の市区町村）の確認"
REGISTER_BASIS: Final = "戸籍法第49条 (出生の届出と出生証明書)"


def _make(session: Session, rng: random.Random, enrolment: Enrolment) -> Sequence[NewRow]:
    """The hospital makes no synthetic records: it knows only the mothers it admits."""
    del session, rng, enrolment
    return []


def certificate_service(lg_code: str) -> str:
    """The municipal office's service that receives a 出生証明書 (the offices' naming)."""
    return f"JP/MUN/{lg_code}/juki/{CERTIFICATE_SERVICE}"


class CertificateRefused(KibanError):
    """The municipal office did not take the certificate (the gateway's or office's refusal)."""

    code = "agencies.birth_certificate_refused"
    status = 502

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"出生証明書の送付が拒否されました: {reason}",
            f"The municipal office refused the birth certificate: {reason}",
            field="mother",
        )


def admit(session: Session, mother_code: str) -> HospitalPatient:
    """The mother's record, made the first time from the register's basic-four service."""
    row = get_record(session, AGENCY, mother_code)
    if isinstance(row, HospitalPatient):
        return row
    reply = mesh.call(
        session,
        client=AGENCY.subsystem,
        service=mesh.BASIC_FOUR_SERVICE,
        agency_code=mother_code,
        items=list(REGISTER_ITEMS),
    )
    if not reply.ok or not isinstance(reply.body, dict):
        raise UnknownPerson()
    patient = HospitalPatient(
        agency_code=mother_code,
        address=str(reply.body["address"]),
        lg_code=str(reply.body["lg_code"]),
    )
    session.add(patient)
    session.flush()
    return patient


def certificate_of(birth: HospitalBirth) -> dict[str, object]:
    """The 出生証明書 data the hospital sends (no name: the parents have not chosen it yet)."""
    return {
        "certificate_number": birth.certificate_number,
        "born_at": birth.born_at,
        "birth_place": birth.place,
        "weight_grams": birth.weight_grams,
        "sex": birth.sex,
        "hospital": NAME,
    }


def births_of(session: Session, mother_code: str) -> list[HospitalBirth]:
    """The births the hospital certified for a mother, oldest first."""
    return list(
        session.scalars(
            select(HospitalBirth)
            .where(HospitalBirth.agency_code == mother_code)
            .order_by(HospitalBirth.created_at)
        )
    )


def deliver_child(
    session: Session,
    mother_code: str,
    *,
    sex: str,
    weight_grams: int,
    born_at: datetime | None = None,
    user_id: str | None = None,
) -> HospitalBirth:
    """A child is born: keep the certificate and send it to the mother's municipal office
    through the mesh (``agencies.birth_certificate_refused`` if the office does not take it;
    the caller's transaction then writes nothing)."""
    patient = admit(session, mother_code)
    at = born_at or clock.now()
    birth = HospitalBirth(
        certificate_number=f"{at:%Y}-{secrets.randbelow(10**8):08d}",
        agency_code=mother_code,
        born_at=at.astimezone(clock.JST).strftime("%Y-%m-%dT%H:%M"),
        place=PLACE,
        weight_grams=weight_grams,
        sex=sex,
    )
    session.add(birth)
    session.flush()
    service = certificate_service(patient.lg_code)
    reply = mesh.call(
        session,
        client=AGENCY.subsystem,
        service=service,
        agency_code=mother_code,
        user_id=user_id,
        body=certificate_of(birth),
        items=list(CERTIFICATE_ITEMS),
    )
    if not reply.ok:
        raise CertificateRefused(reply.error or str(reply.status))
    birth.sent_to = service
    birth.message_id = reply.message_id
    session.flush()
    return birth


AGENCY: Final = Agency(
    name="hospital",
    title=NAME,
    member_class="MED",
    member_code="KIBANSANIN",
    subsystem_code="maternity",
    model=HospitalPatient,
    make=_make,
    services=(),
)
