"""Server-side web sessions: revocable, idle and absolute timeouts, bound to the secret."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiban.kernel import clock
from kiban.platform import sessions
from kiban.platform.models import AuditEntry, WebSessionRecord
from kiban.platform.settings import get_settings

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=8)


def _start(
    session: Session, subject: str = "p1", audience: str = "resident"
) -> tuple[str, sessions.WebSession]:
    cookie, ws = sessions.start_session(
        session,
        audience=audience,
        subject=subject,
        data={"lg_code": "131016"},
        idle=IDLE,
        absolute=ABSOLUTE,
        user_agent="Mozilla/5.0 Firefox/140.0",
        source="127.0.0.1",
        actor=f"person:{subject}",
    )
    session.commit()
    return cookie, ws


def _shift(session: Session, ws: sessions.WebSession, **columns: object) -> None:
    session.execute(update(WebSessionRecord).where(WebSessionRecord.id == ws.id).values(**columns))
    session.commit()


def test_a_started_session_loads_from_its_cookie_and_is_audited(session: Session) -> None:
    cookie, ws = _start(session)
    loaded = sessions.load_session(session, audience="resident", cookie=cookie)
    assert loaded is not None
    assert loaded.id == ws.id
    assert loaded.subject == "p1"
    assert loaded.data == {"lg_code": "131016"}
    assert loaded.expires_at - loaded.created_at == ABSOLUTE
    assert loaded.idle_timeout == IDLE
    tags = session.scalars(select(AuditEntry.tag)).all()
    assert "platform:session:start" in tags
    # Only the token's hash is stored: the cookie's token appears nowhere in the row.
    row = session.get(WebSessionRecord, ws.id)
    assert row is not None
    assert cookie.split(".")[0] not in row.token_hash


@pytest.mark.parametrize(
    "cookie",
    [None, "", "garbage", "a.b", ".", "x" * 500, "ü.ü"],
)
def test_malformed_cookies_open_nothing(session: Session, cookie: str | None) -> None:
    _start(session)
    assert sessions.load_session(session, audience="resident", cookie=cookie) is None


def test_a_forged_signature_opens_nothing(session: Session) -> None:
    cookie, _ = _start(session)
    token, _, signature = cookie.partition(".")
    forged = f"{token}.{signature[:-2]}AA"
    assert sessions.load_session(session, audience="resident", cookie=forged) is None


def test_another_audience_does_not_accept_the_cookie(session: Session) -> None:
    cookie, _ = _start(session)
    assert sessions.load_session(session, audience="office", cookie=cookie) is None


def test_revoked_sessions_are_dead(session: Session) -> None:
    cookie, ws = _start(session)
    sessions.revoke_session(session, ws.id, reason="logout", actor="person:p1")
    session.commit()
    assert sessions.load_session(session, audience="resident", cookie=cookie) is None
    assert sessions.list_sessions(session, audience="resident", subject="p1") == []
    assert "platform:session:revoke" in session.scalars(select(AuditEntry.tag)).all()


def test_an_idle_session_expires(session: Session) -> None:
    cookie, ws = _start(session)
    _shift(session, ws, last_seen_at=clock.now() - IDLE - timedelta(seconds=1))
    assert sessions.load_session(session, audience="resident", cookie=cookie) is None


def test_a_used_session_is_kept_alive_but_not_past_its_absolute_limit(session: Session) -> None:
    cookie, ws = _start(session)
    _shift(session, ws, last_seen_at=clock.now() - IDLE + timedelta(minutes=2))
    loaded = sessions.load_session(session, audience="resident", cookie=cookie)
    session.commit()
    assert loaded is not None
    assert clock.now() - loaded.last_seen_at < timedelta(seconds=30)  # Touched.
    _shift(session, ws, expires_at=clock.now() - timedelta(seconds=1))
    assert sessions.load_session(session, audience="resident", cookie=cookie) is None


def test_rotating_the_secret_ends_every_session_it_signed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie, ws = _start(session)
    token = sessions.csrf_token(ws)
    monkeypatch.setenv("KIBAN_SECRET_KEY", "a-brand-new-secret-of-the-operator-0123456789")
    get_settings.cache_clear()
    assert sessions.load_session(session, audience="resident", cookie=cookie) is None
    with pytest.raises(sessions.CsrfFailed):
        sessions.check_csrf(ws, token)


def test_sign_out_everywhere_keeps_only_the_current_session(session: Session) -> None:
    first_cookie, first = _start(session)
    second_cookie, second = _start(session)
    other_cookie, _ = _start(session, subject="p2")
    listed = sessions.list_sessions(session, audience="resident", subject="p1")
    assert {ws.id for ws in listed} == {first.id, second.id}
    ended = sessions.revoke_sessions_of(
        session,
        audience="resident",
        subject="p1",
        reason="everywhere",
        actor="person:p1",
        keep=second.id,
    )
    session.commit()
    assert ended == 1
    assert sessions.load_session(session, audience="resident", cookie=first_cookie) is None
    assert sessions.load_session(session, audience="resident", cookie=second_cookie) is not None
    assert sessions.load_session(session, audience="resident", cookie=other_cookie) is not None


def test_update_session_replaces_data_and_steps_up(session: Session) -> None:
    cookie, ws = _start(session, audience="office")
    _shift(session, ws, authenticated_at=clock.now() - timedelta(hours=1))
    updated = sessions.update_session(
        session, ws.id, data={"organisation": "131016", "role": "clerk"}, authenticated=True
    )
    session.commit()
    assert updated.data == {"organisation": "131016", "role": "clerk"}
    assert clock.now() - updated.authenticated_at < timedelta(seconds=30)
    loaded = sessions.load_session(session, audience="office", cookie=cookie)
    assert loaded is not None
    assert loaded.data["role"] == "clerk"
    with pytest.raises(sessions.NotFound):
        sessions.update_session(session, uuid.uuid4(), authenticated=True)


def test_csrf_tokens_are_bound_to_the_session(session: Session) -> None:
    _, first = _start(session)
    _, second = _start(session)
    sessions.check_csrf(first, sessions.csrf_token(first))
    for wrong in (None, "", sessions.csrf_token(second), "ü"):
        with pytest.raises(sessions.CsrfFailed) as failed:
            sessions.check_csrf(first, wrong)
        assert failed.value.status == 403
        assert failed.value.field == sessions.CSRF_FIELD == "csrf_token"


def test_long_ended_sessions_are_deleted_when_the_subject_signs_in_again(
    session: Session,
) -> None:
    _, old = _start(session)
    _, recent = _start(session)
    _, other = _start(session, subject="p2")
    long_ago = clock.now() - sessions.KEEP_ENDED - timedelta(days=1)
    _shift(session, old, expires_at=long_ago)
    _shift(session, other, expires_at=long_ago)
    _start(session)
    ids = set(session.scalars(select(WebSessionRecord.id)))
    assert old.id not in ids
    assert {recent.id, other.id} <= ids  # Another subject's rows wait for their own sign-in.
