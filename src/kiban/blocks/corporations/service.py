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
    InvalidCorporation,
)
from kiban.blocks.corporations.models import Corporation, CorporationStatus
from kiban.blocks.corporations.schemas import (
    AddressInput,
    AddressRead,
    CorporationCreate,
    CorporationRead,
    RepresentativeRead,
)
from kiban.kernel import identifiers
from kiban.kernel.errors import NotFound
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


def count_corporations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Corporation)) or 0


# --- writes ------------------------------------------------------------------------------------


def _place(session: Session, data: AddressInput, field: str) -> tuple[address.TownRead, str]:
    """The town of ``data`` and the address as one line; ``field`` prefixes the error field."""
    try:
        town = address.get_town(session, data.town_id)
    except NotFound:
        raise InvalidCorporation(
            "住所の町字が住所基本台帳にありません。",
            "The town is not in the address registry.",
            field=f"{field}.town_id",
        ) from None
    if data.chome is not None and not town.has_chome:
        raise InvalidCorporation(
            f"{town.name}には丁目がありません。",
            f"{town.name} has no chome.",
            field=f"{field}.chome",
        )
    text = address.format_address(
        town, chome=data.chome, block_number=data.block_number, building=data.building
    )
    return town, text


def do_register_corporation(
    session: Session, data: CorporationCreate, *, actor: str
) -> Corporation:
    """Enter a corporation in the registry; ``corporation.registered``."""
    number = identifiers.validate_corporate_number(data.corporate_number, field="corporate_number")
    office_town, office_text = _place(session, data.head_office, "head_office")
    rep = data.representative
    rep_town, rep_text = _place(session, rep.address, "representative.address")
    if session.scalar(select(Corporation.id).where(Corporation.corporate_number == number)):
        raise CorporationExists
    corporation = Corporation(
        id=uuid.uuid4(),
        corporate_number=number,
        name=data.name,
        name_kana=data.name_kana,
        kind=data.kind,
        status=CorporationStatus.ACTIVE,
        lg_code=office_town.lg_code,
        town_id=office_town.id,
        chome=data.head_office.chome,
        block_number=data.head_office.block_number,
        building=data.head_office.building,
        address_text=office_text,
        representative_name=rep.name,
        representative_name_kana=rep.name_kana,
        representative_title=rep.title,
        representative_lg_code=rep_town.lg_code,
        representative_town_id=rep_town.id,
        representative_chome=rep.address.chome,
        representative_block_number=rep.address.block_number,
        representative_building=rep.address.building,
        representative_address_text=rep_text,
    )
    session.add(corporation)
    session.flush()
    audit.record(
        session,
        tag=f"{topics.AUDIT_SOURCE}:corporation:registered",
        actor=actor,
        subject=str(corporation.id),
        data={"corporate_number": number, "lg_code": office_town.lg_code},
    )
    events.emit(
        session,
        topics.REGISTERED,
        {
            "corporation_id": str(corporation.id),
            "corporate_number": number,
            "lg_code": office_town.lg_code,
        },
        key=number,
    )
    return corporation
