"""The office's staff pages, as an administrator of 千代田区 uses them: officials and service
accounts of their own organisation, roles with departments, suspension and closing with
confirmation, API keys shown once, emergency access told to the resident; and the refusals —
no ``staff.manage``, another organisation's account, a stale card, a missing CSRF token, a
field at fault."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from kiban.blocks import address, notifications, residents, staff
from kiban.kernel import clock
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.platform.models import WebSessionRecord
from kiban.web import create_app
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.staff_support import make_official

CHIYODA, SAPPORO = "131016", "011011"
PAGE = "/office/staff"


def _resident(
    session: Any, lg_code: str, family: str, given: str, kana: tuple[str, str]
) -> residents.PersonRead:
    town = address.list_towns(session, lg_code)[0]
    return residents.register_person(
        session,
        residents.PersonCreate(
            family_name=family,
            given_name=given,
            family_name_kana=kana[0],
            given_name_kana=kana[1],
            birth_date=date(1988, 8, 8),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="2番2号"
            ),
            effective_on=date(2018, 4, 1),
        ),
        actor="system:test",
    )


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=[CHIYODA, SAPPORO])
        newcomer = _resident(session, CHIYODA, "新任", "花子", ("シンニン", "ハナコ"))
        resident = _resident(session, CHIYODA, "住民", "一子", ("ジュウミン", "カズコ"))
    with transaction(engine) as session:
        admin = make_official(session, CHIYODA, "administrator", name="管理　太郎")
        clerk = make_official(session, CHIYODA, "counter", name="窓口　次郎")
        other_admin = make_official(session, SAPPORO, "administrator", name="札幌　管理")
    return {
        "admin": admin,
        "clerk": clerk,
        "other_admin": other_admin,
        "newcomer": newcomer,
        "resident": resident,
    }


def _cookie(engine: Engine, principal: staff.Principal) -> tuple[str, str]:
    with transaction(engine) as session:
        cookie, ws = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(principal.account_id),
            data={"organisation": principal.organisation, "role": principal.role},
            idle=timedelta(minutes=30),
            absolute=timedelta(hours=1),
            user_agent=None,
            source=None,
            actor="system:test",
        )
        return cookie, sessions.csrf_token(ws)


class Office:
    """A browser of one official's office session."""

    def __init__(self, client: TestClient, cookie: str, csrf: str) -> None:
        self.client, self.csrf = client, csrf
        client.cookies.set(OFFICE_COOKIE, cookie)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def http(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _as(http: TestClient, engine: Engine, principal: staff.Principal) -> Office:
    cookie, csrf = _cookie(engine, principal)
    return Office(http, cookie, csrf)


def _follow(office: Office, answer: Any) -> Any:
    assert answer.status_code == 303, answer.text[:500]
    return office.get(answer.headers["location"])


def test_the_list_shows_the_organisations_officials(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    page = office.get(f"{PAGE}?lang=ja")
    assert page.status_code == 200
    assert "窓口　次郎" in page.text
    assert "窓口" in page.text
    # Only this organisation's staff.
    assert "札幌　管理" not in page.text
    english = office.get(f"{PAGE}?lang=en")
    assert "Counter" in english.text
    assert "Administrator" in english.text


def test_an_official_is_added_from_the_register_and_the_read_is_recorded(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    newcomer: residents.PersonRead = world["newcomer"]
    # A part of a name does not browse the register.
    partial = office.post(f"{PAGE}/new/search?lang=ja", {"query": "新任"})
    assert partial.status_code == 422
    assert 'href="#query"' in partial.text
    found = office.post(f"{PAGE}/new/search?lang=ja", {"query": "シンニン　ハナコ"})
    assert found.status_code == 200
    assert newcomer.full_name in found.text
    assert str(newcomer.id) in found.text
    with transaction(engine) as session:
        reads = residents.get_reads_of_person(session, newcomer.id).records
        assert [r.purpose for r in reads] == ["staff_administration"]
        assert reads[0].actor == world["admin"].actor
    added = office.post(
        f"{PAGE}/new?lang=ja",
        {"person": str(newcomer.id), "role": "counter", "department": "citizens"},
    )
    page = _follow(office, added)
    assert page.status_code == 200
    assert f"{newcomer.full_name}を追加しました（役割：窓口、市民課）。" in page.text
    with transaction(engine) as session:
        account = staff.get_account_by_person(session, newcomer.id)
        assert account is not None
        assert account.name == newcomer.full_name
        assert [(m.organisation, m.role, m.department) for m in account.memberships] == [
            (CHIYODA, "counter", "citizens")
        ]


def test_roles_are_given_in_a_department_and_ended_after_confirming(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    clerk = world["clerk"].account_id
    given = office.post(
        f"{PAGE}/{clerk}/grant?lang=en", {"role": "review", "department": "welfare"}
    )
    page = _follow(office, given)
    assert "窓口　次郎 now holds the role Review in Welfare." in page.text
    assert "Given the role Review in Welfare" in page.text  # The history.
    with transaction(engine) as session:
        membership = next(
            m for m in staff.get_account(session, clerk).memberships if m.role == "review"
        )
    asked = office.post(f"{PAGE}/{clerk}/revoke?lang=en", {"membership": str(membership.id)})
    assert asked.status_code == 200
    assert "End the role Review in Welfare of 窓口　次郎?" in asked.text
    with transaction(engine) as session:
        assert "review" in {m.role for m in staff.get_account(session, clerk).memberships}
    ended = office.post(
        f"{PAGE}/{clerk}/revoke?lang=en", {"membership": str(membership.id), "confirmed": "yes"}
    )
    page = _follow(office, ended)
    assert "窓口　次郎 no longer holds the role Review in Welfare." in page.text
    with transaction(engine) as session:
        assert {m.role for m in staff.get_account(session, clerk).memberships} == {"counter"}


def test_a_bad_field_is_named_and_nothing_is_written(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    clerk = world["clerk"].account_id
    bad = office.post(f"{PAGE}/{clerk}/grant?lang=ja", {"role": "emperor"})
    assert bad.status_code == 422
    assert 'href="#role"' in bad.text
    assert "役割を選んでください。" in bad.text
    dept = office.post(f"{PAGE}/{clerk}/grant?lang=ja", {"role": "review", "department": "zoo"})
    assert dept.status_code == 422
    assert 'href="#department"' in dept.text
    no_reason = office.post(f"{PAGE}/{clerk}/status?lang=en", {"action": "suspend"})
    assert no_reason.status_code == 422
    assert 'href="#reason"' in no_reason.text
    with transaction(engine) as session:
        account = staff.get_account(session, clerk)
        assert account.status == "active"
        assert {m.role for m in account.memberships} == {"counter"}


def test_suspend_reinstate_and_close_with_a_reason(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    clerk = world["clerk"].account_id
    asked = office.post(
        f"{PAGE}/{clerk}/status?lang=ja", {"action": "suspend", "reason": "長期休暇"}
    )
    assert asked.status_code == 200
    assert "窓口　次郎" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    done = office.post(
        f"{PAGE}/{clerk}/status?lang=ja",
        {"action": "suspend", "reason": "長期休暇", "confirmed": "yes"},
    )
    page = _follow(office, done)
    assert "窓口　次郎のアカウントを停止しました" in page.text
    assert "理由：長期休暇" in page.text
    back = office.post(f"{PAGE}/{clerk}/status?lang=ja", {"action": "reinstate", "reason": "復帰"})
    assert "窓口　次郎のアカウントを再開しました" in _follow(office, back).text
    closed = office.post(
        f"{PAGE}/{clerk}/status?lang=ja",
        {"action": "close", "reason": "退職", "confirmed": "yes"},
    )
    page = _follow(office, closed)
    assert "窓口　次郎のアカウントを廃止しました" in page.text
    with transaction(engine) as session:
        account = staff.get_account(session, clerk)
        assert account.status == "closed"
        assert account.memberships == ()
    # The closed account stays on the list with its history.
    assert "廃止" in office.get(f"{PAGE}?lang=ja").text
    # An administrator does not suspend themselves.
    me = world["admin"].account_id
    own = office.post(
        f"{PAGE}/{me}/status?lang=en", {"action": "suspend", "reason": "x", "confirmed": "yes"}
    )
    assert own.status_code == 422
    assert 'href="#action"' in own.text


def test_a_service_accounts_key_is_shown_once_and_revoked_after_confirming(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    created = office.post(
        f"{PAGE}/services?lang=en", {"name": "住記連携システム", "role": "counter"}
    )
    page = _follow(office, created)
    assert "住記連携システム was added with the role Counter." in page.text
    account = uuid.UUID(created.headers["location"].split("/")[3].split("?")[0])
    none = office.post(f"{PAGE}/{account}/keys?lang=en", {"days": "30"})
    assert none.status_code == 422
    assert 'href="#permissions"' in none.text
    made = office.post(
        f"{PAGE}/{account}/keys?lang=en",
        {"permissions": ["procedures.tasks.read"], "days": "30"},
    )
    assert made.status_code == 200
    secret = re.search(r'<code id="new-key">(kiban_sk_[^<]+)</code>', made.text)
    assert secret is not None
    headers = {"Authorization": f"Bearer {secret.group(1)}"}
    assert http.get("/api/v1/registration/tasks", headers=headers).status_code == 200
    again = office.get(f"{PAGE}/{account}?lang=en")
    assert secret.group(1) not in again.text
    with transaction(engine) as session:
        key = staff.get_account(session, account).keys[0]
    asked = office.post(f"{PAGE}/{account}/keys/{key.id}/revoke?lang=en")
    assert asked.status_code == 200
    assert f"Revoke the API key {key.prefix} of 住記連携システム?" in asked.text
    assert http.get("/api/v1/registration/tasks", headers=headers).status_code == 200
    revoked = office.post(f"{PAGE}/{account}/keys/{key.id}/revoke?lang=en", {"confirmed": "yes"})
    assert (
        f"The API key {key.prefix} of 住記連携システム is revoked." in _follow(office, revoked).text
    )
    assert http.get("/api/v1/registration/tasks", headers=headers).status_code == 401


def test_emergency_access_is_granted_listed_and_told_to_the_resident(
    http: TestClient, engine: Engine, world: dict[str, Any]
) -> None:
    office = _as(http, engine, world["admin"])
    resident: residents.PersonRead = world["resident"]
    form = {
        "account": str(world["clerk"].account_id),
        "person": str(resident.id),
        "hours": "2",
        "reason": "災害時の安否確認のため",
    }
    too_long = office.post(f"{PAGE}/emergency?lang=ja", {**form, "hours": "100"})
    assert too_long.status_code == 422
    assert 'href="#hours"' in too_long.text
    stranger = office.post(f"{PAGE}/emergency?lang=ja", {**form, "person": str(uuid.uuid4())})
    assert stranger.status_code == 422
    assert 'href="#person"' in stranger.text
    myself = office.post(
        f"{PAGE}/emergency?lang=ja", {**form, "account": str(world["admin"].account_id)}
    )
    assert myself.status_code == 422
    assert 'href="#account"' in myself.text
    granted = office.post(f"{PAGE}/emergency?lang=ja", form)
    page = _follow(office, granted)
    assert "窓口　次郎" in page.text
    assert resident.full_name in page.text
    assert "災害時の安否確認のため" in page.text
    assert "ご本人にお知らせを送りました" in page.text
    with transaction(engine) as session:
        inbox = notifications.list_inbox(session, resident.id)
        assert [n.template for n in inbox.items] == ["staff.break_glass"]
        assert "災害時の安否確認のため" in inbox.items[0].body("ja")
        assert [g.reason for g in staff.list_break_glass_for_person(session, resident.id)] == [
            "災害時の安否確認のため"
        ]


def test_refusals(http: TestClient, engine: Engine, world: dict[str, Any]) -> None:
    clerk = world["clerk"].account_id
    # No staff.manage: 403 on every page.
    counter = _as(http, engine, world["clerk"])
    for path in (PAGE, f"{PAGE}/new", f"{PAGE}/emergency", f"{PAGE}/{clerk}"):
        answer = counter.get(path)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "staff.not_permitted"
    assert counter.post(f"{PAGE}/{clerk}/grant", {"role": "approval"}).status_code == 403
    # Another organisation's administrator: 403 on 千代田区's account, 404 on a stranger.
    other = _as(http, engine, world["other_admin"])
    refused = other.get(f"{PAGE}/{clerk}")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "staff.other_organisation"
    assert other.post(f"{PAGE}/{clerk}/grant", {"role": "review"}).status_code == 403
    assert other.get(f"{PAGE}/{uuid.uuid4()}").status_code == 404
    assert "窓口　次郎" not in other.get(PAGE).text
    # Without the CSRF token: refused, nothing written.
    admin = _as(http, engine, world["admin"])
    forged = http.post(f"{PAGE}/{clerk}/grant", data={"role": "review"})
    assert forged.status_code == 403
    # A card presented more than five minutes ago: to the card first, nothing written.
    with transaction(engine) as session:
        session.execute(
            update(WebSessionRecord)
            .where(WebSessionRecord.subject == str(world["admin"].account_id))
            .values(authenticated_at=clock.now() - timedelta(minutes=10))
        )
    stale = admin.post(f"{PAGE}/{clerk}/grant?lang=ja", {"role": "review"})
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/office/login/start?step_up=true")
    assert "next=%2Foffice%2Fstaff%2F" in stale.headers["location"]
    # Reading still works, and says the card will be asked for.
    page = admin.get(f"{PAGE}/{clerk}?lang=ja")
    assert page.status_code == 200
    assert "step_up=true" in page.text
    with transaction(engine) as session:
        assert {m.role for m in staff.get_account(session, clerk).memberships} == {"counter"}
        rows = session.scalars(select(WebSessionRecord.subject)).all()
        assert str(world["admin"].account_id) in rows
