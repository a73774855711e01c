"""Sending notices, the inbox and marking notices read.

Every function works in the caller's transaction and never commits. The inbox is the only
channel so far, so a notice is delivered the moment it is created; the two steps are still
recorded apart so that a later channel (mail, push) slots in between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiban.blocks.notifications import events as topics
from kiban.blocks.notifications.errors import InvalidParams, NoticeNotFound
from kiban.blocks.notifications.models import NotificationsNotice, NotificationsStep
from kiban.blocks.notifications.schemas import InboxPage, NoticeRead, NoticeStep
from kiban.blocks.notifications.templates import (
    check_params,
    get_template,
    render,
    stored_params,
)
from kiban.kernel import clock
from kiban.platform import audit, bulk, events

MAX_LIMIT = 100
_ORDER = {"created": 0, "delivered": 1, "read": 2}


def _read(notice: NotificationsNotice, steps: Sequence[NotificationsStep]) -> NoticeRead:
    return NoticeRead(
        id=notice.id,
        person_id=notice.person_id,
        template=notice.template,
        subject_ja=notice.subject_ja,
        subject_en=notice.subject_en,
        body_ja=notice.body_ja,
        body_en=notice.body_en,
        link=notice.link,
        created_at=notice.created_at,
        read_at=notice.read_at,
        status=notice.status,
        history=[NoticeStep(status=step.status, at=step.at) for step in steps],
    )


def _steps_of(
    session: Session, notice_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[NotificationsStep]]:
    steps: dict[uuid.UUID, list[NotificationsStep]] = {notice_id: [] for notice_id in notice_ids}
    if not notice_ids:
        return steps
    rows = session.scalars(
        select(NotificationsStep)
        .where(NotificationsStep.notice_id.in_(notice_ids))
        .order_by(NotificationsStep.at, NotificationsStep.id)
    )
    for step in rows:
        steps[step.notice_id].append(step)
    for listed in steps.values():
        # Created and delivered share an instant; the lifecycle order breaks the tie.
        listed.sort(key=lambda step: (step.at, _ORDER.get(step.status, 9)))
    return steps


def _by_dedupe_key(session: Session, dedupe_key: str) -> NotificationsNotice | None:
    return session.scalars(
        select(NotificationsNotice).where(NotificationsNotice.dedupe_key == dedupe_key)
    ).one_or_none()


def _existing(session: Session, notice: NotificationsNotice, person_id: uuid.UUID) -> NoticeRead:
    if notice.person_id != person_id:
        # A key reused for someone else is a caller's bug; never show one person's notice
        # to another.
        raise InvalidParams(
            "dedupe_key",
            problem_ja="別の人へのお知らせで使われています",
            problem_en="already used for another person",
        )
    return _read(notice, _steps_of(session, [notice.id])[notice.id])


def find_notice(session: Session, dedupe_key: str) -> NoticeRead | None:
    """The notice sent under ``dedupe_key`` (with its lifecycle: delivered, read), or None: how
    a block that told someone shows its officials that the person was told, and when."""
    found = _by_dedupe_key(session, dedupe_key)
    if found is None:
        return None
    return _read(found, _steps_of(session, [found.id])[found.id])


def do_send_notice(
    session: Session,
    person_id: uuid.UUID,
    template: str,
    params: Mapping[str, Any],
    *,
    actor: str,
    link: str | None = None,
    dedupe_key: str | None = None,
) -> NoticeRead:
    """Render ``template`` with ``params`` in Japanese and English and put it in the person's
    inbox (steps created and delivered), with an audit entry and a ``notifications.notice_sent``
    event. With ``dedupe_key``, a second call with the same key returns the first notice and
    writes nothing. 422 ``notifications.unknown_template`` / ``notifications.invalid_params``."""
    if dedupe_key is not None:
        found = _by_dedupe_key(session, dedupe_key)
        if found is not None:
            return _existing(session, found, person_id)
    chosen = get_template(template)
    check_params(chosen, params)
    text = render(chosen, params)
    now = clock.now()
    notice = NotificationsNotice(
        id=uuid.uuid4(),
        person_id=person_id,
        template=template,
        params=stored_params(params),
        subject_ja=text.subject_ja,
        subject_en=text.subject_en,
        body_ja=text.body_ja,
        body_en=text.body_en,
        link=link,
        dedupe_key=dedupe_key,
        status="delivered",
        created_at=now,
        read_at=None,
    )
    steps = [
        NotificationsStep(notice_id=notice.id, status="created", at=now, actor=actor),
        NotificationsStep(notice_id=notice.id, status="delivered", at=now, actor="inbox"),
    ]
    if dedupe_key is not None:
        # Two senders racing with the same key: the unique constraint lets one win; the other
        # rolls back its savepoint and returns the winner's notice.
        try:
            with session.begin_nested():
                session.add(notice)
                session.flush()
        except IntegrityError:
            found = _by_dedupe_key(session, dedupe_key)
            if found is None:  # pragma: no cover - the constraint named another column.
                raise
            return _existing(session, found, person_id)
    else:
        session.add(notice)
    session.add_all(steps)
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_SENT,
        actor=actor,
        subject=f"notice:{notice.id}",
        data={"person_id": str(person_id), "template": template},
    )
    events.emit(
        session,
        topics.NOTICE_SENT,
        {"notice_id": str(notice.id), "person_id": str(person_id), "template": template},
        key=str(person_id),
    )
    return _read(notice, steps)


@dataclass(frozen=True)
class NoticeToSend:
    """One notice of a bulk send (:func:`do_send_notices`); ``dedupe_key`` is required there."""

    person_id: uuid.UUID
    template: str
    params: Mapping[str, Any]
    dedupe_key: str
    link: str | None = None
    notice_id: uuid.UUID | None = None  # Chosen by the caller when it must refer to it.


BULK_CHUNK = 5_000


def do_send_notices(
    session: Session, items: Sequence[NoticeToSend], *, actor: str
) -> dict[str, uuid.UUID]:
    """Put many notices in their people's inboxes at once (a national run tells millions):
    rendered as :func:`do_send_notice` does, written with ``executemany`` (notices and their
    created and delivered steps), one ``notifications.notice_sent`` event per notice and one
    audit entry for the call (template, how many sent and skipped). A dedupe key already used
    is skipped; returns the notice id of every key, sent now or before."""
    found: dict[str, uuid.UUID] = {}
    keys = [item.dedupe_key for item in items]
    for first in range(0, len(keys), BULK_CHUNK):
        found.update(
            (str(key), notice_id)
            for key, notice_id in session.execute(
                select(NotificationsNotice.dedupe_key, NotificationsNotice.id).where(
                    bulk.among(
                        session, NotificationsNotice.dedupe_key, keys[first : first + BULK_CHUNK]
                    )
                )
            )
        )
    now, notices, steps, sent = clock.now(), [], [], []
    for item in items:
        if item.dedupe_key in found:
            continue
        chosen = get_template(item.template)
        check_params(chosen, item.params)
        rendered = render(chosen, item.params)
        notice_id = item.notice_id or uuid.uuid4()
        found[item.dedupe_key] = notice_id
        sent.append(item)
        notices.append(
            {
                "id": notice_id,
                "person_id": item.person_id,
                "template": item.template,
                "params": stored_params(item.params),
                "subject_ja": rendered.subject_ja,
                "subject_en": rendered.subject_en,
                "body_ja": rendered.body_ja,
                "body_en": rendered.body_en,
                "link": item.link,
                "dedupe_key": item.dedupe_key,
                "status": "delivered",
                "created_at": now,
                "read_at": None,
            }
        )
        steps.append(
            {
                "id": uuid.uuid4(),
                "notice_id": notice_id,
                "status": "created",
                "at": now,
                "actor": actor,
            }
        )
        steps.append(
            {
                "id": uuid.uuid4(),
                "notice_id": notice_id,
                "status": "delivered",
                "at": now,
                "actor": "inbox",
            }
        )
    bulk.insert_rows(session, NotificationsNotice, notices)
    bulk.insert_rows(session, NotificationsStep, steps)
    if sent:
        templates = sorted({item.template for item in sent})
        audit.record(
            session,
            tag=topics.AUDIT_SENT,
            actor=actor,
            subject="notices:bulk",
            data={"templates": templates, "sent": len(sent), "skipped": len(items) - len(sent)},
        )
        events.emit_many(
            session,
            [
                (
                    topics.NOTICE_SENT,
                    {
                        "notice_id": str(found[item.dedupe_key]),
                        "person_id": str(item.person_id),
                        "template": item.template,
                    },
                    str(item.person_id),
                )
                for item in sent
            ],
        )
    return found


def _owned(session: Session, person_id: uuid.UUID, notice_id: uuid.UUID) -> NotificationsNotice:
    notice = session.get(NotificationsNotice, notice_id)
    if notice is None or notice.person_id != person_id:
        raise NoticeNotFound
    return notice


def get_notice(session: Session, person_id: uuid.UUID, notice_id: uuid.UUID) -> NoticeRead:
    """One notice of the person's inbox (404 ``notifications.not_found`` for anyone else's)."""
    notice = _owned(session, person_id, notice_id)
    return _read(notice, _steps_of(session, [notice.id])[notice.id])


def do_mark_read(
    session: Session, person_id: uuid.UUID, notice_id: uuid.UUID, *, actor: str
) -> NoticeRead:
    """Mark the person's notice read (step ``read``); a notice already read stays as it was."""
    notice = _owned(session, person_id, notice_id)
    if notice.read_at is None:
        now = clock.now()
        notice.read_at = now
        notice.status = "read"
        session.add(NotificationsStep(notice_id=notice.id, status="read", at=now, actor=actor))
        session.flush()
        audit.record(
            session,
            tag=topics.AUDIT_READ,
            actor=actor,
            subject=f"notice:{notice.id}",
            data={"person_id": str(person_id)},
        )
        events.emit(
            session,
            topics.NOTICE_READ,
            {"notice_id": str(notice.id), "person_id": str(person_id)},
            key=str(person_id),
        )
    return _read(notice, _steps_of(session, [notice.id])[notice.id])


def count_unread(session: Session, person_id: uuid.UUID) -> int:
    """How many of the person's notices are unread."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(NotificationsNotice)
            .where(NotificationsNotice.person_id == person_id)
            .where(NotificationsNotice.read_at.is_(None))
        )
        or 0
    )


def list_inbox(
    session: Session,
    person_id: uuid.UUID,
    *,
    unread_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> InboxPage:
    """The person's notices, newest first, with the unread count of the whole inbox."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    query = select(NotificationsNotice).where(NotificationsNotice.person_id == person_id)
    if unread_only:
        query = query.where(NotificationsNotice.read_at.is_(None))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    notices = list(
        session.scalars(
            query.order_by(NotificationsNotice.created_at.desc(), NotificationsNotice.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    steps = _steps_of(session, [notice.id for notice in notices])
    return InboxPage(
        items=[_read(notice, steps[notice.id]) for notice in notices],
        total=total,
        unread=count_unread(session, person_id),
        limit=limit,
        offset=offset,
    )
