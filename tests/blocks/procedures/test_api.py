"""``/api/v1/registration``: services (public), a resident's applications (My page token),
officials' tasks (operator token) — the whole toy procedure over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import identity, procedures, residents
from kiban.cardreader.client import sign_challenge
from kiban.platform.settings import get_settings
from tests.blocks.identity.conftest import TestClient
from tests.blocks.identity.oidc_support import (
    PINS,
    ReaderCard,
    Rp,
    exchange,
    query_of,
    sign_in_through_pages,
)
from tests.staff_support import bearer, municipality_key

from .conftest import TOY

OPERATOR_TOKEN = "test-operator-token-procedures"  # noqa: S105 - a test fixture value.

BASE = "/api/v1/registration"


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", OPERATOR_TOKEN)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


def _bearer(http: TestClient, session: Session, card: ReaderCard) -> dict[str, str]:
    portal = identity.ensure_portal_client(session)
    session.commit()
    rp = Rp(portal.client_id, None, portal.redirect_uris[0], ["openid"])
    location = sign_in_through_pages(
        http, card, "/oidc/authorize?" + urlencode(rp.authorize_params())
    )
    tokens = exchange(http, rp, query_of(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def test_the_services_are_public(http: TestClient, toy: procedures.ProcedureDef) -> None:
    listed = http.get(f"{BASE}/services")
    assert listed.status_code == 200
    assert TOY in [s["code"] for s in listed.json()]
    one = http.get(f"{BASE}/services/{TOY}")
    assert one.status_code == 200
    body = one.json()
    assert body["sla_days"] == 7
    assert {f["name"]: f["prefilled_from"] for f in body["fields"]}["address"] == (
        "Resident register"
    )
    assert {a["name"]: a["role"] for a in body["actions"]}["approve"] == "official"
    missing = http.get(f"{BASE}/services/test.nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "procedures.procedure_not_found"


def test_a_resident_applies_and_an_official_completes_the_task(
    http: TestClient,
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    card: ReaderCard,
) -> None:
    me = _bearer(http, session, card)

    started = http.post(f"{BASE}/applications", json={"service": TOY}, headers=me)
    assert started.status_code == 201, started.text
    app = started.json()
    assert app["values"]["address"] == resident.address.text
    source = next(f["source"] for f in app["fields"] if f["name"] == "address")
    assert source["registry_en"] == "Resident register"

    # Typing over a prefilled fact is refused and names the field.
    refused = http.patch(
        f"{BASE}/applications/{app['id']}",
        json={"values": {"address": "どこか"}, "expected_version": app["version"]},
        headers=me,
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "procedures.prefilled_field",
        "message": refused.json()["error"]["message"],
        "field": "address",
    }

    saved = http.patch(
        f"{BASE}/applications/{app['id']}",
        json={
            "values": {"dog_name": "ハチ", "breed": "akita", "born_on": "2023-11-10"},
            "expected_version": app["version"],
        },
        headers=me,
    )
    assert saved.status_code == 200, saved.text
    to_sign = http.get(f"{BASE}/applications/{app['id']}/submission", headers=me).json()
    assert to_sign["document"]["fields"][4]["value"] == "ハチ"
    answer = sign_challenge(
        card.store, card.card_number, PINS, to_sign["signed_data"], keys=("auth", "signing")
    )
    submitted = http.post(
        f"{BASE}/applications/{app['id']}/submit",
        json={
            "expected_version": to_sign["version"],
            "signing_certificate": answer["signing_certificate"],
            "signature": answer["signing_signature"],
        },
        headers=me,
    )
    assert submitted.status_code == 200, submitted.text
    app = submitted.json()
    assert app["state"] == "submitted"
    assert app["timeline"]["expected_completion"] is not None

    # The office's queue, claim and complete.
    OPERATOR = bearer(municipality_key(resident.address.lg_code, "approval"))  # noqa: N806
    other = bearer(municipality_key("011011", "approval"))
    # Another municipality's official sees and touches nothing of this office's.
    for denied in (
        http.get(f"{BASE}/tasks", params={"office": resident.address.lg_code}, headers=other),
        http.get(f"{BASE}/tasks/{app['id']}", headers=other),
        http.post(
            f"{BASE}/tasks/{app['id']}/claim",
            json={"expected_version": app["version"]},
            headers=other,
        ),
    ):
        assert denied.status_code == 403, denied.text
        assert denied.json()["error"]["code"] == "staff.other_organisation"
    queue = http.get(f"{BASE}/tasks", params={"office": resident.address.lg_code}, headers=OPERATOR)
    assert [t["id"] for t in queue.json()["items"]] == [app["id"]]
    claimed = http.post(
        f"{BASE}/tasks/{app['id']}/claim",
        json={"expected_version": app["version"]},
        headers=OPERATOR,
    )
    assert claimed.status_code == 200, claimed.text
    stale = http.post(
        f"{BASE}/tasks/{app['id']}/complete",
        json={"action": "approve", "expected_version": app["version"]},
        headers=OPERATOR,
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "procedures.version_conflict"
    done = http.post(
        f"{BASE}/tasks/{app['id']}/complete",
        json={
            "action": "approve",
            "expected_version": claimed.json()["version"],
        },
        headers=OPERATOR,
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "registered"
    # The journal names the official (their account, organisation and role), not a typed name.
    actor = done.json()["journal"][-2]["actor"]
    assert actor.startswith("staff:")
    assert actor.endswith(f"@{resident.address.lg_code}/key")

    report = http.get(f"{BASE}/services/{TOY}/prefill-report", headers=OPERATOR)
    assert report.status_code == 200
    assert report.json() == {
        "code": TOY,
        "applications": 1,
        "typed": 3,
        "prefilled": 3,
        "retyped_prefilled": 0,
    }
    assert http.get(f"{BASE}/services/{TOY}/prefill-report").status_code == 401

    mine = http.get(f"{BASE}/applications", headers=me).json()
    assert [(a["id"], a["state"]) for a in mine["items"]] == [(app["id"], "registered")]
    again = http.get(f"{BASE}/applications/{app['id']}", headers=me).json()
    assert again["outputs"]["tag_number"].startswith("D-")
    assert [e["action"] for e in again["journal"]][-2:] == ["approve", "effect"]


def test_auth_is_required_and_other_peoples_applications_do_not_exist(
    http: TestClient,
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    spouse: residents.PersonRead,
    card: ReaderCard,
) -> None:
    missing = http.get(f"{BASE}/applications").json()["error"]["code"]
    assert missing == "identity.my_page_token_required"
    bogus = http.get(f"{BASE}/applications", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    assert bogus.json()["error"]["code"] == "identity.my_page_token_invalid"
    assert http.get(f"{BASE}/tasks").status_code == 401
    complete = http.post(
        f"{BASE}/tasks/00000000-0000-0000-0000-000000000000/complete",
        json={"action": "approve", "expected_version": 1},
    )
    assert complete.status_code == 401

    # The spouse's application is not the resident's to read or change.
    theirs = procedures.do_start_application(
        session, TOY, applicant=spouse.id, actor=procedures.actor_of(spouse.id)
    )
    session.commit()
    me = _bearer(http, session, card)
    hidden = http.get(f"{BASE}/applications/{theirs.id}", headers=me)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "procedures.application_not_found"
    changed = http.patch(
        f"{BASE}/applications/{theirs.id}",
        json={"values": {"dog_name": "x"}, "expected_version": 1},
        headers=me,
    )
    assert changed.status_code == 404
    bad = http.post(
        f"{BASE}/applications/{theirs.id}/submit",
        json={"expected_version": 1, "signing_certificate": "***", "signature": "***"},
        headers=me,
    )
    assert bad.status_code in (404, 422)
