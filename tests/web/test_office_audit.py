"""Every office action is audited under the official (account, organisation and role), and a
procedure that keeps two steps apart gets them from two different officials."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiban.blocks import procedures, residents, staff
from kiban.platform import sessions
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry
from kiban.web import create_app
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE
from tests.staff_support import make_official

OWN = "131016"
CODE = "test.two_step"


def _definition() -> procedures.ProcedureDef:
    action = procedures.ActionDef
    return procedures.ProcedureDef(
        code=CODE,
        title_ja="二段階の試験",
        title_en="Two-step test",
        states=("submitted", "accepted", "returned", "done"),
        initial="submitted",
        final_states=("done",),
        actions=(
            action("accept", "受付", "Accept", ("submitted",), "accepted", "official"),
            action(
                "send_back",
                "差戻し",
                "Send back",
                ("submitted",),
                "returned",
                "official",
                needs_reason=True,
            ),
            # Whoever accepted it at the counter may not also approve it.
            action(
                "approve",
                "決裁",
                "Approve",
                ("accepted",),
                "done",
                "official",
                separate_from=("accept",),
            ),
        ),
        fields=(),
        evidence_in=(),
        evidence_out=(),
        sla_days=1,
        office_of=lambda app: OWN,
    )


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    procedures.register_procedure(_definition())
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code=OWN, limit=1)[0]
        app = procedures.do_start_application(
            session, CODE, applicant=person.id, actor="system:test"
        )
    return {"person": person, "application": str(app.id)}


class Office:
    """An official's browser: an office session bound to organisation and role."""

    def __init__(self, engine: Engine, principal: staff.Principal) -> None:
        self.principal = principal
        with transaction(engine) as session:
            self.cookie, ws = sessions.start_session(
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
            self.csrf = sessions.csrf_token(ws)

    def get(self, client: TestClient, path: str) -> Any:
        client.cookies.set(OFFICE_COOKIE, self.cookie)
        return client.get(path)

    def post(self, client: TestClient, path: str, **data: str) -> Any:
        client.cookies.set(OFFICE_COOKIE, self.cookie)
        return client.post(path, data={**data, "csrf_token": self.csrf})


def _current_version(engine: Engine, application_id: str) -> int:
    with transaction(engine) as session:
        return procedures.get_application(session, uuid.UUID(application_id)).version


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def test_every_office_action_names_the_official_and_steps_kept_apart_need_two(
    engine: Engine, world: dict[str, Any]
) -> None:
    with transaction(engine) as session:
        counter = make_official(session, OWN, "approval", name="窓口　一子")
        approver = make_official(session, OWN, "approval", name="決裁　二郎")
    first, second = Office(engine, counter), Office(engine, approver)
    path = f"/office/applications/{world['application']}"
    with TestClient(create_app(), follow_redirects=False) as client:
        page = first.get(client, path).text
        assert first.post(client, f"{path}/claim", version=_version(page)).status_code == 303
        page = first.get(client, path).text
        released = first.post(client, f"{path}/release", version=_version(page))
        assert released.status_code == 303
        page = first.get(client, path).text
        assert first.post(client, f"{path}/claim", version=_version(page)).status_code == 303
        page = first.get(client, path).text
        accepted = first.post(
            client, f"{path}/act", version=_version(page), action="accept", confirmed="true"
        )
        assert accepted.status_code == 303
        # The same official may not approve what they accepted ...
        page = first.get(client, path).text
        assert "窓口　一子" in page  # The journal shows names, not ids.
        assert "staff:" not in page
        assert 'value="approve"' not in page
        version = str(_current_version(engine, world["application"]))
        assert first.post(client, f"{path}/claim", version=version).status_code == 303
        version = str(_current_version(engine, world["application"]))
        refused = first.post(
            client, f"{path}/act", version=version, action="approve", confirmed="true"
        )
        assert refused.status_code == 403
        assert first.post(client, f"{path}/release", version=version).status_code == 303
        # ... another official may.
        page = second.get(client, path).text
        assert second.post(client, f"{path}/claim", version=_version(page)).status_code == 303
        page = second.get(client, path).text
        approved = second.post(
            client, f"{path}/act", version=_version(page), action="approve", confirmed="true"
        )
        assert approved.status_code == 303
        certificate = first.get(client, f"/office/residents/{world['person'].id}/certificate")
        assert certificate.status_code == 200

    with transaction(engine) as session:
        entries = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.tag.in_(
                        [
                            "procedures:application:claim",
                            "procedures:application:release",
                            "procedures:application:accept",
                            "procedures:application:approve",
                            "residents:certificate:issued",
                        ]
                    )
                )
            )
        )
    by_tag: dict[str, set[str]] = {}
    for entry in entries:
        by_tag.setdefault(entry.tag, set()).add(entry.actor)
    assert by_tag["procedures:application:accept"] == {counter.actor}
    assert by_tag["procedures:application:approve"] == {approver.actor}
    assert by_tag["procedures:application:claim"] == {counter.actor, approver.actor}
    assert by_tag["procedures:application:release"] == {counter.actor}
    assert by_tag["residents:certificate:issued"] == {counter.actor}
    assert counter.actor == f"staff:{counter.account_id}@{OWN}/approval"
