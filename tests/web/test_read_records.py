"""Every route of the register's API and office pages is accounted for: a read records one read
per person it shows (with the route, the items and the reader), a write is audited by its
action. The routes are found by walking the application, so a new route fails here until it
is classified, and a new read route is called and must record its reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks import address, procedures, residents, staff
from kiban.blocks.residents.models import ReadRecord
from kiban.kernel import clock
from kiban.life_events import moving
from kiban.platform.authority import Acting
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, RouteName, template_of
from kiban.web import create_app
from tests.life_events.journey import NEW_LG, OLD_LG, build_family, sign_and_submit
from tests.office_support import office_sign_in, official_with_card
from tests.staff_support import bearer, make_key

# --- Who calls: the only part of these tests that depends on how officials sign in ----------

# The role the callers work in: it reads the register, issues certificates and reads the tasks.
ROLE = "counter"
SAPPORO = NEW_LG  # Where the signing-in official lives, so that they are on no page read here.

Reader = tuple[str, str | None, str | None]
"""A reader as its records name it: (actor, organisation, role)."""


def api_key(engine: Engine, lg_code: str) -> str:
    """A service account's API key of ``lg_code`` with :data:`ROLE`'s permissions."""
    with transaction(engine) as session:
        return make_key(session, lg_code, ROLE)


def api_headers(key: str) -> dict[str, str]:
    """The API's credentials: a service account's key as a bearer token."""
    return bearer(key)


def api_reader(engine: Engine, key: str) -> Reader:
    """Who the records of the API's caller must name: the key's principal (no role: a key)."""
    with transaction(engine) as session:
        principal = staff.principal_from_key(session, key)
    return (principal.actor, principal.organisation, principal.role)


def sign_in_to_the_office(
    client: TestClient, engine: Engine, lg_code: str, directory: Path
) -> Reader:
    """Start an office session for ``lg_code``'s office on ``client``: an official of
    ``lg_code`` with :data:`ROLE` signs in with their card. Returns who the office pages'
    records must name."""
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=[SAPPORO])
        town = address.list_towns(session, SAPPORO)[0]
        person = residents.register_person(
            session,
            residents.PersonCreate(
                family_name="職員",
                given_name="太郎",
                family_name_kana="ショクイン",
                given_name_kana="タロウ",
                birth_date=date(1985, 5, 5),
                sex=residents.Sex.MALE,
                address=residents.AddressInput(
                    town_id=town.id, chome=1 if town.has_chome else None, block_number="1番1号"
                ),
                effective_on=date(2015, 4, 1),
            ),
            actor="system:test",
        )
        session.commit()
        principal, card = official_with_card(session, person, lg_code, ROLE, directory)
    office_sign_in(client, card, lg_code, ROLE)
    return (principal.actor, principal.organisation, principal.role)


@dataclass(frozen=True)
class Callers:
    """The API's caller (a key) and the official signed in to the office on the client."""

    key: str
    api_reader: Reader
    office_reader: Reader


def sign_in_callers(client: TestClient, engine: Engine, lg_code: str, directory: Path) -> Callers:
    key = api_key(engine, lg_code)
    office = sign_in_to_the_office(client, engine, lg_code, directory)
    return Callers(key=key, api_reader=api_reader(engine, key), office_reader=office)


@pytest.fixture(autouse=True)
def _office_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The card sign-in goes through kiban's OpenID provider at the test client's origin."""
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()


# --- The register's routes --------------------------------------------------------------------

PREFIXES = ("/api/v1/residents", "/office/residents")
CHIYODA = "131016"
REGISTER = residents.ReadPurpose.REGISTER_ADMINISTRATION
CERTIFICATE = residents.ReadPurpose.CERTIFICATE

# What each route does with the register's personal data (the "audit" column of the route
# inventory): ``read`` routes record a read per person shown, ``audited write`` routes are
# actions that write their own audit entry (residents:person:<reason>).
AUDIT: dict[str, str] = {
    "GET /api/v1/residents": "read",
    "GET /api/v1/residents/{person_id}": "read",
    "GET /api/v1/residents/{person_id}/history": "read",
    "GET /api/v1/residents/{person_id}/certificate": "read",
    "GET /office/residents": "read",
    "GET /office/residents/{person_id}/certificate": "read",
    "POST /api/v1/residents": "audited write",
    "POST /api/v1/residents/births": "audited write",
    "POST /api/v1/residents/{person_id}/move-out": "audited write",
    "POST /api/v1/residents/{person_id}/move-in": "audited write",
    "POST /api/v1/residents/{person_id}/move-within": "audited write",
    "POST /api/v1/residents/{person_id}/death": "audited write",
    "POST /api/v1/residents/{person_id}/name": "audited write",
}

# The query each read route is called with (a route not listed is called without one).
QUERY: dict[str, str] = {
    "GET /api/v1/residents": f"municipality={CHIYODA}&limit=5",
    "GET /api/v1/residents/{person_id}/certificate": "household=true",
    "GET /office/residents": f"municipality={CHIYODA}",
    "GET /office/residents/{person_id}/certificate": "household=true",
}


def served_routes(app: FastAPI) -> list[str]:
    """``METHOD path`` of every route under the register's prefixes, as the app serves them."""
    found: list[str] = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith(PREFIXES):
            path = template_of(route.path or "")
            found.extend(f"{method} {path}" for method in sorted(route.methods or ()))
    return found


def test_every_register_route_says_what_it_records() -> None:
    routes = served_routes(create_app())

    assert sorted(set(routes) - AUDIT.keys()) == [], "classify the new route in AUDIT"
    assert sorted(AUDIT.keys() - set(routes)) == [], "a classified route is gone"
    assert all(r.startswith("GET ") == (AUDIT[r] == "read") for r in routes)


class World:
    """A seeded register, a household of several people and the people each page shows."""

    def __init__(self, session: Session) -> None:
        residents.seed_population(session, size="tiny", seed=11)
        session.commit()
        everyone = residents.list_people(session, lg_code=CHIYODA, limit=1000)
        self.first_page = [p.id for p in everyone[:50]]
        self.first_five = [p.id for p in everyone[:5]]
        households: dict[uuid.UUID, list[uuid.UUID]] = {}
        for person in everyone:
            households.setdefault(person.household_id, []).append(person.id)
        self.household = max(households.values(), key=len)
        assert len(self.household) >= 2
        self.person = self.household[0]


# Who each read route shows, and the purpose and items each of them is recorded with.
Expectation = tuple[Callable[[World], list[uuid.UUID]], residents.ReadPurpose, tuple[str, ...]]
EXPECTED: dict[str, Expectation] = {
    "GET /api/v1/residents": (lambda w: w.first_five, REGISTER, residents.PERSON_ITEMS),
    "GET /api/v1/residents/{person_id}": (lambda w: [w.person], REGISTER, residents.PERSON_ITEMS),
    "GET /api/v1/residents/{person_id}/history": (
        lambda w: [w.person],
        REGISTER,
        residents.HISTORY_ITEMS,
    ),
    "GET /api/v1/residents/{person_id}/certificate": (
        lambda w: w.household,
        CERTIFICATE,
        residents.CERTIFICATE_ITEMS,
    ),
    "GET /office/residents": (lambda w: w.first_page, REGISTER, residents.PERSON_ITEMS),
    "GET /office/residents/{person_id}/certificate": (
        lambda w: w.household,
        CERTIFICATE,
        residents.CERTIFICATE_ITEMS,
    ),
}


def _new_records(engine: Engine, seen: set[uuid.UUID]) -> list[ReadRecord]:
    with transaction(engine) as session:
        records = [
            r
            for r in session.scalars(select(ReadRecord).order_by(ReadRecord.read_at))
            if r.id not in seen
        ]
        session.expunge_all()
    seen.update(r.id for r in records)
    return records


def unrecorded_reads(
    client: TestClient, engine: Engine, callers: Callers, world: World
) -> list[str]:
    """Call every GET route under the register's prefixes (the office signed in, the API key
    sent) and say which did not record exactly the reads it should."""
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)
    problems: list[str] = []
    assert isinstance(client.app, FastAPI)
    for route in served_routes(client.app):
        if not route.startswith("GET "):
            continue
        path = route.removeprefix("GET ").replace("{person_id}", str(world.person))
        query = QUERY.get(route)
        response = client.get(
            f"{path}?{query}" if query else path, headers=api_headers(callers.key)
        )
        assert response.status_code == 200, (route, response.text[:300])
        records = _new_records(engine, seen)
        if not records:
            problems.append(f"{route} showed personal data and recorded no read")
            continue
        if {r.route for r in records} != {route}:
            problems.append(f"{route} recorded the route as {sorted({r.route for r in records})}")
        if "{person_id}" in route and world.person not in {r.person_id for r in records}:
            problems.append(f"{route} did not record a read of the person it opened")
        if route in EXPECTED:
            problems.extend(_unexpected(route, records, world, callers))
    return problems


def _unexpected(route: str, records: list[ReadRecord], world: World, callers: Callers) -> list[str]:
    problems = []
    shown, purpose, items = EXPECTED[route]
    if sorted(r.person_id for r in records) != sorted(shown(world)):
        problems.append(f"{route} did not record exactly one read per person shown")
    if {(r.purpose, tuple(r.items)) for r in records} != {(purpose, items)}:
        problems.append(f"{route} recorded {[(r.purpose, r.items) for r in records][:1]}")
    # The API's caller is the key's service account; an office page's reader is the signed-in
    # official.
    who = {(r.actor, r.organisation, r.role) for r in records}
    api = route.startswith("GET /api/")
    expected_who = {callers.api_reader if api else callers.office_reader}
    if who != expected_who:
        problems.append(f"{route} recorded the reader as {who}")
    return problems


def test_every_read_route_records_one_read_per_person_shown(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        world = World(session)
    callers = sign_in_callers(client, engine, CHIYODA, tmp_path / "cards")

    assert unrecorded_reads(client, engine, callers, world) == []


def test_the_walk_catches_a_new_route_that_reads_without_recording(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        world = World(session)
    app = create_app()

    @app.get("/api/v1/residents/{person_id}/forgotten")
    def forgotten(person_id: uuid.UUID, session: DbSession, actor: Acting) -> residents.PersonRead:
        return residents.get_person(session, person_id)

    # A route with a converter that records is fine: its records name the plain template.
    @app.get("/api/v1/residents/{person_id:uuid}/kept")
    def kept(
        person_id: uuid.UUID, session: DbSession, actor: Acting, route: RouteName
    ) -> residents.PersonRead:
        return residents.access_person_by_id(
            session, actor, person_id, purpose=REGISTER, route=route
        )

    with TestClient(app) as client:
        callers = sign_in_callers(client, engine, CHIYODA, tmp_path / "cards")
        problems = unrecorded_reads(client, engine, callers, world)

    assert problems == [
        "GET /api/v1/residents/{person_id}/forgotten showed personal data and recorded no read"
    ]
    assert "GET /api/v1/residents/{person_id}/forgotten" not in AUDIT


def test_a_refused_or_failed_read_records_nothing(client: TestClient, engine: Engine) -> None:
    with transaction(engine) as session:
        world = World(session)
    key = api_key(engine, CHIYODA)
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)

    assert client.get(f"/api/v1/residents/{world.person}").status_code == 401
    missing = client.get(f"/api/v1/residents/{uuid.uuid4()}", headers=api_headers(key))
    assert missing.status_code == 404

    assert _new_records(engine, seen) == []


def test_the_task_queue_and_an_application_record_the_applicants_name(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
        actor = procedures.actor_of(family.applicant.id)
        draft = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=family.applicant.id, actor=actor
        )
        draft = procedures.do_save_draft(
            session,
            draft.id,
            {
                "destination": moving.place_destination(session, "札幌市中央区北一条西2-1-1").text,
                "moved_on": clock.today_jst().isoformat(),
            },
            expected_version=draft.version,
            actor=actor,
        )
        sign_and_submit(session, family, draft)
    sign_in_to_the_office(client, engine, OLD_LG, tmp_path / "official")
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)

    queue = client.get("/office/tasks?lang=en")
    page = client.get(f"/office/applications/{draft.id}?lang=en")

    assert queue.status_code == page.status_code == 200
    assert family.applicant.full_name in queue.text
    records = _new_records(engine, seen)
    assert [(r.person_id, r.route, r.items, r.purpose, r.organisation) for r in records] == [
        (family.applicant.id, route, ["name"], residents.ReadPurpose.PROCEDURE, OLD_LG)
        for route in ("GET /office/tasks", "GET /office/applications/{application_id}")
    ]
