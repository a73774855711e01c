"""Actions on the corporate registry. ``do_register_corporation`` validates everything first
(bad input writes nothing), then adds the corporation, writes the audit entry and queues the
event — all in the caller's transaction. Services never commit."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.corporations import events as topics
from kiban.blocks.corporations.errors import (
    CorporationExists,
    CorporationNotFound,
)
from kiban.blocks.corporations.models import Corporation, CorporationStatus
from kiban.blocks.corporations.schemas import (
    AddressRead,
    CorporationCreate,
    CorporationRead,
    RepresentativeRead,
)
from kiban.kernel import identifiers
from kiban.platform import audit, events

# --- reads -------------------------------------------------------------------------------------


def to_read(corporation: Corporation) -> CorporationRead:
    c = corporation
    return CorporationRead(
        id=c.id,
        corporate_number=c.corporate_number,
        name=c.name,
        name_kana=c.name_kana,
        kind=c.kind,
        kind_label=c.kind.label_ja,
        status=c.status,
        head_office=AddressRead(
            lg_code=c.lg_code,
            town_id=c.town_id,
            chome=c.chome,
            block_number=c.block_number,
            building=c.building,
            text=c.address_text,
        ),
        representative=RepresentativeRead(
            name=c.representative_name,
            name_kana=c.representative_name_kana,
            title=c.representative_title,
            address=AddressRead(
                lg_code=c.representative_lg_code,
                town_id=c.representative_town_id,
                chome=c.representative_chome,
                block_number=c.representative_block_number,
                building=c.representative_building,
                text=c.representative_address_text,
            ),
            person_id=c.representative_person_id,
        ),
        created_at=c.created_at,
    )


def get_corporation(session: Session, corporation_id: uuid.UUID) -> Corporation:
    corporation = session.get(Corporation, corporation_id)
    if corporation is None:
        raise CorporationNotFound("corporation_id")
    return corporation


def get_by_number(
    session: Session, corporate_number: str, *, field: str = "corporate_number"
) -> Corporation:
    """The corporation with this number; the number is checked first (field ``field``)."""
    digits = identifiers.validate_corporate_number(corporate_number, field=field)
    corporation = session.scalar(select(Corporation).where(Corporation.corporate_number == digits))
    if corporation is None:
        raise CorporationNotFound(field)
    return corporation


def list_corporations(
    session: Session,
    *,
    lg_code: str | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Corporation]:
    query = select(Corporation).order_by(Corporation.name_kana, Corporation.corporate_number)
    if lg_code is not None:
        query = query.where(Corporation.lg_code == lg_code)
    if name:
        pattern = f"%{name}%"
        query = query.where(
            or_(Corporation.name.like(pattern), Corporation.name_kana.like(pattern))
        )
    return list(session.scalars(query.limit(limit).offset(offset)))


def list_represented_by(session: Session, person_id: uuid.UUID) -> list[Corporation]:
    return list(
        session.scalars(
            select(Corporation)
            .where(Corporation.representative_person_id == person_id)
            .order_by(Corporation.name_kana, Corporation.corporate_number)
        )
    )


def count_corporations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Corporation)) or 0


# --- writes ------------------------------------------------------------------------------------


def do_register_corporation(
    session: Session, data: CorporationCreate, *, actor: str
) -> Corporation:
    """Enter a corporation in the registry; ``corporation.registered``."""
    number = identifiers.validate_corporate_number(data.corporate_number, field="corporate_number")
    office = address.place_address(session, data.head_office, field="head_office")
    rep = data.representative
    rep_address = address.place_address(session, rep.address, field="representative.address")
    if session.scalar(select(Corporation.id).where(Corporation.corporate_number == number)):
        raise CorporationExists
    corporation = Corporation(
        id=uuid.uuid4(),
        corporate_number=number,
        name=data.name,
        name_kana=data.name_kana,
        kind=data.kind,
        status=CorporationStatus.ACTIVE,
        lg_code=office.town.lg_code,
        town_id=office.town.id,
        chome=office.chome,
        block_number=office.block_number,
        building=office.building,
        address_text=office.text,
        representative_name=rep.name,
        representative_name_kana=rep.name_kana,
        representative_title=rep.title,
        representative_lg_code=rep_address.town.lg_code,
        representative_town_id=rep_address.town.id,
        representative_chome=rep_address.chome,
        representative_block_number=rep_address.block_number,
        representative_building=rep_address.building,
        representative_address_text=rep_address.text,
        representative_person_id=rep.person_id,
    )
    session.add(corporation)
    session.flush()
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:corporation:registered",
        actor=actor,
        subject=str(corporation.id),
        data={"corporate_number": number, "lg_code": office.town.lg_code},
    )
    events.emit(
        session,
        topics.REGISTERED,
        {
            "corporation_id": str(corporation.id),
            "corporate_number": number,
            "lg_code": office.town.lg_code,
        },
        key=number,
    )
    return corporation
