"""The qualifications registry's office pages: 厚生労働省's official finds, registers,
suspends and revokes with a confirmation page each; a municipal official is refused; every
holder shown is recorded as read."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiban.blocks import qualifications, residents, staff
from kiban.blocks.residents.models import ReadRecord
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.web import create_app
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.staff_support import make_official

MHLW = "agency:mhlw"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signed_in(engine: Engine, organisation: str, role: str) -> tuple[str, staff.Principal]:
    with transaction(engine) as session:
        official = make_official(session, organisation, role, name="厚労\u3000職員")
        cookie, _ = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(official.account_id),
            data={"organisation": organisation, "role": role},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
    return cookie, official


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code="131016", limit=1)[0]
    return {"person": person}


def test_register_suspend_and_revoke_through_the_pages(
    engine: Engine, world: dict[str, Any]
) -> None:
    person: residents.PersonRead = world["person"]
    cookie, official = _signed_in(engine, MHLW, "qualifications")
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(OFFICE_COOKIE, cookie)
        page = client.get("/office/qualifications/new?lang=ja")
        assert page.status_code == 200
        assert "看護師" in page.text
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        form = {
            "qualification": "nurse",
            "family_name": person.family_name,
            "given_name": person.given_name,
            "birth_date": person.birth_date.isoformat(),
            "registration_number": "700001",
            "registered_on": "2015-04-01",
            "csrf_token": token,
        }
        # A wrong birth date finds nobody: the form again, naming the field, nothing written.
        wrong = client.post("/office/qualifications/new", data={**form, "birth_date": "1900-01-01"})
        assert wrong.status_code == 404
        assert 'href="#family_name"' in wrong.text
        # The first post asks; nothing is registered yet.
        asked = client.post("/office/qualifications/new", data=form)
        assert asked.status_code == 200
        assert person.full_name in asked.text
        assert 'name="confirmed" value="true"' in asked.text
        with transaction(engine) as session:
            assert qualifications.list_holders(session, person_id=person.id) == []
        done = client.post("/office/qualifications/new", data={**form, "confirmed": "true"})
        assert done.status_code == 303
        holder_url = done.headers["location"].split("?")[0]
        shown = client.get(holder_url)
        assert "登録しました" in shown.text or "Registered" in shown.text
        assert "700001" in shown.text

        listed = client.get("/office/qualifications?qualification=nurse")
        assert listed.status_code == 200
        assert person.full_name in listed.text
        found = client.post(
            "/office/qualifications/search", data={"number": "700001", "csrf_token": token}
        )
        assert person.full_name in found.text

        holder_id = holder_url.rsplit("/", 1)[1]
        act = f"/office/qualifications/{holder_id}/act"
        no_reason = client.post(
            act, data={"action": "suspended", "registration_version": "1", "csrf_token": token}
        )
        assert no_reason.status_code == 422
        asked = client.post(
            act,
            data={
                "action": "suspended",
                "registration_version": "1",
                "reason": "業務停止",
                "csrf_token": token,
            },
        )
        assert asked.status_code == 200
        assert 'name="confirmed" value="true"' in asked.text
        done = client.post(
            act,
            data={
                "action": "suspended",
                "registration_version": "1",
                "reason": "業務停止",
                "confirmed": "true",
                "csrf_token": token,
            },
        )
        assert done.status_code == 303
        revoke = {"action": "revoked", "reason": "取消", "confirmed": "true", "csrf_token": token}
        stale = client.post(
            act,
            data={**revoke, "registration_version": "1"},
        )
        assert stale.status_code == 409
        done = client.post(
            act,
            data={**revoke, "registration_version": "2"},
        )
        assert done.status_code == 303
    with transaction(engine) as session:
        holder = qualifications.get_holder(session, qualifications.list_holders(session)[0].id)
        assert holder.status == "revoked"
        steps = qualifications.get_history(session, holder.id)
        assert [s.action for s in steps] == ["registered", "suspended", "revoked"]
        assert {s.acted_by for s in steps} == {official.actor}
        reads = session.scalars(
            select(ReadRecord).where(
                ReadRecord.person_id == person.id,
                ReadRecord.purpose == residents.ReadPurpose.QUALIFICATIONS,
            )
        ).all()
        routes = {r.route for r in reads}
        assert "GET /office/qualifications" in routes
        assert "GET /office/qualifications/{holder_id}" in routes
        assert all(r.organisation == MHLW for r in reads)


def test_a_municipal_official_is_refused(engine: Engine, world: dict[str, Any]) -> None:
    cookie, _ = _signed_in(engine, "131016", "approval")
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(OFFICE_COOKIE, cookie)
        assert client.get("/office/qualifications").status_code == 403
        assert client.get("/office/qualifications/new").status_code == 403
