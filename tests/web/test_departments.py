"""Departments mean something: a move-in is the citizens' department's (市民課) work.

A counter clerk whose role is held in 市民課 claims a move-in task; a counter clerk of the
same municipality whose role is held in 福祉課 is refused (403 ``staff.other_department``) and
does not see it in the queue; a role held for the whole organisation (no department) works.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.blocks import procedures, staff
from kiban.kernel import clock
from kiban.life_events import moving
from kiban.platform.db import transaction
from kiban.web import create_app
from tests.life_events.journey import (
    NEW_ADDRESS,
    NEW_LG,
    OLD_LG,
    act_as_official,
    build_family,
    sign_and_submit,
)
from tests.staff_support import ACTOR, bearer, ensure_organisation, make_key


@pytest.fixture
def move_in(engine: Engine, tmp_path: Path) -> procedures.ApplicationRead:
    """A move-in reserved at the new office (011011): a task of its 市民課."""
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards")
        actor = procedures.actor_of(family.applicant.id)
        draft = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=family.applicant.id, actor=actor
        )
        draft = procedures.do_save_draft(
            session,
            draft.id,
            {
                "movers": [],
                "destination": moving.place_destination(session, NEW_ADDRESS).text,
                "moved_on": clock.today_jst().isoformat(),
            },
            expected_version=draft.version,
            actor=actor,
        )
        submitted = sign_and_submit(session, family, draft)
        approved = act_as_official(session, submitted.id, "approve", OLD_LG)
        move_in_id = uuid.UUID(str(approved.outputs["move_in_application"]))
    with transaction(engine) as session:
        app = procedures.get_application(session, move_in_id)
        app = procedures.do_save_draft(
            session,
            app.id,
            {"slot": moving.slot_value(moving.offered_slots()[0])},
            expected_version=app.version,
            actor=actor,
        )
        return procedures.do_take_action(
            session, app.id, "reserve", role="applicant", actor=actor, expected_version=app.version
        )


def _clerk_key(engine: Engine, department: str | None) -> str:
    """A counter key of 011011, its role held in ``department`` (or the whole office)."""
    with transaction(engine) as session:
        ensure_organisation(session, NEW_LG)
        account = staff.do_create_service_account(
            session, name=f"窓口システム {department}", actor=ACTOR
        )
        staff.do_grant(
            session,
            account.id,
            organisation=NEW_LG,
            role="counter",
            department=department,
            actor=ACTOR,
        )
        created = staff.do_create_key(
            session,
            account.id,
            organisation=NEW_LG,
            permissions=["procedures.tasks.read", "procedures.tasks.claim"],
            actor=ACTOR,
        )
        return created.secret


@pytest.fixture
def http(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


TASKS = "/api/v1/registration/tasks"


def test_a_citizens_clerk_claims_a_move_in(
    engine: Engine, http: TestClient, move_in: procedures.ApplicationRead
) -> None:
    assert procedures.get_procedure(moving.MOVE_IN).department == "citizens"
    key = bearer(_clerk_key(engine, "citizens"))
    queue = http.get(TASKS, headers=key)
    assert queue.status_code == 200
    assert [t["id"] for t in queue.json()["items"]] == [str(move_in.id)]
    claimed = http.post(
        f"{TASKS}/{move_in.id}/claim", json={"expected_version": move_in.version}, headers=key
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"].endswith(f"@{NEW_LG}/key")


def test_a_welfare_clerk_of_the_same_office_is_refused(
    engine: Engine, http: TestClient, move_in: procedures.ApplicationRead
) -> None:
    key = bearer(_clerk_key(engine, "welfare"))
    refused = http.post(
        f"{TASKS}/{move_in.id}/claim", json={"expected_version": move_in.version}, headers=key
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "staff.other_department"
    assert http.get(f"{TASKS}/{move_in.id}", headers=key).status_code == 403
    # Not in the welfare clerk's queue either.
    queue = http.get(TASKS, headers=key)
    assert queue.status_code == 200
    assert queue.json()["items"] == []
    with transaction(engine) as session:
        assert procedures.get_application(session, move_in.id).claimed_by is None


def test_a_role_for_the_whole_office_reaches_every_department(
    engine: Engine, http: TestClient, move_in: procedures.ApplicationRead
) -> None:
    key = bearer(_clerk_key(engine, None))
    claimed = http.post(
        f"{TASKS}/{move_in.id}/claim", json={"expected_version": move_in.version}, headers=key
    )
    assert claimed.status_code == 200, claimed.text


def test_the_staff_api_gives_and_ends_a_role_in_a_department(
    engine: Engine, http: TestClient
) -> None:
    with transaction(engine) as session:
        admin = bearer(make_key(session, NEW_LG, "administrator"))
        clerk = staff.do_create_official(
            session, person_id=uuid.uuid4(), name="福祉　課員", actor=ACTOR
        )
    path = f"/api/v1/staff/accounts/{clerk.id}/memberships"
    body = {"organisation": NEW_LG, "role": "counter", "department": "welfare"}
    given = http.post(path, json=body, headers=admin)
    assert given.status_code == 200, given.text
    assert [m["department"] for m in given.json()["memberships"]] == ["welfare"]
    unknown = http.post(path, json={**body, "department": "zoo"}, headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "staff.department_not_found"
    other = http.post(f"{path}/revoke", json={**body, "department": "citizens"}, headers=admin)
    assert other.status_code == 404
    ended = http.post(f"{path}/revoke", json=body, headers=admin)
    assert ended.status_code == 200
    assert ended.json()["memberships"] == []
