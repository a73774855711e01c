"""Read models of the inbox (also the HTTP response bodies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

NoticeStatus = Literal["created", "delivered", "read"]


class NoticeStep(BaseModel):
    """One step of a notice's delivery lifecycle."""

    status: NoticeStatus
    at: datetime


class NoticeRead(BaseModel):
    """A notice in the person's inbox, in both languages, with its lifecycle."""

    id: uuid.UUID
    person_id: uuid.UUID
    template: str = Field(examples=["procedures.move_out_approved"])
    subject_ja: str
    subject_en: str
    body_ja: str
    body_en: str
    link: str | None = Field(default=None, description="A portal page the notice is about")
    created_at: datetime
    read_at: datetime | None
    status: NoticeStatus
    history: list[NoticeStep]

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def subject(self, lang: str) -> str:
        """The subject in ``lang`` (``ja`` unless ``en``)."""
        return self.subject_en if lang == "en" else self.subject_ja

    def body(self, lang: str) -> str:
        """The body in ``lang`` (``ja`` unless ``en``)."""
        return self.body_en if lang == "en" else self.body_ja


class InboxPage(BaseModel):
    """One page of a person's inbox, newest first."""

    items: list[NoticeRead]
    total: int = Field(description="Notices matching the filter")
    unread: int = Field(description="Unread notices in the whole inbox")
    limit: int
    offset: int
