"""Signing in to the office without a card reader, over HTTP (ADR 0019): a security key's
answer starts a session marked ``webauthn``; TOTP codes are throttled per account and audited;
the sign-in is bound to its flow cookie; and a session without a recent card cannot add or
remove factors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiban.blocks import staff
from kiban.kernel import clock
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry, WebSessionRecord
from kiban.platform.settings import get_settings
from kiban.web import create_app
from kiban.web.office.factors import TOTP_CODES
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE, THROTTLE
from tests.blocks.staff.authenticator import SoftAuthenticator
from tests.staff_support import make_official

ORG = "131016"
_FLOW = re.compile(r'name="flow" value="([^"]+)"')


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://localhost")
    get_settings.cache_clear()
    THROTTLE.reset()
    TOTP_CODES.reset()
    with TestClient(create_app(), base_url="http://localhost", follow_redirects=False) as client:
        yield client
    THROTTLE.reset()
    TOTP_CODES.reset()


@pytest.fixture
def official(engine: Engine) -> staff.Principal:
    with transaction(engine) as session:
        return make_official(session, ORG, "approval", name="千代田　決裁")


def _flow(http: TestClient) -> str:
    page = http.get("/office/login/factor")
    assert page.status_code == 200
    found = _FLOW.search(page.text)
    assert found
    return found.group(1)


def _audit(engine: Engine, tag: str) -> list[dict[str, object]]:
    with transaction(engine) as session:
        return [e.data for e in session.scalars(select(AuditEntry).where(AuditEntry.tag == tag))]


def test_a_security_key_signs_in_and_the_session_says_so(
    http: TestClient, engine: Engine, official: staff.Principal
) -> None:
    key = SoftAuthenticator("http://localhost")
    with transaction(engine) as session:
        options = staff.start_webauthn_registration(session, official.account_id, binding="s")
        staff.do_add_webauthn_credential(
            session,
            official.account_id,
            binding="s",
            name="key",
            credential=key.create(options),
            actor="t",
        )
    _flow(http)
    # Without a JSON content type (a form another site could post), nothing is issued.
    refused = http.post("/office/login/webauthn/options", content=b"{}")
    assert refused.status_code == 401
    options = http.post(
        "/office/login/webauthn/options", json={"account": str(official.account_id)}
    )
    assert options.status_code == 200, options.text
    answer = http.post("/office/login/webauthn?next=/office", json=key.get(options.text))
    assert answer.status_code == 200, answer.text
    assert answer.json()["redirect"].startswith("/office/choose")
    assert OFFICE_COOKIE in answer.cookies
    with transaction(engine) as session:
        row = session.scalars(select(WebSessionRecord)).one()
        assert row.data["authenticated_with"] == "webauthn"
    assert _audit(engine, "staff:office:sign_in")[0]["method"] == "webauthn"

    # The same answer again (a replay) is refused and recorded.
    http.cookies.clear()
    _flow(http)
    replay = http.post("/office/login/webauthn", json=key.get(options.text))
    assert replay.status_code == 401
    failed = _audit(engine, "staff:office:sign_in_failed")
    assert failed[-1]["reason"] == "challenge_unknown"


def test_wrong_totp_codes_are_throttled_per_account_and_audited(
    http: TestClient, engine: Engine, official: staff.Principal
) -> None:
    with transaction(engine) as session:
        enrolment = staff.do_start_totp(session, official.account_id, actor="t")
        staff.do_confirm_totp(
            session,
            official.account_id,
            pyotp.TOTP(enrolment.secret).at(clock.now() - timedelta(seconds=30)),
            actor="t",
        )
    flow = _flow(http)
    right = pyotp.TOTP(enrolment.secret).at(clock.now())
    wrong = "000000" if right != "000000" else "111111"
    form = {"account": str(official.account_id), "flow": flow}
    for _ in range(5):
        answer = http.post("/office/login/totp", data={**form, "code": wrong})
        assert answer.status_code == 401
    locked = http.post("/office/login/totp", data={**form, "code": right})
    assert locked.status_code == 429  # Even the right code, while the account is locked.
    reasons = [entry["reason"] for entry in _audit(engine, "staff:office:sign_in_failed")]
    assert reasons == ["totp_wrong"] * 5 + ["throttled"]
    TOTP_CODES.reset()
    THROTTLE.reset()
    # Without the page's flow value (a form posted from elsewhere) nothing is checked.
    elsewhere = http.post("/office/login/totp", data={**form, "flow": "x", "code": right})
    assert elsewhere.status_code == 400
    form["flow"] = _flow(http)
    signed_in = http.post("/office/login/totp", data={**form, "code": right})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"].startswith("/office/choose")
    assert _audit(engine, "staff:office:sign_in")[-1]["method"] == "totp"


def test_a_session_without_a_recent_card_cannot_change_factors(
    http: TestClient, engine: Engine, official: staff.Principal
) -> None:
    with transaction(engine) as session:
        cookie, ws = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(official.account_id),
            data={"organisation": ORG, "role": "approval", "authenticated_with": "totp"},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
        csrf = sessions.csrf_token(ws)
    http.cookies.set(OFFICE_COOKIE, cookie)
    page = http.get("/office/factors?lang=en")
    assert page.status_code == 200
    assert "needs your card" in page.text
    start = http.post("/office/factors/totp", data={"csrf_token": csrf})
    assert start.status_code == 303
    assert "step_up=true" in start.headers["location"]
    remove = http.post(f"/office/factors/webauthn/{uuid.uuid4()}/remove", data={"csrf_token": csrf})
    assert "step_up=true" in remove.headers["location"]
    options = http.post("/office/factors/webauthn/options", json={}, headers={"X-CSRF-Token": csrf})
    assert options.status_code == 403
    assert options.json()["error"]["code"] == "staff.step_up_required"
    no_token = http.post("/office/factors/webauthn/options", json={})
    assert no_token.status_code == 403
    with transaction(engine) as session:
        assert staff.totp_status(session, official.account_id) == "none"
