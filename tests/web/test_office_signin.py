"""Officials sign in with their own card, choose an organisation and role among theirs, and
work in a server-side office session with CSRF tokens; the shared token only bootstraps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from kiban.blocks import address, residents
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry, WebSessionRecord
from kiban.platform.settings import get_settings
from kiban.web import create_app
from kiban.web.office.session import THROTTLE
from tests.blocks.identity.oidc_support import card_in_reader, path_of, sign_in_through_pages
from tests.office_support import csrf_of, office_sign_in, official_with_card
from tests.staff_support import make_official

CHIYODA, SAPPORO = "131016", "011011"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", "test-operator-token-0123456789")
    get_settings.cache_clear()
    THROTTLE.reset()
    with TestClient(create_app(), follow_redirects=False) as client:
        yield client
    THROTTLE.reset()


@pytest.fixture
def person(engine: Engine) -> residents.PersonRead:
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=[CHIYODA, SAPPORO])
        town = address.find_town(session, CHIYODA, "丸の内")
        return residents.register_person(
            session,
            residents.PersonCreate(
                family_name="千代田",
                given_name="一郎",
                family_name_kana="チヨダ",
                given_name_kana="イチロウ",
                birth_date=date(1980, 1, 1),
                sex=residents.Sex.MALE,
                address=residents.AddressInput(town_id=town.id, chome=1, block_number="1番1号"),
                effective_on=date(2020, 4, 1),
            ),
            actor="system:test",
        )


def test_an_official_signs_in_with_their_card_and_chooses_a_role(
    http: TestClient, engine: Engine, person: residents.PersonRead, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        _, card = official_with_card(session, person, CHIYODA, "counter", tmp_path / "c")
        make_official(session, SAPPORO, "review", person_id=person.id)
    assert http.get("/office").headers["location"] == "/office/login?next=/office"
    office_sign_in(http, card, SAPPORO, "review")
    home = http.get("/office?lang=en")
    assert home.status_code == 200, home.text
    assert "千代田\u3000一郎" in home.text
    assert "011011" in home.text
    assert "Review" in home.text
    with transaction(engine) as session:
        tags = list(session.scalars(select(AuditEntry.tag)))
    assert "staff:office:sign_in" in tags
    assert "staff:office:role_chosen" in tags
    # Sign out revokes the session on the server; the form needs the CSRF token.
    refused = http.post("/office/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    http.post("/office/logout", data={"csrf_token": csrf_of(home.text)})
    assert http.get("/office").status_code == 303


def test_a_card_without_a_staff_account_is_refused_and_audited(
    http: TestClient, engine: Engine, person: residents.PersonRead, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        card = card_in_reader(session, person, tmp_path / "c")
    start = http.get("/office/login/start")
    back = sign_in_through_pages(http, card, path_of(start.headers["location"]))
    refused = http.get(path_of(back))
    assert refused.status_code == 403
    assert http.get("/office").status_code == 303
    with transaction(engine) as session:
        tags = list(session.scalars(select(AuditEntry.tag)))
    assert "staff:office:sign_in_failed" in tags


def test_failed_sign_ins_are_throttled(http: TestClient) -> None:
    for _ in range(THROTTLE.limit):
        assert http.get("/office/callback?state=x&code=y").status_code == 400
    assert http.get("/office/callback?state=x&code=y").status_code == 429
    assert http.get("/office/login/start").status_code == 429


def test_office_forms_need_the_csrf_token(
    http: TestClient, engine: Engine, person: residents.PersonRead, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        _, card = official_with_card(session, person, CHIYODA, "approval", tmp_path / "c")
    office_sign_in(http, card, CHIYODA, "approval")
    answer = http.post(
        "/office/applications/00000000-0000-0000-0000-000000000000/claim", data={"version": 1}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "kiban.csrf_failed"


def test_the_shared_token_bootstraps_the_first_administrator_once(
    http: TestClient, person: residents.PersonRead
) -> None:
    token = {"Authorization": "Bearer test-operator-token-0123456789"}
    body = {"person_id": str(person.id), "name": "千代田　一郎"}
    first = http.post("/api/v1/staff/bootstrap", json=body, headers=token)
    assert first.status_code == 201, first.text
    assert first.json()["memberships"][0]["role"] == "administrator"
    again = http.post("/api/v1/staff/bootstrap", json=body, headers=token)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "staff.bootstrap_done"
    # The token does no ordinary work.
    listed = http.get("/api/v1/corporations", headers=token)
    assert listed.status_code == 401
    assert listed.json()["error"]["code"] == "staff.operator_token_retired"


def test_a_sensitive_action_asks_for_the_card_again(
    http: TestClient, engine: Engine, person: residents.PersonRead, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        _, card = official_with_card(session, person, "kiban", "administrator", tmp_path / "c")
        clerk = make_official(session, CHIYODA, "counter", name="窓口　三郎")
    csrf = office_sign_in(http, card, "kiban", "administrator")
    grant = f"/api/v1/staff/accounts/{clerk.account_id}/memberships"
    body = {"organisation": CHIYODA, "role": "review"}
    headers = {"X-CSRF-Token": csrf}
    # Just signed in: the card is fresh.
    assert http.post(grant, json=body, headers=headers).status_code == 200
    # Without the CSRF header a cookie-borne API call is refused.
    assert http.post(grant, json=body).status_code == 403
    # Ten minutes later the card is too old for managing staff ...
    with transaction(engine) as session:
        session.execute(
            update(WebSessionRecord)
            .where(WebSessionRecord.audience == "office")
            .values(authenticated_at=clock.now() - timedelta(minutes=10))
        )
    stale = http.post(grant, json=body, headers=headers)
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "staff.step_up_required"
    # ... but not for reading.
    assert http.get("/api/v1/staff/accounts?organisation=131016").status_code == 200
    # The card again (step-up), in the same session.
    start = http.get("/office/login/start?step_up=true&next=/office")
    back = sign_in_through_pages(http, card, path_of(start.headers["location"]))
    stepped = http.get(path_of(back))
    assert stepped.status_code == 303
    assert stepped.headers["location"] == "/office"
    assert http.post(grant, json=body, headers=headers).status_code == 200
    with transaction(engine) as session:
        tags = list(session.scalars(select(AuditEntry.tag)))
    assert "staff:office:step_up" in tags
