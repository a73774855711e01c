"""A property of the engine: whatever sequence of actions people attempt, in whatever order and
with whatever stale versions, every refused one changes nothing, and after every step the
projection is exactly the fold of the journal and the hash chain verifies."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents
from kiban.kernel.errors import KibanError
from tests.blocks.identity.oidc_support import ReaderCard

from .conftest import TOY, applicant, sign

OFFICIALS = ("official:a", "official:b")
STEP = st.tuples(
    st.sampled_from(
        ["save", "submit", "claim", "release", "approve", "send_back", "withdraw", "foreign"]
    ),
    st.sampled_from(OFFICIALS),
    st.sampled_from([0, 0, 0, -1, 1]),  # How stale the version the actor read is.
)


def _attempt(
    session: Session,
    app: procedures.ApplicationRead,
    step: tuple[str, str, int],
    person: residents.PersonRead,
    card: ReaderCard,
) -> None:
    kind, official, skew = step
    version = app.version + skew
    me = applicant(person)
    if kind == "save":
        procedures.do_save_draft(
            session, app.id, {"dog_name": f"ポチ{version}", "breed": "shiba",
                              "born_on": "2024-01-01"},
            expected_version=version, actor=me,
        )  # fmt: skip
    elif kind == "submit":
        signed = sign(card, app)
        procedures.do_submit(
            session, app.id, expected_version=version,
            signing_certificate=signed.certificate, signature=signed.signature, actor=me,
        )  # fmt: skip
    elif kind == "claim":
        procedures.do_claim_task(session, app.id, official=official, expected_version=version)
    elif kind == "release":
        procedures.do_release_task(session, app.id, official=official, expected_version=version)
    elif kind == "withdraw":
        procedures.do_take_action(
            session, app.id, "withdraw", role="applicant", actor=me, expected_version=version
        )
    elif kind == "foreign":
        procedures.do_take_action(
            session, app.id, "withdraw", role="applicant", actor="person:someone-else",
            expected_version=version,
        )  # fmt: skip
    else:
        procedures.do_take_action(
            session, app.id, kind, role="official", actor=official, expected_version=version,
            reason="不備があります" if kind == "send_back" else None,
        )  # fmt: skip


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, max_size=12))
def test_the_projection_is_always_the_fold_of_the_journal(
    session: Session,
    toy: procedures.ProcedureDef,
    resident: residents.PersonRead,
    card: ReaderCard,
    steps: list[tuple[str, str, int]],
) -> None:
    app = procedures.do_start_application(
        session, TOY, applicant=resident.id, actor=applicant(resident)
    )
    session.commit()
    for step in steps:
        before: dict[str, Any] = procedures.projection_of(app)
        try:
            _attempt(session, app, step, resident, card)
            session.commit()
        except KibanError:
            session.rollback()
            after = procedures.get_application(session, app.id)
            assert procedures.projection_of(after) == before, f"{step} changed something"
        app = procedures.get_application(session, app.id)
        assert procedures.fold(app.journal) == procedures.projection_of(app)
        assert [e.seq for e in app.journal] == list(range(1, app.version + 1))
    report = procedures.verify_journal(session, app.id)
    assert report.ok, report.problems
    session.rollback()
