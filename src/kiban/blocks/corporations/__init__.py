"""Corporate registry (法人番号, 商業登記): the facade other blocks, the web layer and the CLI use.

A corporation has a valid corporate number (13 digits, the first a check digit), a name and its
furigana, a legal form, a head office (a town of the address registry plus the numbers after
it) and a representative as the commercial register records them: name, title and address.
Identity compares a signing certificate's basic four with the representative when a company
applies for its prime business account. Reads return DTOs, never ORM objects; every function
takes the caller's session and never commits.

Error codes: ``kiban.identifier.not_digits`` / ``wrong_length`` / ``check_digit_mismatch``
(422, field ``corporate_number``), ``address.invalid_address`` (422, e.g.
``head_office.town_id``; an address may also be given as free text, read by the address
normalizer), ``corporations.invalid`` (422),
``corporations.exists`` (409), ``corporations.not_found`` (404).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from kiban.blocks.address import AddressInput
from kiban.blocks.corporations import service
from kiban.blocks.corporations.events import REGISTERED
from kiban.blocks.corporations.models import KIND_LABELS, CorporationKind, CorporationStatus
from kiban.blocks.corporations.schemas import (
    AddressRead,
    CorporationCreate,
    CorporationRead,
    RepresentativeInput,
    RepresentativeRead,
)
from kiban.blocks.corporations.synthetic import seed_corporations

__all__ = [
    "KIND_LABELS",
    "REGISTERED",
    "AddressInput",
    "AddressRead",
    "CorporationCreate",
    "CorporationKind",
    "CorporationRead",
    "CorporationStatus",
    "RepresentativeInput",
    "RepresentativeRead",
    "count_corporations",
    "get_corporation",
    "get_corporation_by_number",
    "list_corporations",
    "list_corporations_represented_by",
    "register_corporation",
    "seed_corporations",
]


def register_corporation(
    session: Session, data: CorporationCreate, *, actor: str
) -> CorporationRead:
    """Enter a corporation in the registry (audited); ``corporation.registered``."""
    return service.to_read(service.do_register_corporation(session, data, actor=actor))


def get_corporation(session: Session, corporation_id: uuid.UUID) -> CorporationRead:
    """The corporation with this id (``corporations.not_found``, field ``corporation_id``)."""
    return service.to_read(service.get_corporation(session, corporation_id))


def get_corporation_by_number(
    session: Session, corporate_number: str, *, field: str = "corporate_number"
) -> CorporationRead:
    """The corporation with this corporate number (full-width digits and hyphens accepted).

    The number is checked first (``kiban.identifier.*``, 422), then looked up
    (``corporations.not_found``, 404); both name ``field``.
    """
    return service.to_read(service.get_by_number(session, corporate_number, field=field))


def list_corporations(
    session: Session,
    *,
    lg_code: str | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CorporationRead]:
    """Corporations in kana order, optionally of one municipality or matching part of a name."""
    rows = service.list_corporations(
        session, lg_code=lg_code, name=name, limit=limit, offset=offset
    )
    return [service.to_read(row) for row in rows]


def list_corporations_represented_by(
    session: Session, person_id: uuid.UUID
) -> list[CorporationRead]:
    """The corporations whose registered representative is the person ``person_id`` of the
    resident register (linked by person id, never by the individual number), in kana order.
    おくやみ lists them for the bereaved: a representative's death calls for a change of
    representative (代表者変更登記)."""
    return [service.to_read(row) for row in service.list_represented_by(session, person_id)]


def count_corporations(session: Session) -> int:
    """How many corporations the registry holds."""
    return service.count_corporations(session)
