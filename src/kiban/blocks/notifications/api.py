"""The inbox over HTTP: ``/api/v1/notifications``.

Called on behalf of a resident signed in to My page (the portal, kiban's first-party OpenID
Connect client): ``Authorization: Bearer <access token>``. Tokens that relying parties received
are refused: a person's notices are for the person, not for a company they signed in to.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from kiban.blocks import identity
from kiban.blocks.notifications import service
from kiban.blocks.notifications.schemas import InboxPage, NoticeRead
from kiban.platform import audit
from kiban.platform.fields import Limit, Offset
from kiban.platform.webkit import DbSession

Owner = identity.MyPagePerson

ERRORS: dict[int | str, dict[str, Any]] = {
    **identity.MY_PAGE_TOKEN_ERRORS,
    404: {"description": "`notifications.not_found` (no such notice in your inbox)"},
    422: {"description": "Invalid input, `error.field` names it"},
}

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERRORS)


@router.get("/inbox", summary="My inbox")
def inbox(
    session: DbSession,
    owner: Owner,
    unread_only: Annotated[bool, Query(description="Only unread notices")] = False,
    limit: Limit = 20,
    offset: Offset = 0,
) -> InboxPage:
    """The signed-in person's notices, newest first, in Japanese and English, with the number
    of unread notices and each notice's delivery lifecycle (created, delivered, read)."""
    return service.list_inbox(session, owner, unread_only=unread_only, limit=limit, offset=offset)


@router.get("/inbox/{notice_id}", summary="One notice")
def one_notice(notice_id: uuid.UUID, session: DbSession, owner: Owner) -> NoticeRead:
    """One notice of the signed-in person's inbox. Reading it here does not mark it read."""
    return service.get_notice(session, owner, notice_id)


@router.post("/inbox/{notice_id}/read", summary="Mark a notice read")
def mark_read(notice_id: uuid.UUID, session: DbSession, owner: Owner) -> NoticeRead:
    """Mark the notice read (idempotent: a notice already read keeps its first read time)."""
    return service.do_mark_read(session, owner, notice_id, actor=audit.person_actor(owner))
