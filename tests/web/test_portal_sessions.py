"""Portal sessions are server-side records: logout revokes, timeouts end them, My page lists
them with "sign out everywhere", and a cookie minted with a known secret opens nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.kernel import clock
from kiban.platform.models import AuditEntry, WebSessionRecord
from kiban.platform.settings import PLACEHOLDER_SECRET
from kiban.web import create_app
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def person(session: Session) -> residents.PersonRead:
    return register(session)


@pytest.fixture
def app_client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _open(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set(RESIDENT_COOKIE, cookie)
    return client.get("/portal/").status_code


def test_after_logout_the_saved_cookie_no_longer_opens_my_page(
    app_client: TestClient, person: residents.PersonRead, session: Session
) -> None:
    saved = resident_cookie(None, person.id)
    assert _open(app_client, saved) == 200
    page = app_client.get("/portal/?lang=en")
    # Without the form's token, logout changes nothing.
    assert app_client.post("/portal/logout", data={}).status_code == 403
    assert _open(app_client, saved) == 200
    out = app_client.post("/portal/logout", data={"csrf_token": _csrf(page.text)})
    assert out.status_code == 303
    assert RESIDENT_COOKIE in out.headers["set-cookie"]  # Cleared in the browser...
    assert _open(app_client, saved) == 303  # ...and a copy of it opens nothing.
    tags = session.scalars(select(AuditEntry.tag)).all()
    assert "platform:session:revoke" in tags


def test_an_idle_or_old_session_ends(
    app_client: TestClient, person: residents.PersonRead, engine: Engine
) -> None:
    idle = resident_cookie(None, person.id)
    old = resident_cookie(None, person.id)
    with engine.begin() as conn:
        rows = conn.execute(select(WebSessionRecord.id).order_by(WebSessionRecord.created_at))
        idle_id, old_id = [row.id for row in rows]
        now = clock.now()
        conn.execute(
            update(WebSessionRecord)
            .where(WebSessionRecord.id == idle_id)
            .values(last_seen_at=now - timedelta(minutes=31))
        )
        conn.execute(
            update(WebSessionRecord)
            .where(WebSessionRecord.id == old_id)
            .values(created_at=now - timedelta(hours=8), expires_at=now - timedelta(seconds=1))
        )
    assert _open(app_client, idle) == 303
    assert _open(app_client, old) == 303


def test_a_cookie_minted_with_the_published_placeholder_opens_nothing(
    app_client: TestClient, person: residents.PersonRead
) -> None:
    # The portal's former cookie: anyone who read the source could mint one for anybody.
    forged = URLSafeTimedSerializer(PLACEHOLDER_SECRET, salt="kiban.portal-session").dumps(
        {"person_id": str(person.id)}
    )
    assert _open(app_client, forged) == 303


def test_my_page_lists_the_sessions_and_signs_out_everywhere(
    app_client: TestClient, person: residents.PersonRead, database_url: str
) -> None:
    other = resident_cookie(None, person.id, user_agent=SAFARI)
    mine = resident_cookie(None, person.id, user_agent=FIREFOX)
    assert _open(app_client, mine) == 200
    page = app_client.get("/portal/?lang=en")
    assert "Firefox on Linux" in page.text
    assert "Safari on iOS" in page.text
    assert page.text.count("(this browser)") == 1
    assert 'action="/portal/sessions/revoke"' in page.text
    forged = app_client.post("/portal/sessions/revoke", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert _open(app_client, other) == 200

    assert _open(app_client, mine) == 200
    ended = app_client.post("/portal/sessions/revoke", data={"csrf_token": _csrf(page.text)})
    assert ended.status_code == 303
    assert _open(app_client, other) == 303
    assert _open(app_client, mine) == 303


def test_the_csrf_token_of_one_session_does_not_work_in_another(
    app_client: TestClient, person: residents.PersonRead
) -> None:
    first = resident_cookie(None, person.id)
    second = resident_cookie(None, person.id)
    _open(app_client, first)
    token = _csrf(app_client.get("/portal/").text)
    _open(app_client, second)
    assert app_client.post("/portal/logout", data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/portal/business/prime",
        "/portal/business/redeem",
        "/portal/business/7000012050002/members",
        "/portal/business/7000012050002/members/00000000-0000-0000-0000-000000000001/remove",
        "/portal/business/7000012050002/members/00000000-0000-0000-0000-000000000001/delegations",
        "/portal/business/7000012050002/members/00000000-0000-0000-0000-000000000001"
        "/delegations/moving/revoke",
    ],
)
def test_business_forms_need_the_csrf_token(
    app_client: TestClient, person: residents.PersonRead, path: str
) -> None:
    assert _open(app_client, resident_cookie(None, person.id)) == 200
    refused = app_client.post(path, data={"invitation_code": "x", "corporate_number": "1"})
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "kiban.csrf_failed",
        "message": refused.json()["error"]["message"],
        "field": "csrf_token",
    }
    token = _csrf(app_client.get("/portal/business?lang=en").text)
    accepted = app_client.post(path, data={"csrf_token": token, "invitation_code": "x"})
    assert accepted.status_code != 403
