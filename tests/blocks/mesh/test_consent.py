"""Consent for companies: the signed artefact, the hash-chained status and the check the
gateway runs (once-only and periodic limits, revocation applying to the next request)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh.consent_models import MeshConsent, MeshConsentStatus
from kiban.blocks.mesh.models import MeshSubsystem
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit
from kiban.platform.db import session_factory
from kiban.platform.models import OutboxEvent
from tests.blocks.mesh.consent_support import BANK, POWER, register_companies

PERSON = "person:test"
# A fixed instant (noon in Japan) so that periods do not depend on when the test runs.
NOON = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def companies(session: Session) -> None:
    register_companies(session)


def give(
    session: Session,
    person_id: uuid.UUID,
    *,
    company: str = BANK,
    items: list[str] | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    fetch_type: str = "once",
    frequency: dict[str, Any] | None = None,
) -> mesh.ConsentRead:
    today = clock.today_jst()
    granted = mesh.grant_consent(
        session,
        person_id=person_id,
        company=company,
        purpose_code="account_opening",
        purpose_text="口座開設時の本人確認 / Identity check when opening an account",
        items=items or ["name", "address"],
        valid_from=valid_from or date(2026, 1, 1),
        valid_until=valid_until or today + timedelta(days=365),
        fetch_type=fetch_type,  # type: ignore[arg-type]
        frequency=frequency,
        data_life_days=30,
        actor=PERSON,
    )
    session.commit()
    return granted


def refusal(session: Session, person_id: uuid.UUID, **kwargs: Any) -> KibanError:
    with pytest.raises(KibanError) as raised:
        mesh.check_consent(session, person_id=person_id, **{"company": BANK, **kwargs})
    session.rollback()
    assert raised.value.status == 403
    assert raised.value.field == "consent"
    return raised.value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- The artefact ---------------------------------------------------------------------------


def test_the_artefact_is_signed_and_anyone_can_verify_it_with_the_public_key(
    session: Session,
) -> None:
    person = uuid.uuid4()
    granted = give(session, person, fetch_type="periodic", frequency={"unit": "month", "value": 1})

    content = mesh.verify_artefact(granted.jws, mesh.consent_jwks())
    assert content["person"] == str(person)
    assert content["company"] == BANK
    assert content["purpose"]["code"] == "account_opening"
    assert content["items"] == ["address", "name"]
    assert content["fetch"] == {"type": "periodic", "frequency": {"unit": "month", "value": 1}}
    assert content["data_life"] == {"unit": "day", "value": 30}
    assert mesh.verify_stored_artefact(session, granted.id) == content
    # The published key set holds the public part only.
    assert "d" not in mesh.consent_jwks()["keys"][0]


def test_a_tampered_artefact_does_not_verify(session: Session) -> None:
    granted = give(session, uuid.uuid4())
    header, payload, signature = granted.jws.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    content["items"] = ["address", "income", "name"]
    forged = ".".join([header, _b64(json.dumps(content).encode()), signature])
    with pytest.raises(mesh.ConsentArtefactInvalid):
        mesh.verify_artefact(forged)
    with pytest.raises(mesh.ConsentArtefactInvalid):
        mesh.verify_artefact(granted.jws[:-4] + ("AAAA" if granted.jws[-4:] != "AAAA" else "BBBB"))
    with pytest.raises(mesh.ConsentArtefactInvalid):
        mesh.verify_artefact("not a jws")


def test_a_row_changed_in_the_database_no_longer_matches_its_signature(session: Session) -> None:
    granted = give(session, uuid.uuid4())
    session.execute(
        update(MeshConsent)
        .where(MeshConsent.id == granted.id)
        .values(items=["address", "income", "name"])
    )
    session.commit()
    with pytest.raises(mesh.ConsentArtefactInvalid):
        mesh.verify_stored_artefact(session, granted.id)


def test_a_consent_names_a_registered_company_and_catalogued_items_only(
    session: Session,
) -> None:
    """The probe of issue 13 item 13: an unregistered company, an item no service provides,
    a member of another class, a deactivated company: 422 naming the field, nothing signed."""
    person = uuid.uuid4()
    cases = [
        ({"company": "JP/COM/9999999999999/ghost"}, "company"),
        ({"company": "JP/GOV/00002/register"}, "company"),  # Not a COM member.
        ({"items": ["name", "my_number"]}, "items"),
        ({"items": ["shoe_size"]}, "items"),
    ]
    for change, field in cases:
        with pytest.raises(mesh.ConsentInvalid) as raised:
            give(session, person, **change)  # type: ignore[arg-type]
        session.rollback()
        assert raised.value.status == 422
        assert raised.value.field == field, change
    # The pattern of a COM subsystem, but the member is deactivated.
    session.execute(
        update(MeshSubsystem).where(MeshSubsystem.xroad_id == POWER).values(active=False)
    )
    session.commit()
    with pytest.raises(mesh.ConsentInvalid) as raised:
        give(session, person, company=POWER)
    session.rollback()
    assert raised.value.field == "company"
    assert session.scalars(select(MeshConsent)).all() == []
    assert [tag for tag in session.scalars(select(audit.AuditEntry.tag)) if "consent" in tag] == []
    # The shop-floor case still works.
    assert give(session, person, items=["address", "name"]).status == "active"
    assert "shoe_size" not in mesh.data_item_catalogue(session)


def test_bad_grants_are_refused_with_the_field(session: Session) -> None:
    with pytest.raises(mesh.ConsentInvalid) as raised:
        mesh.grant_consent(
            session,
            person_id=uuid.uuid4(),
            company="JP/GOV/00001/pension",
            purpose_code="x",
            purpose_text="x",
            items=["name"],
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
            data_life_days=1,
            actor=PERSON,
        )
    assert raised.value.field == "company"
    with pytest.raises(mesh.ConsentInvalid):
        give(session, uuid.uuid4(), fetch_type="periodic")
    with pytest.raises(mesh.ConsentInvalid):
        give(session, uuid.uuid4(), valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1))


# --- Status and its chain -------------------------------------------------------------------


def test_status_changes_are_chained_audited_and_announced(session: Session) -> None:
    person = uuid.uuid4()
    granted = give(session, person)
    assert granted.status == "active"
    mesh.set_consent_status(session, granted.id, "paused", actor=PERSON)
    mesh.set_consent_status(session, granted.id, "active", actor=PERSON)
    revoked = mesh.set_consent_status(session, granted.id, "revoked", actor=PERSON)
    session.commit()

    assert [entry.status for entry in revoked.history] == ["active", "paused", "active", "revoked"]
    assert [entry.seq for entry in revoked.history] == [1, 2, 3, 4]
    assert mesh.verify_status_chain(session) == []
    # Revoked is final.
    with pytest.raises(mesh.ConsentStatusConflict):
        mesh.set_consent_status(session, granted.id, "active", actor=PERSON)
    session.rollback()

    tags = session.scalars(
        select(audit.AuditEntry.tag).where(audit.AuditEntry.subject == str(granted.id))
    ).all()
    assert tags == [
        "mesh:consent:granted",
        "mesh:consent:paused",
        "mesh:consent:resumed",
        "mesh:consent:revoked",
    ]
    topics = session.scalars(
        select(OutboxEvent.topic)
        .where(OutboxEvent.key == str(person))
        .order_by(OutboxEvent.created_at)
    ).all()
    assert topics == [
        mesh.CONSENT_GRANTED,
        mesh.CONSENT_STATUS_CHANGED,
        mesh.CONSENT_STATUS_CHANGED,
        mesh.CONSENT_STATUS_CHANGED,
    ]


def test_tampering_with_the_status_log_is_detected(session: Session) -> None:
    granted = give(session, uuid.uuid4())
    mesh.set_consent_status(session, granted.id, "revoked", actor=PERSON)
    other = give(session, uuid.uuid4())
    session.commit()

    # Someone turns the revocation back into "active" to reopen the data flow.
    session.execute(
        update(MeshConsentStatus)
        .where(MeshConsentStatus.consent_id == granted.id, MeshConsentStatus.seq == 2)
        .values(status="active")
    )
    session.commit()
    assert mesh.verify_status_chain(session) == [mesh.ChainProblem(granted.id, 2, "modified")]
    assert mesh.verify_status_chain(session, other.id) == []

    # Deleting the revocation instead leaves a chain that ends early but links; deleting the
    # first entry breaks the link of the next.
    session.execute(
        MeshConsentStatus.__table__.delete().where(
            MeshConsentStatus.consent_id == granted.id, MeshConsentStatus.seq == 1
        )
    )
    session.commit()
    kinds = {(p.seq, p.kind) for p in mesh.verify_status_chain(session, granted.id)}
    assert (2, "gap") in kinds
    assert (2, "broken_link") in kinds


def test_expired_is_derived_from_the_period_and_written_by_the_sweep(session: Session) -> None:
    person = uuid.uuid4()
    past = give(session, person, valid_from=date(2020, 1, 1), valid_until=date(2020, 12, 31))
    current = give(session, person, company=POWER)
    assert past.status == "expired"
    listed = {consent.id: consent.status for consent in mesh.list_consents(session, person)}
    assert listed == {past.id: "expired", current.id: "active"}

    assert mesh.sweep_expired(session) == 1
    assert mesh.sweep_expired(session) == 0
    session.commit()
    history = mesh.get_consent(session, past.id).history
    assert [entry.status for entry in history] == ["active", "expired"]
    assert history[-1].actor == "system:mesh"
    assert mesh.get_consent(session, current.id).status == "active"
    assert mesh.verify_status_chain(session) == []
    with pytest.raises(mesh.ConsentStatusConflict):
        mesh.set_consent_status(session, past.id, "active", actor=PERSON)


# --- The check --------------------------------------------------------------------------------


def test_no_consent_for_the_company_is_consent_required(session: Session) -> None:
    person = uuid.uuid4()
    assert refusal(session, person, items=["name"]).code == "mesh.consent_required"
    give(session, person, company=POWER)
    assert refusal(session, person, items=["name"]).code == "mesh.consent_required"
    # Another person's consent for the bank does not count either.
    give(session, uuid.uuid4())
    assert refusal(session, person, items=["name"]).code == "mesh.consent_required"


def test_items_outside_the_consent_are_refused(session: Session) -> None:
    person = uuid.uuid4()
    give(session, person, items=["name", "address"])
    error = refusal(session, person, items=["name", "income"])
    assert error.code == "mesh.consent_items_not_covered"
    assert "income" in error.message_en
    assert "income" in error.message_ja


@pytest.mark.parametrize("status", ["paused", "revoked"])
def test_a_paused_or_revoked_consent_refuses_the_very_next_request(
    session: Session, status: str
) -> None:
    person = uuid.uuid4()
    granted = give(session, person, fetch_type="periodic", frequency={"unit": "day", "value": 5})
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == granted.id
    session.commit()

    mesh.set_consent_status(session, granted.id, status, actor=PERSON)  # type: ignore[arg-type]
    session.commit()
    error = refusal(session, person, items=["name"])
    assert error.code == "mesh.consent_not_active"
    assert status in error.message_en


def test_a_resumed_consent_allows_fetches_again(session: Session) -> None:
    person = uuid.uuid4()
    granted = give(session, person, fetch_type="periodic", frequency={"unit": "day", "value": 5})
    mesh.set_consent_status(session, granted.id, "paused", actor=PERSON)
    session.commit()
    assert refusal(session, person, items=["name"]).code == "mesh.consent_not_active"
    mesh.set_consent_status(session, granted.id, "active", actor=PERSON)
    session.commit()
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == granted.id


def test_outside_the_period_the_consent_is_not_active(session: Session) -> None:
    person = uuid.uuid4()
    give(session, person, valid_from=date(2020, 1, 1), valid_until=date(2020, 12, 31))
    assert refusal(session, person, items=["name"]).code == "mesh.consent_not_active"
    later = uuid.uuid4()
    start = clock.today_jst() + timedelta(days=10)
    give(session, later, valid_from=start, valid_until=start + timedelta(days=10))
    assert refusal(session, later, items=["name"]).code == "mesh.consent_not_active"


def test_a_once_consent_is_used_up_by_its_first_fetch(session: Session) -> None:
    person = uuid.uuid4()
    granted = give(session, person)
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == granted.id
    session.commit()
    assert refusal(session, person, items=["address"]).code == "mesh.consent_frequency_exceeded"


def test_a_fetch_the_caller_rolls_back_is_not_counted(session: Session) -> None:
    person = uuid.uuid4()
    granted = give(session, person)
    mesh.check_consent(session, person_id=person, company=BANK, items=["name"])
    session.rollback()
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == granted.id


def test_a_periodic_consent_allows_its_frequency_per_period(session: Session) -> None:
    person = uuid.uuid4()
    granted = give(session, person, fetch_type="periodic", frequency={"unit": "month", "value": 2})

    def fetch(at: datetime) -> uuid.UUID:
        consent_id = mesh.check_consent(
            session, person_id=person, company=BANK, items=["name"], at=at
        )
        session.commit()
        return consent_id

    assert fetch(NOON) == granted.id
    assert fetch(NOON + timedelta(days=1)) == granted.id
    third = refusal(session, person, items=["name"], at=NOON + timedelta(days=2))
    assert third.code == "mesh.consent_frequency_exceeded"
    # July is a new period.
    assert fetch(NOON + timedelta(days=20)) == granted.id
    # June 30, 23:30 in Japan still belongs to June.
    late_june = datetime(2026, 6, 30, 14, 30, tzinfo=UTC)
    assert refusal(session, person, items=["name"], at=late_june).code == (
        "mesh.consent_frequency_exceeded"
    )


def test_a_second_consent_is_used_when_the_first_is_used_up(session: Session) -> None:
    person = uuid.uuid4()
    first = give(session, person)
    second = give(session, person, items=["name"])
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == first.id
    assert mesh.check_consent(session, person_id=person, company=BANK, items=["name"]) == second.id
    session.commit()
    assert refusal(session, person, items=["name"]).code == "mesh.consent_frequency_exceeded"


def test_two_concurrent_fetches_cannot_both_use_a_once_consent(
    engine: Engine, session: Session
) -> None:
    person = uuid.uuid4()
    granted = give(session, person)
    session.close()
    factory = session_factory(engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def fetch() -> None:
        with factory() as own:
            barrier.wait()
            try:
                consent_id = mesh.check_consent(own, person_id=person, company=BANK, items=["name"])
                own.commit()
                outcome = str(consent_id)
            except KibanError as error:
                own.rollback()
                outcome = error.code
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([str(granted.id), "mesh.consent_frequency_exceeded"])


def test_only_com_members_need_consent() -> None:
    assert mesh.is_company(BANK)
    assert not mesh.is_company("JP/GOV/00001/pension")
    assert not mesh.is_company("JP/MUN/131016/juki")
