"""Notifications: notice templates, the inbox and each notice's delivery lifecycle.

Blocks and life events register templates (:func:`register_template`) with typed
personalisation; :func:`do_send_notice` renders a template in Japanese and English and puts it
in the person's inbox, idempotently when given a ``dedupe_key``. Each notice records its
lifecycle: created, delivered (to the inbox), read. The resident reads the inbox in the portal
and through ``/api/v1/notifications`` (:mod:`kiban.blocks.notifications.api`).
"""

from __future__ import annotations

from kiban.blocks.notifications.errors import (
    InvalidParams,
    NoticeNotFound,
    UnknownTemplate,
)
from kiban.blocks.notifications.events import NOTICE_READ, NOTICE_SENT
from kiban.blocks.notifications.schemas import InboxPage, NoticeRead, NoticeStatus, NoticeStep
from kiban.blocks.notifications.service import (
    NoticeToSend,
    count_unread,
    do_mark_read,
    do_send_notice,
    do_send_notices,
    find_notice,
    get_notice,
    list_inbox,
)
from kiban.blocks.notifications.templates import (
    TEMPLATES,
    NoticeTemplate,
    get_template,
    register_template,
)

__all__ = [
    "NOTICE_READ",
    "NOTICE_SENT",
    "TEMPLATES",
    "InboxPage",
    "InvalidParams",
    "NoticeNotFound",
    "NoticeRead",
    "NoticeStatus",
    "NoticeStep",
    "NoticeTemplate",
    "NoticeToSend",
    "UnknownTemplate",
    "count_unread",
    "do_mark_read",
    "do_send_notice",
    "do_send_notices",
    "find_notice",
    "get_notice",
    "get_template",
    "list_inbox",
    "register_template",
]
