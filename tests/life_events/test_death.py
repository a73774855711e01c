"""A death over HTTP: the physician's certificate through the mesh, a relative files the
死亡届 prefilled from it and signs with the card, the office accepts it, the register marks
the death and the agencies learn of it by subscription (in the deceased's access records), the
bereaved see the procedures left with deadlines and download the chart of legal heirs; an
unrelated person can neither file nor see it, and another municipality's official is refused."""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from kiban import agencies
from kiban.agencies import physician
from kiban.agencies.models import InsurerMember, LicenceHolder, PensionRecord
from kiban.blocks import (
    address,
    benefits,
    corporations,
    identity,
    mesh,
    notifications,
    payments,
    procedures,
    residents,
)
from kiban.kernel import clock
from kiban.life_events import death
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

from .journey import (
    NEW_LG,
    OLD_LG,
    Family,
    _known_to_every_government_agency,
    _person,
    build_family,
)
from .test_pages import Portal, _csrf, _submit, _version


@dataclass
class Bereaved:
    portal: Portal
    child: residents.PersonRead
    stranger: residents.PersonRead
    died_at: datetime


@pytest.fixture
def bereaved(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bereaved]:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()
    died_at = clock.now() - timedelta(hours=5)
    with transaction(engine) as session:
        family: Family = build_family(session, tmp_path / "cards", consent_bank=False)
        child = _person(
            session,
            "次郎",
            "ジロウ",
            residents.Sex.MALE,
            date(2015, 5, 5),
            residents.HouseholdChoice(
                household_id=family.applicant.household_id, relationship="子"
            ),
        )
        stranger = _person(
            session,
            "他人",
            "タニン",
            residents.Sex.MALE,
            date(1970, 1, 1),
            residents.HouseholdChoice(),
        )
        _known_to_every_government_agency(session, family.spouse)
        give_benefits_and_a_business(session, family.spouse)
        physician.certify_death(
            session,
            family.spouse.id,
            died_at=died_at,
            place_kind="hospital",
            place="東京都千代田区丸の内1-1-1 きばん病院",
            cause="illness",
            physician="医師 一郎",
            address=family.spouse.address.text,
        )
        officials: dict[str, ReaderCard] = {
            lg: new_official(session, lg, "counter", tmp_path / f"official-{lg}")[1]
            for lg in (OLD_LG, NEW_LG)
        }
    app = create_app()
    with (
        TestClient(app, follow_redirects=False) as resident,
        TestClient(app, follow_redirects=False) as office,
    ):
        resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, family.applicant.id))
        yield Bereaved(Portal(resident, office, family, officials), child, stranger, died_at)


CORPORATE_NUMBER = "4011001098993"


def give_benefits_and_a_business(session: Session, person: residents.PersonRead) -> None:
    """What a death must stop and hold, and a business to hand over: a one-off payment already
    owed to ``person`` (an obligation, payable), a monthly benefit determined for next month's
    period (after the death), and a company ``person`` represents."""
    one_off = benefits.parse_programme(
        {
            "code": "widow-test-once",
            "title_ja": "テスト一時金",
            "title_en": "Test one-off payment",
            "legal_basis": "テスト要綱",
            "payer": "digital-agency",
            "eligible": {"kind": "resident"},
            "amount": {"per_person": 10_000},
            "recipient": "person",
            "opt_out_days": 0,
        }
    )
    monthly = benefits.parse_programme(
        {
            "code": "widow-test-monthly",
            "title_ja": "テスト月額給付",
            "title_en": "Test monthly benefit",
            "legal_basis": "テスト要綱",
            "payer": "digital-agency",
            "eligible": {"kind": "resident"},
            "amount": {"per_person": 5_000},
            "recipient": "person",
            "payment_months": list(range(1, 13)),
        }
    )
    for programme in (one_off, monthly):
        benefits.do_define_programme(session, programme, actor="t")
    today = clock.today_jst()
    benefits.do_determine_household(
        session, one_off.code, person.household_id, base_date=today - timedelta(days=30), actor="t"
    )
    benefits.do_settle_due(session, actor="t")
    benefits.do_determine_household(
        session,
        monthly.code,
        person.household_id,
        base_date=benefits.next_base_date(monthly, today),
        actor="t",
    )
    town = address.find_town(session, OLD_LG, "丸の内")
    assert town is not None
    place = corporations.AddressInput(town_id=town.id, chome=1, block_number="1-1")
    corporations.register_corporation(
        session,
        corporations.CorporationCreate(
            corporate_number=CORPORATE_NUMBER,
            name="株式会社ひっこしテック",
            name_kana="ヒッコシテック",
            head_office=place,
            representative=corporations.RepresentativeInput(
                name=person.full_name, address=place, person_id=person.id
            ),
        ),
        actor="t",
    )


def _deliver(engine: Engine) -> None:
    for _ in range(3):
        events.deliver_pending(engine)
        with transaction(engine) as session:
            mesh.deliver_due(session)


def _file(b: Bereaved) -> str:
    portal = b.portal
    page = portal.resident.get("/portal/death?lang=en")
    assert page.status_code == 200
    assert str(portal.family.spouse.id) in page.text
    review = portal.resident.post(
        "/portal/death/start?lang=en",
        data={
            "csrf_token": _csrf(page.text),
            "deceased": str(portal.family.spouse.id),
            "capacity": "同居の親族",
        },
    )
    assert review.status_code == 200, review.text
    # Prefilled from the physician's certificate through the mesh, with its source: not typed.
    assert "きばん病院" in review.text
    assert "From the Death certificate (physician)" in review.text
    assert "Sign with your card and submit" in review.text
    found = re.search(r"/portal/applications/([0-9a-f-]{36})", review.text)
    assert found is not None
    return f"/portal/applications/{found.group(1)}"


def _accept(b: Bereaved, application_id: str, lg_code: str) -> int:
    portal = b.portal
    portal.office.cookies.clear()
    portal.csrf = office_sign_in(portal.office, portal.officials[lg_code], lg_code, "counter")
    page = portal.office.get(f"/office/applications/{application_id}?lang=en")
    if page.status_code != 200:
        return int(page.status_code)
    claimed = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"csrf_token": portal.csrf, "version": str(_version(page.text))},
    )
    assert claimed.status_code == 303
    page = portal.office.get(f"/office/applications/{application_id}?lang=en")
    accepted = portal.office.post(
        f"/office/applications/{application_id}/act?lang=en",
        data={
            "csrf_token": portal.csrf,
            "version": str(_version(page.text)),
            "action": "accept",
            "reason": "",
            "confirmed": "true",  # The office asks first (confirmation page); this is the yes.
        },
    )
    return int(accepted.status_code)


def test_a_death_from_the_physicians_data_to_the_heirs_chart(
    bereaved: Bereaved, engine: Engine
) -> None:
    b = bereaved
    family = b.portal.family
    url = _file(b)
    assert _submit(b.portal, url).status_code == 303
    application_id = url.rsplit("/", 1)[1]

    # Another municipality's official may not see or accept it; the deceased's office does.
    assert _accept(b, application_id, NEW_LG) == 403
    assert _accept(b, application_id, OLD_LG) == 303
    _deliver(engine)

    with transaction(engine) as session:
        deceased = residents.get_person(session, family.spouse.id)
        assert deceased.status == residents.Status.DECEASED
        assert deceased.died_on == clock.to_jst(b.died_at).date()
        # The fan-out by subscription: each agency acted on its own record...
        codes = {
            name: mesh.agency_code(session, agencies.get_agency(name).subsystem, deceased.id)
            for name in ("pension", "insurer", "licence")
        }
        pension = agencies.get_record(session, agencies.get_agency("pension"), codes["pension"])
        assert isinstance(pension, PensionRecord)
        assert pension.stopped_on is not None
        insured = agencies.get_record(session, agencies.get_agency("insurer"), codes["insurer"])
        assert isinstance(insured, InsurerMember)
        assert insured.eligible_until is not None
        assert insured.eligible_until <= clock.now().date()
        licence = agencies.get_record(session, agencies.get_agency("licence"), codes["licence"])
        assert isinstance(licence, LicenceHolder)
        assert licence.status == "revoked"
        # ...and it is in the deceased's access records, as is the physician's certificate.
        records = mesh.records_for_person(session, deceased.id, limit=100).records
        told = {r.counterpart for r in records if r.service.endswith("/residents/events")}
        for name in ("pension", "insurer", "licence"):
            assert agencies.get_agency(name).subsystem in told, (name, told)
        assert any(r.service == death.PHYSICIAN_SERVICE for r in records)
        # Both card certificates of the deceased are revoked (the card was the filer's here,
        # so the deceased has none); the spouse is offered the survivor's pension claim.
        assert identity.get_card_by_person(session, deceased.id) is None
        inbox = notifications.list_inbox(session, family.applicant.id).items
        templates = {n.template for n in inbox}
        assert death.notices.SURVIVOR_PENSION in templates
        assert death.notices.ACCEPTED in templates
        # Benefits stop from the next period; what was owed to the deceased is held.
        statuses = {
            d.programme: d.status for d in benefits.list_determinations_of(session, deceased.id)
        }
        assert statuses == {"widow-test-monthly": "stopped", "widow-test-once": "obligated"}
        held = payments.list_held_of(session, deceased.id)
        assert [(o.programme, o.amount) for o in held] == [("widow-test-once", 10_000)]
        assert held[0].hold_reason == benefits.hold_reason(deceased.died_on)
        # A second delivery of the death changes nothing.
        again = benefits.do_stop_for_death(session, deceased.id, deceased.died_on, actor="t")
        assert again == benefits.Stopped(0, 0, 0, 0)

    # おくやみ: every procedure that applies, with its deadline.
    page = b.portal.resident.get(f"/portal/okuyami/{application_id}?lang=en")
    assert page.status_code == 200, page.text
    died_on = clock.to_jst(b.died_at).date()
    for title in (
        "年金受給権者死亡届",
        "遺族年金の請求",
        "相続放棄・限定承認の申述",
        "相続税の申告・納付",
    ):
        assert title in page.text
    assert (died_on + timedelta(days=14)).isoformat() in page.text
    assert death.okuyami.add_months(died_on, 3).isoformat() in page.text
    assert "Told through the mesh: nothing to do" in page.text
    # What the benefits block stopped and held, and the company to hand over in two weeks.
    assert "Test monthly benefit (from " in page.text
    assert "Payments held (10,000 yen in all)" in page.text
    assert death.okuyami.add_months(died_on, 60).isoformat() in page.text
    assert "代表者変更登記" in page.text
    assert f"株式会社ひっこしテック (corporate number {CORPORATE_NUMBER}" in page.text
    # The fan-out, from the deceased's access records: each agency the death reached.
    assert "Who was told through the mesh" in page.text
    for name in ("pension", "insurer", "licence"):
        assert agencies.get_agency(name).subsystem in page.text
    # The heirs from the register: the husband and the child, half each.
    assert "引越太郎" in page.text
    assert "引越次郎" in page.text
    assert page.text.count("2分の1") == 2
    csrf = _csrf(page.text)
    pdf = b.portal.resident.post(
        f"/portal/okuyami/{application_id}/chart?lang=en", data={"csrf_token": csrf, "kind": "pdf"}
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    svg = b.portal.resident.post(
        f"/portal/okuyami/{application_id}/chart?lang=en", data={"csrf_token": csrf, "kind": "svg"}
    )
    assert svg.status_code == 200
    assert b"<svg" in svg.content
    assert "引越次郎".encode() in svg.content
    # Without the session's token, nothing is given.
    refused = b.portal.resident.post(
        f"/portal/okuyami/{application_id}/chart?lang=en", data={"kind": "pdf"}
    )
    assert refused.status_code == 403

    # The office sees the same list, and completes the family: the child renounced at the
    # family court, so the husband inherits everything.
    office = b.portal.office
    desk = office.get(f"/office/deaths/{application_id}?lang=en")
    assert desk.status_code == 200, desk.text
    assert "年金受給権者死亡届" in desk.text
    assert "Told through the mesh: nothing to do" in desk.text
    assert "Payments held (10,000 yen in all)" in desk.text
    assert "代表者変更登記" in desk.text
    family_json = json.loads(html.unescape(_textarea(desk.text)))
    child_key = next(p["id"] for p in family_json["people"] if p["name"] == "引越次郎")
    bad = office.post(
        f"/office/deaths/{application_id}/family?lang=en",
        data={"csrf_token": b.portal.csrf, "family": "{not json"},
    )
    assert bad.status_code == 422
    family_json["renounced"] = [child_key]
    saved = office.post(
        f"/office/deaths/{application_id}/family?lang=en",
        data={"csrf_token": b.portal.csrf, "family": json.dumps(family_json, ensure_ascii=False)},
    )
    assert saved.status_code == 303
    page = b.portal.resident.get(f"/portal/okuyami/{application_id}?lang=en")
    assert "2分の1" not in page.text
    assert "全部" in page.text
    with transaction(engine) as session:
        # The office's reads of the family are recorded against each person shown.
        reads = residents.get_reads_of_person(session, b.child.id)
        assert any("/office/deaths" in str(r.route) for r in reads.records)

    # The child of the household sees the same page; a stranger sees nothing.
    b.portal.resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, b.child.id))
    assert b.portal.resident.get(f"/portal/okuyami/{application_id}?lang=en").status_code == 200
    b.portal.resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, b.stranger.id))
    hidden = b.portal.resident.get(f"/portal/okuyami/{application_id}?lang=en")
    assert hidden.status_code == 404
    assert "引越" not in hidden.text


def _textarea(page: str) -> str:
    found = re.search(r'<textarea id="family"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_an_unrelated_person_cannot_file(bereaved: Bereaved, engine: Engine) -> None:
    b = bereaved
    b.portal.resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, b.stranger.id))
    page = b.portal.resident.get("/portal/death?lang=en")
    assert page.status_code == 200
    assert str(b.portal.family.spouse.id) not in page.text
    assert "Nobody else lives in your household." in page.text
    token = _csrf(b.portal.resident.get("/portal/procedures/move_out?lang=en").text)
    refused = b.portal.resident.post(
        "/portal/death/start?lang=en",
        data={
            "csrf_token": token,
            "deceased": str(b.portal.family.spouse.id),
            "capacity": "同居者",
        },
    )
    assert refused.status_code == 403
    with transaction(engine) as session:
        assert procedures.list_applications(session, applicant=b.stranger.id).items == []
        assert residents.get_person(session, b.portal.family.spouse.id).status == (
            residents.Status.RESIDENT
        )


def test_without_the_physicians_certificate_nothing_is_opened(
    bereaved: Bereaved, engine: Engine
) -> None:
    b = bereaved
    page = b.portal.resident.get("/portal/death?lang=en")
    refused = b.portal.resident.post(
        "/portal/death/start?lang=en",
        data={
            "csrf_token": _csrf(page.text),
            "deceased": str(b.child.id),
            "capacity": "同居の親族",
        },
    )
    assert refused.status_code == 409
    assert "No physician" in refused.text
    with transaction(engine) as session:
        assert (
            procedures.list_applications(session, applicant=b.portal.family.applicant.id).items
            == []
        )


def test_deadlines_in_months_end_on_the_last_day_of_a_shorter_month() -> None:
    assert death.okuyami.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert death.okuyami.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
