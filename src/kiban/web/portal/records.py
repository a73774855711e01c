"""Who used my data (情報提供等記録): every exchange of the resident's data through the mesh,
newest first, in words a person reads — when, which organisation received what from whom,
the data items, and the legal basis or the consent it was made under.

The mesh keeps a record on each side of an exchange (requester and provider); the page shows
each exchange once, from the requester's record, which names both organisations.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from kiban.blocks import mesh, notifications
from kiban.life_events.moving import offices
from kiban.platform import i18n
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.labels import Organisations, item_label, legal_basis_label
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/records", include_in_schema=False)

# Each exchange has two records, so a page of 40 records shows about 20 exchanges.
PAGE_RECORDS: Final = 40
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
