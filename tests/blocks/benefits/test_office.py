"""The office's benefits page: programmes, runs and a preview for the operator's officials."""

from __future__ import annotations

import warnings
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import benefits, staff
from kiban.platform import sessions
from kiban.web import create_app
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.blocks.benefits.conftest import BASE, CHIYODA, OFFICIAL, Country
from tests.staff_support import ensure_organisation, make_official

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient


def _cookie(session: Session, principal: staff.Principal) -> str:
    cookie, _ = sessions.start_session(
        session,
        audience=AUDIENCE,
        subject=str(principal.account_id),
        data={"organisation": principal.organisation, "role": principal.role},
        idle=timedelta(minutes=5),
        absolute=timedelta(minutes=30),
        user_agent=None,
        source=None,
        actor="system:test",
    )
    return cookie


def test_the_operator_previews_and_sees_runs(session: Session, country: Country) -> None:
    benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    ensure_organisation(session, "kiban")
    operator = _cookie(session, make_official(session, "kiban", "audit"))
    clerk = _cookie(session, make_official(session, CHIYODA, "approval"))
    session.commit()
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(OFFICE_COOKIE, operator)
        page = client.get("/office/benefits?lang=en")
        assert page.status_code == 200
        assert "Child allowance" in page.text
        assert "700,000" in page.text  # The flat payment's run.
        preview = client.get(
            "/office/benefits",
            params={"lang": "en", "programme": "flat-payment", "base_date": "2026-12-01"},
        )
        assert "3 recipients for 7 people, 700,000 yen in all" in preview.text
        wrong = client.get(
            "/office/benefits",
            params={"lang": "en", "programme": "flat-payment", "base_date": "1 Dec"},
        )
        assert wrong.status_code == 422
        assert "YYYY-MM-DD" in wrong.text
        client.cookies.set(OFFICE_COOKIE, clerk)
        assert client.get("/office/benefits").status_code == 403
