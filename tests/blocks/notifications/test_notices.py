"""Notices: typed templates rendered in Japanese and English, the inbox newest first with its
unread count, read/unread with the lifecycle recorded, and idempotent sending."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiban.blocks import notifications
from kiban.blocks.notifications.models import NotificationsNotice
from kiban.platform import db
from kiban.platform.models import AuditEntry, OutboxEvent

TEMPLATE = "tests.notice_approved"


@pytest.fixture(autouse=True)
def _template() -> None:
    notifications.register_template(
        TEMPLATE,
        subject_ja="{procedure}が承認されました",
        subject_en="Your {procedure_en} was approved",
        body_ja="{day}に承認しました。受付番号は{number}です。",
        body_en="Approved on {day}. Reference number {number}.",
        params={"procedure": str, "procedure_en": str, "day": date, "number": int},
    )


def params(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "procedure": "転出届",
        "procedure_en": "moving-out notice",
        "day": date(2026, 11, 26),
        "number": 42,
    }
    values.update(overrides)
    return values


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_notice_is_rendered_in_both_languages_and_delivered(session: Session) -> None:
    person = uuid.uuid4()
    notice = notifications.do_send_notice(
        session, person, TEMPLATE, params(), actor="system:test", link="/portal/"
    )
    session.commit()
    assert notice.subject("ja") == "転出届が承認されました"
    assert notice.subject("en") == "Your moving-out notice was approved"
    assert notice.body("ja") == "2026年11月26日に承認しました。受付番号は42です。"
    assert notice.body("en") == "Approved on November 26, 2026. Reference number 42."
    assert notice.status == "delivered"
    assert [step.status for step in notice.history] == ["created", "delivered"]
    assert notice.read_at is None
    assert notice.link == "/portal/"
    topics = session.scalars(select(OutboxEvent.topic)).all()
    assert notifications.NOTICE_SENT in topics
    tags = session.scalars(select(AuditEntry.tag)).all()
    assert "notifications:notice:sent" in tags


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"number": "42"}, "number"),
        ({"number": True}, "number"),
        ({"day": "2026-11-26"}, "day"),
        ({"day": datetime(2026, 11, 26, 9, tzinfo=UTC)}, "day"),
        ({"extra": "x"}, "extra"),
        ({"procedure": None}, "procedure"),
    ],
)
def test_wrong_personalisation_is_refused_naming_the_value(
    session: Session, changed: dict[str, Any], field: str
) -> None:
    with pytest.raises(notifications.InvalidParams) as caught:
        notifications.do_send_notice(
            session, uuid.uuid4(), TEMPLATE, params(**changed), actor="system:test"
        )
    assert caught.value.code == "notifications.invalid_params"
    assert caught.value.status == 422
    assert caught.value.field == field
    session.rollback()
    assert count(session, NotificationsNotice) == 0


def test_a_missing_value_and_an_unknown_template_are_refused(session: Session) -> None:
    values = params()
    del values["number"]
    with pytest.raises(notifications.InvalidParams) as caught:
        notifications.do_send_notice(session, uuid.uuid4(), TEMPLATE, values, actor="t")
    assert caught.value.field == "number"
    with pytest.raises(notifications.UnknownTemplate) as unknown:
        notifications.do_send_notice(session, uuid.uuid4(), "no.such", {}, actor="t")
    assert unknown.value.field == "template"


def test_a_template_with_an_undeclared_placeholder_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="undeclared"):
        notifications.register_template(
            "tests.broken",
            subject_ja="{who}",
            subject_en="x",
            body_ja="x",
            body_en="x",
            params={},
        )


def test_the_same_dedupe_key_gives_the_same_notice_and_writes_nothing(session: Session) -> None:
    person = uuid.uuid4()
    first = notifications.do_send_notice(
        session, person, TEMPLATE, params(), actor="system:test", dedupe_key="app-1:approved"
    )
    session.commit()
    notices, events = count(session, NotificationsNotice), count(session, OutboxEvent)
    again = notifications.do_send_notice(
        session,
        person,
        TEMPLATE,
        params(number=7),
        actor="system:test",
        dedupe_key="app-1:approved",
    )
    session.commit()
    assert again.id == first.id
    assert again.body("en").endswith("42.")
    assert count(session, NotificationsNotice) == notices
    assert count(session, OutboxEvent) == events
    assert notifications.list_inbox(session, person).total == 1


def test_the_inbox_is_newest_first_and_counts_unread(session: Session) -> None:
    person, other = uuid.uuid4(), uuid.uuid4()
    sent = [
        notifications.do_send_notice(session, person, TEMPLATE, params(number=n), actor="t")
        for n in range(3)
    ]
    notifications.do_send_notice(session, other, TEMPLATE, params(), actor="t")
    session.commit()
    page = notifications.list_inbox(session, person)
    assert [item.id for item in page.items] == [notice.id for notice in reversed(sent)]
    assert (page.total, page.unread) == (3, 3)

    read = notifications.do_mark_read(session, person, sent[0].id, actor=f"person:{person}")
    session.commit()
    assert read.status == "read"
    assert read.read_at is not None
    assert [step.status for step in read.history] == ["created", "delivered", "read"]
    page = notifications.list_inbox(session, person)
    assert (page.total, page.unread) == (3, 2)
    unread = notifications.list_inbox(session, person, unread_only=True)
    assert sent[0].id not in [item.id for item in unread.items]
    assert unread.total == 2
    second = notifications.list_inbox(session, person, limit=2, offset=2)
    assert [item.id for item in second.items] == [sent[0].id]

    # Reading it again changes nothing.
    again = notifications.do_mark_read(session, person, sent[0].id, actor=f"person:{person}")
    assert again.read_at == read.read_at
    assert len(again.history) == 3


def test_another_persons_notice_is_not_found(session: Session) -> None:
    person = uuid.uuid4()
    notice = notifications.do_send_notice(session, person, TEMPLATE, params(), actor="t")
    session.commit()
    with pytest.raises(notifications.NoticeNotFound):
        notifications.get_notice(session, uuid.uuid4(), notice.id)
    with pytest.raises(notifications.NoticeNotFound):
        notifications.do_mark_read(session, uuid.uuid4(), notice.id, actor="t")
    assert notifications.get_notice(session, person, notice.id).read_at is None


def test_two_senders_racing_with_one_key_make_one_notice(engine: Engine) -> None:
    """The second sender waits for the first one's transaction and then returns its notice,
    whether the database serialises the writers (SQLite) or the unique index does
    (PostgreSQL)."""
    person = uuid.uuid4()
    factory = db.session_factory(engine)
    results: list[uuid.UUID] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with factory() as other:
                notice = notifications.do_send_notice(
                    other, person, TEMPLATE, params(), actor="t", dedupe_key="race"
                )
                other.commit()
                results.append(notice.id)
        except BaseException as error:  # Reported by the assertion below.
            errors.append(error)

    with factory() as first:
        notice = notifications.do_send_notice(
            first, person, TEMPLATE, params(), actor="t", dedupe_key="race"
        )
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # The second sender is now waiting on the first one's write.
        first.commit()
    thread.join(timeout=30)
    assert errors == []
    assert results == [notice.id]
    with factory() as check:
        assert notifications.list_inbox(check, person).total == 1
