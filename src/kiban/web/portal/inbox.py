"""The portal's inbox (お知らせ): the resident's notices, newest first, unread ones marked;
opening a notice shows it in the page's language. Opening (GET) changes nothing: a prefetch, a
crawler or a link from elsewhere must not mark a notice read. The notice page has a "mark as
read" form (POST with the session's CSRF token)."""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiban.blocks import notifications
from kiban.platform import i18n
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang
from kiban.web.portal.csrf import require_resident_form
from kiban.web.portal.labels import NOTICE_STATUS_LABELS
from kiban.web.portal.session import Resident, require_resident
from kiban.web.templating import get_pages

router = APIRouter(prefix="/portal/inbox", include_in_schema=False)

PAGE_SIZE: Final = 20
SignedIn = Annotated[Resident, Depends(require_resident)]
Posted = Annotated[Resident, Depends(require_resident_form)]


@router.get("")
def inbox(
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
    unread: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The resident's notices, newest first, 20 to a page."""
    listed = notifications.list_inbox(
        session,
        resident.person_id,
        unread_only=unread,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    pages = max(1, -(-listed.total // PAGE_SIZE))
    return get_pages().render(
        request,
        lang,
        "portal/inbox.html",
        {
            "inbox": listed,
            "unread_notices": listed.unread,
            "unread_only": unread,
            "page": page,
            "pages": pages,
        },
    )


def _missing(
    request: Request, lang: i18n.Language, error: notifications.NoticeNotFound
) -> HTMLResponse:
    t = i18n.translations(lang)
    return get_pages().render(
        request,
        lang,
        "portal/notice_missing.html",
        {"message": error.message(lang), "title": t.gettext("Notice not found")},
        status_code=404,
    )


@router.get("/{notice_id}")
def notice(
    notice_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: SignedIn,
) -> HTMLResponse:
    """One notice, as it is: opening it does not mark it read (its page has the form that
    does)."""
    try:
        opened = notifications.get_notice(session, resident.person_id, notice_id)
    except notifications.NoticeNotFound as error:
        return _missing(request, lang, error)
    return get_pages().render(
        request,
        lang,
        "portal/notice.html",
        {
            "notice": opened,
            "unread_notices": notifications.count_unread(session, resident.person_id),
            "status_labels": NOTICE_STATUS_LABELS,
            "wallet_url": get_settings().wallet_url.rstrip("/"),
        },
    )


@router.post("/{notice_id}/read")
def mark_read(
    notice_id: uuid.UUID,
    request: Request,
    lang: Lang,
    session: DbSession,
    resident: Posted,
) -> Response:
    """Mark the notice read (the inbox's unread count goes down), then show it again."""
    try:
        notifications.do_mark_read(session, resident.person_id, notice_id, actor=resident.actor)
    except notifications.NoticeNotFound as error:
        return _missing(request, lang, error)
    return RedirectResponse(f"/portal/inbox/{notice_id}?lang={lang}", status_code=303)
