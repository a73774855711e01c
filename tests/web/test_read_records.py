"""Every route of the register's API and office pages is accounted for: a read records one read
per person it shows (with the route, the items and the reader), a write is audited by its
action. The routes are found by walking the application, so a new route fails here until it
is classified, and a new read route is called and must record its reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents
from kiban.blocks.residents.models import ReadRecord
from kiban.kernel import clock
from kiban.life_events import moving
from kiban.platform.db import transaction
from kiban.platform.webkit import DbSession, RouteName, require_operator, template_of
from kiban.web import create_app
from tests.life_events.journey import OLD_LG, build_family, sign_and_submit

# --- Who calls: the only part of these tests that depends on how officials sign in ----------


def api_headers(token: str) -> dict[str, str]:
    """The API's credentials (the operator token today)."""
    return {"Authorization": f"Bearer {token}"}


def sign_in_to_the_office(client: TestClient, token: str, lg_code: str) -> None:
    """Start an office session for ``lg_code``'s office on ``client``."""
    signed_in = client.post(
        "/office/login",
        data={"token": token, "lg_code": lg_code, "next": "/office"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303


# The readers the records must name, as (actor, organisation, role): the API's caller and the
# official signed in to an office.
API_READER = ("operator", None, "operator")


def office_reader(lg_code: str) -> tuple[str, str | None, str]:
    return (f"official:{lg_code}:operator", lg_code, "official")


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
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path.startswith(PREFIXES):
            path = template_of(route.path)
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


def unrecorded_reads(client: TestClient, engine: Engine, token: str, world: World) -> list[str]:
    """Call every GET route under the register's prefixes (the office signed in, the operator
    token sent) and say which did not record exactly the reads it should."""
    sign_in_to_the_office(client, token, CHIYODA)
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)
    problems: list[str] = []
    assert isinstance(client.app, FastAPI)
    for route in served_routes(client.app):
        if not route.startswith("GET "):
            continue
        path = route.removeprefix("GET ").replace("{person_id}", str(world.person))
        query = QUERY.get(route)
        response = client.get(f"{path}?{query}" if query else path, headers=api_headers(token))
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
            problems.extend(_unexpected(route, records, world))
    return problems


def _unexpected(route: str, records: list[ReadRecord], world: World) -> list[str]:
    problems = []
    shown, purpose, items = EXPECTED[route]
    if sorted(r.person_id for r in records) != sorted(shown(world)):
        problems.append(f"{route} did not record exactly one read per person shown")
    if {(r.purpose, tuple(r.items)) for r in records} != {(purpose, items)}:
        problems.append(f"{route} recorded {[(r.purpose, r.items) for r in records][:1]}")
    # The API's caller is the operator; an office page's reader is the signed-in official.
    who = {(r.actor, r.organisation, r.role) for r in records}
    expected_who = {API_READER if route.startswith("GET /api/") else office_reader(CHIYODA)}
    if who != expected_who:
        problems.append(f"{route} recorded the reader as {who}")
    return problems


def test_every_read_route_records_one_read_per_person_shown(
    client: TestClient, engine: Engine, operator_token: str
) -> None:
    with transaction(engine) as session:
        world = World(session)

    assert unrecorded_reads(client, engine, operator_token, world) == []


def test_the_walk_catches_a_new_route_that_reads_without_recording(
    database_url: str, engine: Engine, operator_token: str
) -> None:
    with transaction(engine) as session:
        world = World(session)
    app = create_app()

    @app.get("/api/v1/residents/{person_id}/forgotten", dependencies=[Depends(require_operator)])
    def forgotten(person_id: uuid.UUID, session: DbSession) -> residents.PersonRead:
        return residents.get_person(session, person_id)

    # A route with a converter that records is fine: its records name the plain template.
    @app.get("/api/v1/residents/{person_id:uuid}/kept", dependencies=[Depends(require_operator)])
    def kept(person_id: uuid.UUID, session: DbSession, route: RouteName) -> residents.PersonRead:
        return residents.access_person_by_id(
            session, "operator", person_id, purpose=REGISTER, route=route
        )

    with TestClient(app) as client:
        problems = unrecorded_reads(client, engine, operator_token, world)

    assert problems == [
        "GET /api/v1/residents/{person_id}/forgotten showed personal data and recorded no read"
    ]
    assert "GET /api/v1/residents/{person_id}/forgotten" not in AUDIT


def test_a_refused_or_failed_read_records_nothing(
    client: TestClient, engine: Engine, operator_token: str
) -> None:
    with transaction(engine) as session:
        world = World(session)
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)

    assert client.get(f"/api/v1/residents/{world.person}").status_code == 401
    missing = client.get(f"/api/v1/residents/{uuid.uuid4()}", headers=api_headers(operator_token))
    assert missing.status_code == 404

    assert _new_records(engine, seen) == []


def test_the_task_queue_and_an_application_record_the_applicants_name(
    client: TestClient, engine: Engine, operator_token: str, tmp_path: Path
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
    seen: set[uuid.UUID] = set()
    _new_records(engine, seen)
    sign_in_to_the_office(client, operator_token, OLD_LG)

    queue = client.get("/office/tasks?lang=en")
    page = client.get(f"/office/applications/{draft.id}?lang=en")

    assert queue.status_code == page.status_code == 200
    assert family.applicant.full_name in queue.text
    records = _new_records(engine, seen)
    assert [(r.person_id, r.route, r.items, r.purpose, r.organisation) for r in records] == [
        (family.applicant.id, route, ["name"], residents.ReadPurpose.PROCEDURE, OLD_LG)
        for route in ("GET /office/tasks", "GET /office/applications/{application_id}")
    ]
