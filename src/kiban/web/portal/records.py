"""Who used my data (情報提供等記録): every exchange of the resident's data through the mesh,
newest first, in words a person reads — when, which organisation received what from whom,
the data items, and the legal basis or the consent it was made under.

The mesh keeps a record on each side of an exchange (requester and provider); the page shows
each exchange once, from the requester's record, which names both organisations.

``/portal/records/officials`` lists the reads of the person's register record by officials and
operators (the register's read records): when, which office and official, which items, why and
through which system. The person's own reads are not listed (they are not recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kiban.blocks import address, mesh, notifications, residents
from kiban.kernel.errors import KibanError
from kiban.life_events.moving import offices
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.labels import (
    READ_PURPOSE_LABELS,
    READER_ROLE_LABELS,
    Organisations,
    item_label,
    legal_basis_label,
    read_channel,
)
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/records", include_in_schema=False)

# Each exchange has two records, so a page of 40 records shows about 20 exchanges.
PAGE_RECORDS: Final = 40
PAGE_READS: Final = 50
# Services the requester calls to hand the person's data over (a push): the provider receives
# it. The moving packet is one: the old office sends, the new office receives.
PUSH_SERVICES: Final = (offices.PACKET_SERVICE_CODE,)
SignedIn = Annotated[Resident, Depends(require_resident)]


@dataclass(frozen=True)
class Exchange:
    """One exchange as the page shows it."""

    at: datetime
    receiver: str
    receiver_lang: str
    provider: str
    provider_lang: str
    items: list[str]
    legal_basis: str | None
    legal_basis_lang: str
    consent_id: uuid.UUID | None
    provided: bool
    message_id: str


def _exchange(
    record: mesh.PersonRecord, names: Organisations, lang: str, gettext: Callable[[str], str]
) -> Exchange:
    """One exchange from the requester's record: who received the data and who provided it
    (the requester receives an answer; in a push, the provider receives what was sent)."""
    receiver, provider = record.member, record.counterpart
    if record.service.rsplit("/", 1)[-1] in PUSH_SERVICES:
        receiver, provider = provider, receiver
    basis, basis_lang = legal_basis_label(record.legal_basis or "", lang)
    return Exchange(
        at=record.requested_at,
        receiver=names.name(receiver, lang),
        receiver_lang="en" if names.is_english(receiver, lang) else "ja",
        provider=names.name(provider, lang),
        provider_lang="en" if names.is_english(provider, lang) else "ja",
        items=[item_label(item, gettext) for item in record.items],
        legal_basis=basis or None,
        legal_basis_lang=basis_lang,
        consent_id=record.consent_id,
        provided=record.outcome == "ok",
        message_id=record.message_id,
    )


@router.get("")
def records(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The resident's access records, newest first; ``before`` pages back."""
    t = i18n.translations(lang)
    page = mesh.records_for_person(
        session, resident.person_id, limit=PAGE_RECORDS, before_seq=before
    )
    names = Organisations.load(session)
    exchanges = [
        _exchange(record, names, lang, t.gettext)
        for record in page.records
        if record.side == "requester"
    ]
    return get_pages().render(
        request,
        lang,
        "portal/records.html",
        {
            "exchanges": exchanges,
            "next_before": page.next_before,
            "first_page": before is None,
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
    )


@dataclass(frozen=True)
class OfficialRead:
    """One read of the resident's record by an official or operator, as the page shows it."""

    at: datetime
    office: str | None
    office_lang: str
    official: str
    items: list[str]
    purpose: str
    channel: str


def _office_name(session: Session, organisation: str | None, cache: dict[str, str]) -> str | None:
    """A municipality's name for its ``lg_code``; any other organisation id as it is."""
    if organisation is None:
        return None
    if organisation not in cache:
        try:
            found = address.get_municipality(session, organisation)
            cache[organisation] = f"{found.pref_name}{found.name}"
        except KibanError:
            cache[organisation] = organisation
    return cache[organisation]


@router.get("/officials")
def official_reads(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Who at an office read my record: the register's read records of the resident, newest
    first, fifty to a page."""
    t = i18n.translations(lang)
    found = residents.get_reads_of_person(
        session, resident.person_id, limit=PAGE_READS, offset=(page - 1) * PAGE_READS
    )
    offices: dict[str, str] = {}
    reads = []
    for record in found.records:
        office = _office_name(session, record.organisation, offices)
        role = READER_ROLE_LABELS.get(record.role or "")
        reads.append(
            OfficialRead(
                at=record.read_at,
                office=office,
                # Municipality names are Japanese data; an unknown id is shown as it is.
                office_lang="ja" if office and office != record.organisation else lang,
                official=" ".join(
                    part for part in (t.gettext(role) if role else None, record.actor_id) if part
                )
                or record.actor,
                items=[item_label(item, t.gettext) for item in record.items],
                purpose=t.gettext(READ_PURPOSE_LABELS.get(record.purpose, record.purpose)),
                channel=t.gettext(read_channel(record.route)),
            )
        )
    return get_pages().render(
        request,
        lang,
        "portal/official_reads.html",
        {
            "reads": reads,
            "page": page,
            "has_next": page * PAGE_READS < found.total,
            "total": found.total,
            "unread_notices": notifications.count_unread(session, resident.person_id),
        },
    )
