"""A birth over HTTP: the hospital's certificate through the mesh, the parent's 出生届 in the
portal (prefilled, the name checked), signed with the card, accepted by the mother's office (not
another's), the child on the register with a new individual number, and the notices."""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import mesh, notifications, procedures, residents
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.agencies import make_birth
from kiban.cli.card import issue_into
from kiban.kernel import identifiers
from kiban.life_events import birth
from kiban.platform import events
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.web.portal_support import RESIDENT_COOKIE, resident_cookie

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

from tests.blocks.identity.oidc_support import ReaderCard
from tests.office_support import new_official, office_sign_in

from .journey import AUTH_PIN, NEW_LG, OLD_LG, SIGNING_PIN, Family, build_family


@dataclass
class Portal:
    resident: TestClient
    office: TestClient
    family: Family  # applicant: the mother, who holds the card that signs
    officials: dict[str, ReaderCard]


@pytest.fixture
def portal(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()
    events.load_subscribers()
    with transaction(engine) as session:
        couple = build_family(session, tmp_path / "cards", consent_bank=False)
        store = CardStore(tmp_path / "cards")
        card = issue_into(
            session, store, couple.spouse.id, auth_pin=AUTH_PIN, signing_pin=SIGNING_PIN, actor="t"
        )
        family = Family(couple.spouse, couple.applicant, card, store)
        # The counter accepts births; each municipality has one official with their card.
        officials = {
            lg: new_official(session, lg, "counter", tmp_path / f"official-{lg}")[1]
            for lg in (OLD_LG, NEW_LG)
        }
    app = create_app()
    with (
        TestClient(app, follow_redirects=False) as resident,
        TestClient(app, follow_redirects=False) as office,
    ):
        resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, family.applicant.id))
        yield Portal(resident, office, family, officials)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _version(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


def _deliver(engine: Engine) -> None:
    for _ in range(3):
        events.deliver_pending(engine)
        with Session(engine) as session:
            mesh.deliver_due(session)
            session.commit()


def _hospital(engine: Engine, portal: Portal) -> str:
    with transaction(engine) as session:
        sent = make_birth(
            session, portal.family.applicant.id, sex=residents.Sex.MALE, weight_grams=3120
        )
    return str(sent["birth_application"])


def _open(portal: Portal) -> tuple[str, str]:
    start = portal.resident.get("/portal/procedures/birth?lang=en")
    assert start.status_code == 200
    assert "Continue your birth notice" in start.text
    found = re.search(r'href="(/portal/applications/[0-9a-f-]+)\?lang=en"', start.text)
    assert found is not None
    url = found.group(1)
    return url, portal.resident.get(f"{url}?lang=en").text


def _name(page: str, **changes: str) -> dict[str, Any]:
    return {
        "csrf_token": _csrf(page),
        "version": str(_version(page)),
        "child_family_name": "引越",
        "child_given_name": "陽翔",
        "child_family_name_kana": "ヒッコシ",
        "child_given_name_kana": "ハルト",
        "relationship": "子",
    } | changes


def _sign(portal: Portal, url: str) -> Any:
    review = portal.resident.get(f"{url}/review?lang=en").text
    challenge = re.search(r'name="challenge" value="([^"]+)"', review)
    request_id = re.search(r'name="request_id" value="([^"]+)"', review)
    assert challenge is not None
    assert request_id is not None
    answer = sign_challenge(
        portal.family.store,
        portal.family.card.card_number,
        {"auth": AUTH_PIN, "signing": SIGNING_PIN},
        challenge.group(1),
        ("auth", "signing"),
    )
    return portal.resident.post(
        f"{url}/signed?lang=en", data={"request_id": request_id.group(1), **answer}
    )


def test_no_birth_notice_without_the_hospitals_certificate(portal: Portal, engine: Engine) -> None:
    start = portal.resident.get("/portal/procedures/birth?lang=en")
    assert start.status_code == 200
    assert "No birth certificate from a hospital has arrived" in start.text
    assert "/portal/procedures/birth/start" not in start.text
    token = _csrf(portal.resident.get("/portal/procedures/move_out?lang=en").text)
    refused = portal.resident.post(
        "/portal/procedures/birth/start?lang=en", data={"csrf_token": token}
    )
    assert refused.status_code == 404
    assert "No birth certificate data from a hospital has arrived" in refused.text
    with transaction(engine) as session:
        assert procedures.list_applications(session, code=birth.BIRTH).total == 0


def test_a_birth_from_the_hospital_to_the_register_and_the_inbox(
    portal: Portal, engine: Engine
) -> None:
    opened_id = _hospital(engine, portal)
    url, form = _open(portal)
    assert url == f"/portal/applications/{opened_id}"
    # The hospital's facts and the register's, each with its source; not typed again.
    assert "3120" in form
    assert "From the Birth certificate (the hospital)" in form
    assert "From the Resident register" in form
    assert portal.family.applicant.full_name in form
    assert 'name="weight_grams"' not in form

    # A character outside 常用漢字 + 人名用漢字 + kana: the field is named, nothing is saved.
    refused = portal.resident.post(f"{url}/save?lang=en", data=_name(form, child_given_name="𠮷子"))
    assert refused.status_code == 422
    assert 'id="child_given_name-error"' in refused.text
    assert "𠮷" in refused.text
    assert _version(refused.text) == _version(form)
    # A reading in hiragana is refused too.
    kana = portal.resident.post(
        f"{url}/save?lang=en", data=_name(form, child_given_name_kana="はると")
    )
    assert kana.status_code == 422
    assert 'id="child_given_name_kana-error"' in kana.text

    review = portal.resident.post(f"{url}/save?lang=en", data=_name(form))
    assert review.status_code == 200
    assert "陽翔" in review.text
    submitted = _sign(portal, url)
    assert submitted.status_code == 303
    assert submitted.headers["location"].startswith(f"{url}/receipt")
    application_id = url.rsplit("/", 1)[1]

    # Another municipality's official may not see or take it.
    portal.office.cookies.clear()
    csrf = office_sign_in(portal.office, portal.officials[NEW_LG], NEW_LG, "counter")
    other = portal.office.get(f"/office/applications/{application_id}?lang=en")
    assert other.status_code == 403
    refused_claim = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"version": "3", "csrf_token": csrf},
    )
    assert refused_claim.status_code == 403

    # The mother's office accepts it.
    portal.office.cookies.clear()
    csrf = office_sign_in(portal.office, portal.officials[OLD_LG], OLD_LG, "counter")
    assert application_id in portal.office.get("/office/tasks?lang=en").text
    page = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    claimed = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"csrf_token": csrf, "version": str(_version(page))},
    )
    assert claimed.status_code == 303
    page = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    accepted = portal.office.post(
        f"/office/applications/{application_id}/act?lang=en",
        data={
            "csrf_token": csrf,
            "version": str(_version(page)),
            "action": "accept",
            "confirmed": "true",
        },
    )
    assert accepted.status_code == 303, accepted.text
    _deliver(engine)

    with transaction(engine) as session:
        app = procedures.get_application(session, uuid.UUID(application_id))
        assert app.state == "accepted"
        child_id = uuid.UUID(app.outputs["child_id"])
        child = residents.get_person(session, child_id)
        assert child.full_name == "引越\u3000陽翔"
        assert child.household_id == portal.family.applicant.household_id
        assert child.sex == residents.Sex.MALE
        clerk = residents.Reader(
            actor="official:131016:clerk", actor_id="acct-7", organisation=OLD_LG, role="official"
        )
        certificate = residents.access_certificate_by_person_id(
            session, clerk, child_id, include_individual_number=True, route="GET /office/x"
        )
        number = certificate.entries[0].individual_number
        assert number is not None
        assert identifiers.is_valid_my_number(number)
        templates = [
            n.template for n in notifications.list_inbox(session, portal.family.applicant.id).items
        ]
    for template in (
        birth.notices.DATA_RECEIVED,
        birth.notices.RECEIVED,
        birth.notices.ACCEPTED,
        birth.notices.INSURANCE_CARD,
        birth.notices.CHILD_ALLOWANCE,
    ):
        assert template in templates
    inbox = portal.resident.get("/portal/inbox?lang=en").text
    assert "Child allowance for 引越　陽翔" in inbox
    assert "Routine vaccinations: offered for" in inbox
    assert "Medical expenses for infants (Tokyo wards): offered for" in inbox
    assert "Medical expenses for children" not in inbox
    assert "is now insured with" in inbox
    status = portal.resident.get(f"{url}?lang=en").text
    assert "Accepted by the office" in status
    assert "引越\u3000陽翔" in status
