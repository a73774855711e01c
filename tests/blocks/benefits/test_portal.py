"""The portal's benefits page: the recipient sees the award and declines or corrects it during
the opt-out window, with the page's CSRF token; nobody else's award can be touched."""

from __future__ import annotations

import html
import re
import warnings

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import benefits
from kiban.web import create_app
from tests.blocks.benefits.conftest import BASE, OFFICIAL, Country
from tests.web.portal_support import RESIDENT_COOKIE, resident_cookie

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def test_decline_and_correct_from_the_page(
    engine: Engine, session: Session, country: Country
) -> None:
    benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    benefits.do_run_programme(session, "child-allowance", BASE, actor=OFFICIAL)
    session.commit()
    head = country.family_head.id
    flat, child = sorted(
        benefits.list_determinations_of(session, head), key=lambda d: d.programme, reverse=True
    )
    elders = benefits.list_determinations_of(session, country.elder.id)
    session.rollback()  # Let the app's requests write (SQLite: one writer at a time).
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(RESIDENT_COOKIE, resident_cookie(engine, head))
        page = client.get("/portal/benefits?lang=en")
        assert page.status_code == 200
        assert "400,000" in page.text
        assert "Special flat-rate cash payment" in page.text
        assert "特別定額給付金" in client.get("/portal/benefits?lang=ja").text
        token = _token(page.text)

        forged = client.post(f"/portal/benefits/{flat.id}/decline?lang=en", data={})
        assert forged.status_code == 403
        others = client.post(
            f"/portal/benefits/{elders[0].id}/decline?lang=en", data={"csrf_token": token}
        )
        assert others.status_code == 404
        empty = client.post(
            f"/portal/benefits/{child.id}/correction?lang=en",
            data={"csrf_token": token, "text": "  "},
        )
        assert empty.status_code == 422
        assert "at most 400 characters" in empty.text

        declined = client.post(
            f"/portal/benefits/{flat.id}/decline?lang=en", data={"csrf_token": token}
        )
        assert declined.status_code == 303
        corrected = client.post(
            f"/portal/benefits/{child.id}/correction?lang=en",
            data={"csrf_token": token, "text": "三人目の子がいます"},
        )
        assert corrected.status_code == 303
        after = client.get("/portal/benefits?lang=en").text
        assert "Declined" in after
        assert "三人目の子がいます" in after
    session.expire_all()
    statuses = {d.programme: d.status for d in benefits.list_determinations_of(session, head)}
    assert statuses == {"flat-payment": "declined", "child-allowance": "correction_requested"}
    assert [d.status for d in benefits.list_determinations_of(session, country.elder.id)] == [
        "notified"
    ]
