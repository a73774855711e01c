"""The portal's inbox, "who used my data" and consent pages over HTTP, for a resident with a
portal session: what each page shows in Japanese and English, that opening a notice marks it
read, and that consent forms need the page's CSRF token and apply at once."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiban.agencies import AGENCIES
from kiban.agencies.wiring import enrol_through_mesh, register_reference_agencies
from kiban.blocks import address, mesh, notifications, procedures, residents
from kiban.kernel import clock
from kiban.life_events import moving
from kiban.web import create_app
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie

TEMPLATE = "tests.portal_notice"
BANK = AGENCIES["bank"].subsystem
ELECTRICITY = AGENCIES["electricity"].subsystem


@pytest.fixture(autouse=True)
def _template() -> None:
    notifications.register_template(
        TEMPLATE,
        subject_ja="{what}を受け付けました",
        subject_en="We received your {what_en}",
        body_ja="{day}に受け付けました。",
        body_en="Received on {day}.",
        params={"what": str, "what_en": str, "day": date},
    )


@pytest.fixture
def person(session: Session) -> residents.PersonRead:
    return register(session)


@pytest.fixture
def client(database_url: str, person: residents.PersonRead) -> Iterator[TestClient]:
    """A client signed in to the portal as ``person`` (the cookie the card sign-in sets)."""
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(
            RESIDENT_COOKIE,
            resident_cookie(None, person.id),
        )
        yield client


def send(
    session: Session, person_id: uuid.UUID, what: str, what_en: str
) -> notifications.NoticeRead:
    notice = notifications.do_send_notice(
        session,
        person_id,
        TEMPLATE,
        {"what": what, "what_en": what_en, "day": date(2026, 11, 26)},
        actor="system:test",
        link="/portal/",
    )
    session.commit()
    return notice


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_every_portal_page_needs_a_session(database_url: str) -> None:
    with TestClient(create_app(), follow_redirects=False) as anonymous:
        for path in ("/portal/inbox", "/portal/records", "/portal/consents"):
            response = anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/portal/login")
        refused = anonymous.post("/portal/consents", data={"company": BANK})
        assert refused.status_code == 303


def test_my_page_links_every_portal_page_and_counts_unread(
    client: TestClient, session: Session, person: residents.PersonRead
) -> None:
    send(session, person.id, "転出届", "moving-out notice")
    page = client.get("/portal/?lang=en")
    assert page.status_code == 200
    for path in ("/portal/inbox", "/portal/records", "/portal/consents"):
        assert f'href="{path}' in page.text
    assert "1 unread" in page.text
    assert "鈴木" in page.text


@pytest.mark.parametrize(
    ("lang", "subject", "body"),
    [
        ("ja", "転出届を受け付けました", "2026年11月26日に受け付けました。"),
        ("en", "We received your moving-out notice", "Received on November 26, 2026."),
    ],
)
def test_the_inbox_lists_notices_and_marking_one_read_takes_a_post(
    client: TestClient,
    session: Session,
    person: residents.PersonRead,
    lang: str,
    subject: str,
    body: str,
) -> None:
    older = send(session, person.id, "転入届", "moving-in notice")
    newer = send(session, person.id, "転出届", "moving-out notice")
    listed = client.get(f"/portal/inbox?lang={lang}")
    assert listed.status_code == 200
    assert listed.headers["content-language"] == lang
    assert listed.text.index(str(newer.id)) < listed.text.index(str(older.id))
    assert listed.text.count('class="unread"') == 2

    opened = client.get(f"/portal/inbox/{newer.id}?lang={lang}")
    assert opened.status_code == 200
    assert subject in opened.text
    assert body in opened.text
    # Opening a notice (GET) changes nothing: a prefetch or a link must not mark it read.
    session.expire_all()
    assert notifications.get_notice(session, person.id, newer.id).read_at is None
    session.rollback()
    # Marking read is a POST with the page's CSRF token; without it, nothing changes.
    refused = client.post(f"/portal/inbox/{newer.id}/read?lang={lang}", data={})
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "csrf_token"
    marked = client.post(
        f"/portal/inbox/{newer.id}/read?lang={lang}", data={"csrf_token": csrf_of(opened.text)}
    )
    assert marked.status_code == 303
    assert marked.headers["location"] == f"/portal/inbox/{newer.id}?lang={lang}"
    session.expire_all()
    assert notifications.get_notice(session, person.id, newer.id).status == "read"
    assert notifications.get_notice(session, person.id, older.id).read_at is None
    session.rollback()

    relisted = client.get(f"/portal/inbox?lang={lang}")
    assert relisted.text.count('class="unread"') == 1
    only_unread = client.get(f"/portal/inbox?unread=true&lang={lang}")
    assert str(older.id) in only_unread.text
    assert str(newer.id) not in only_unread.text


def test_someone_elses_notice_is_not_found(client: TestClient, session: Session) -> None:
    stranger = send(session, uuid.uuid4(), "転出届", "moving-out notice")
    response = client.get(f"/portal/inbox/{stranger.id}?lang=en")
    assert response.status_code == 404
    assert "No such notice." in response.text
    session.expire_all()
    assert notifications.get_notice(session, stranger.person_id, stranger.id).read_at is None


@pytest.mark.parametrize(
    ("lang", "agency", "item", "provider"),
    [
        ("ja", "日本年金機構", "住所", "住民基本台帳"),
        ("en", "Japan Pension Service", "Address", "Resident register"),
    ],
)
def test_who_used_my_data_names_agencies_items_and_legal_basis(
    client: TestClient,
    session: Session,
    person: residents.PersonRead,
    lang: str,
    agency: str,
    item: str,
    provider: str,
) -> None:
    register_reference_agencies(session)
    enrol_through_mesh(session, [person.id], seed=1)
    session.commit()
    page = client.get(f"/portal/records?lang={lang}")
    assert page.status_code == 200
    text = page.text
    assert agency in text
    assert provider in text
    assert item in text
    assert mesh.BASIC_FOUR_LEGAL_BASIS in text
    # Each exchange once (the requester's record), not once per side.
    government = [a for a in AGENCIES.values() if a.member_class == "GOV"]
    assert text.count("<time ") == len(government)
    assert "JP/GOV" not in text


def test_a_consent_is_granted_paused_resumed_and_revoked_from_the_page(
    client: TestClient, session: Session, person: residents.PersonRead
) -> None:
    register_reference_agencies(session)
    session.commit()
    page = client.get("/portal/consents?lang=en")
    assert page.status_code == 200
    assert "Kiban Bank" in page.text
    token = csrf_of(page.text)
    until = (clock.today_jst() + timedelta(days=30)).isoformat()
    form: dict[str, Any] = {
        "csrf_token": token,
        "company": BANK,
        "purpose": "address_update",
        "items": ["address", "name"],
        "valid_until": until,
        "fetch_type": "periodic",
        "times": "4",
        "data_life_days": "30",
    }
    granted = client.post("/portal/consents?lang=en", data=form)
    assert granted.status_code == 303, granted.text
    session.expire_all()
    [consent] = mesh.list_consents(session, person.id)
    assert consent.company == BANK
    assert consent.items == ["address", "name"]
    assert consent.status == "active"
    assert mesh.check_consent(session, person_id=person.id, company=BANK, items=["address"])
    session.commit()

    listed = client.get("/portal/consents?lang=en")
    assert "In effect" in listed.text
    token = csrf_of(listed.text)
    for action, status in (("pause", "paused"), ("resume", "active"), ("revoke", "revoked")):
        changed = client.post(
            f"/portal/consents/{consent.id}/{action}?lang=en", data={"csrf_token": token}
        )
        assert changed.status_code == 303, changed.text
        session.expire_all()
        assert mesh.get_consent(session, consent.id).status == status
        session.rollback()

    # Revocation applies to the company's very next request.
    with pytest.raises(mesh.ConsentNotActive):
        mesh.check_consent(session, person_id=person.id, company=BANK, items=["address"])
    session.rollback()
    final = client.get("/portal/consents?lang=ja")
    assert "撤回済み" in final.text


def test_forms_without_the_pages_token_change_nothing(
    client: TestClient, session: Session, person: residents.PersonRead
) -> None:
    register_reference_agencies(session)
    session.commit()
    until = (clock.today_jst() + timedelta(days=30)).isoformat()
    form = {
        "company": BANK,
        "purpose": "address_update",
        "items": ["address"],
        "valid_until": until,
        "fetch_type": "once",
        "data_life_days": "30",
    }
    missing = client.post("/portal/consents?lang=en", data=form)
    assert missing.status_code == 403
    forged = client.post("/portal/consents?lang=en", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "This form has expired" in forged.text
    session.expire_all()
    assert mesh.list_consents(session, person.id) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"company": ELECTRICITY + "x"}, "company", "Choose a company."),
        ({"items": []}, "items", "Choose the data to share."),
        ({"valid_until": "2000-01-01"}, "valid_until", "The end date must be today or later."),
        ({"valid_until": "soon"}, "valid_until", "Enter the end date as a date."),
        ({"times": "0"}, "times", "Enter a number from 1 to 100."),
    ],
)
def test_a_wrong_grant_names_the_field_and_writes_nothing(
    client: TestClient,
    session: Session,
    person: residents.PersonRead,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    register_reference_agencies(session)
    session.commit()
    token = csrf_of(client.get("/portal/consents?lang=en").text)
    form: dict[str, Any] = {
        "csrf_token": token,
        "company": BANK,
        "purpose": "address_update",
        "items": ["address"],
        "valid_until": (clock.today_jst() + timedelta(days=30)).isoformat(),
        "fetch_type": "periodic",
        "times": "4",
        "data_life_days": "30",
        **change,
    }
    response = client.post("/portal/consents?lang=en", data=form)
    assert response.status_code == 422
    assert f'href="#{field}"' in response.text
    assert message in response.text
    session.expire_all()
    assert mesh.list_consents(session, person.id) == []


def test_who_used_my_data_pages_back_newest_first(
    client: TestClient, session: Session, person: residents.PersonRead
) -> None:
    register_reference_agencies(session)
    pension = AGENCIES["pension"].subsystem
    start = clock.now() - timedelta(days=30)
    for n in range(25):
        common: dict[str, Any] = {
            "person_id": person.id,
            "service": mesh.BASIC_FOUR_SERVICE,
            "items": ["address"],
            "legal_basis": None if n == 24 else mesh.BASIC_FOUR_LEGAL_BASIS,
            "consent_id": uuid.uuid4() if n == 24 else None,
            "message_id": f"message-{n:02d}",
            "request_hash": f"{n:064x}",
            "response_hash": None,
            "outcome": "refused:mesh.no_grant" if n == 23 else "ok",
            "requested_at": start + timedelta(hours=n),
            "provided_at": None,
        }
        mesh.append_records(
            session,
            [
                mesh.AccessRecordCreate(
                    side="requester",
                    member=pension,
                    counterpart=mesh.BASIC_FOUR_SERVICE.rsplit("/", 1)[0],
                    agency_code="A" * 20,
                    **common,
                ),
                mesh.AccessRecordCreate(
                    side="provider",
                    member=mesh.BASIC_FOUR_SERVICE.rsplit("/", 1)[0],
                    counterpart=pension,
                    agency_code="B" * 20,
                    **common,
                ),
            ],
        )
    session.commit()

    first = client.get("/portal/records?lang=en")
    assert first.status_code == 200
    times = re.findall(r'<time datetime="([^"]+)"', first.text)
    assert len(times) == 20
    assert times == sorted(times, reverse=True)
    assert "Your consent" in first.text  # The newest exchange was made under consent.
    assert "Refused" in first.text
    older = re.search(r'href="(/portal/records\?before=\d+&amp;lang=en)"', first.text)
    assert older, "no link to the older records"
    second = client.get(older.group(1).replace("&amp;", "&"))
    rest = re.findall(r'<time datetime="([^"]+)"', second.text)
    assert len(rest) == 5
    assert max(rest) < min(times)
    assert "Newest records" in second.text
    assert "Older records" not in second.text


def test_a_household_member_sees_the_prefill_that_disclosed_them(
    database_url: str, session: Session, person: residents.PersonRead
) -> None:
    # Given a spouse in the resident's household,
    town = address.find_town(session, "131016", "丸の内")
    spouse = residents.register_person(
        session,
        residents.PersonCreate(
            family_name="鈴木",
            given_name="花子",
            family_name_kana="スズキ",
            given_name_kana="ハナコ",
            birth_date=date(1977, 8, 9),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="3番4号"
            ),
            household=residents.HouseholdChoice(
                household_id=person.household_id, relationship="妻"
            ),
            effective_on=date(2019, 4, 1),
        ),
        actor="official:test",
    )
    session.commit()
    # when the resident starts a moving-out notice, prefilled with the household,
    procedures.do_start_application(
        session, moving.MOVE_OUT, applicant=person.id, actor=procedures.actor_of(person.id)
    )
    session.commit()
    # then the spouse, signed in, finds on "who used my data" that the register gave their
    # name and date of birth to the procedures service, under the household's legal basis.
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(
            RESIDENT_COOKIE,
            resident_cookie(None, spouse.id),
        )
        page = client.get("/portal/records?lang=en")
    assert page.status_code == 200
    text = page.text
    assert text.count("<time ") == 1  # One exchange: the household prefill.
    assert mesh.HOUSEHOLD_LEGAL_BASIS in text
    assert "Resident register" in text
    assert "Date of birth" in text
    assert "Name" in text
    assert "Address" not in text  # The spouse's address was not part of the answer.


@pytest.mark.parametrize(
    ("lang", "office", "official", "items", "purpose"),
    [
        ("ja", "東京都千代田区", "市区町村職員 acct-7", "個人番号", "住民票の写しの交付"),
        ("en", "東京都千代田区", "Municipal official acct-7", "My Number", "Issuing a certificate"),
    ],
)
def test_the_resident_sees_which_officials_read_their_record(
    client: TestClient,
    session: Session,
    person: residents.PersonRead,
    lang: str,
    office: str,
    official: str,
    items: str,
    purpose: str,
) -> None:
    clerk = residents.Reader(
        actor="official:131016:clerk", actor_id="acct-7", organisation="131016", role="official"
    )
    residents.access_certificate_by_person_id(
        session, clerk, person.id, include_individual_number=True, route="GET /office/x"
    )
    residents.access_person_by_id(
        session,
        residents.Reader(actor="operator:root", actor_id="root", role="operator"),
        person.id,
        purpose=residents.ReadPurpose.OPERATION,
        route="cli: kiban residents show",
    )
    # Someone else's reads are not shown.
    other = residents.register_person(
        session,
        residents.PersonCreate.model_validate(
            person.model_dump(include={"family_name", "given_name", "birth_date", "sex"})
            | {
                "family_name_kana": "タナカ",
                "given_name_kana": "ハナコ",
                "address": {"text": person.address.text},
                "household": {"household_id": None, "relationship": "世帯主"},
                "effective_on": "2020-01-01",
            }
        ),
        actor="official:test",
    )
    residents.access_person_by_id(
        session, clerk, other.id, purpose=residents.ReadPurpose.REGISTER_ADMINISTRATION, route="x"
    )
    session.commit()

    page = client.get(f"/portal/records/officials?lang={lang}")

    assert page.status_code == 200
    text = html.unescape(page.text)
    assert text.count("<time ") == 2
    assert office in text
    assert official in text
    assert items in text
    assert purpose in text
    assert ("運用者の端末" if lang == "ja" else "The operator's terminal") in text
    # The person's own view of the page is not itself recorded.
    assert residents.get_reads_of_person(session, person.id).total == 2
    session.rollback()
    # "Who used my data" links to it.
    assert "/portal/records/officials" in client.get(f"/portal/records?lang={lang}").text


def test_the_officials_page_says_when_nobody_has_read_the_record(client: TestClient) -> None:
    page = client.get("/portal/records/officials?lang=en")
    assert page.status_code == 200
    assert "No official has viewed your record yet." in page.text
    assert client.get("/portal/records/officials?page=0").status_code == 422


def test_a_credential_offer_in_the_inbox_opens_the_wallet(
    client: TestClient, session: Session, person: residents.PersonRead
) -> None:
    """The offer's link goes to the wallet on the resident's computer (KIBAN_WALLET_URL), with
    the link to copy beside it; no transaction code is in the inbox."""
    from kiban.blocks import credentials  # noqa: PLC0415 - only this test issues.

    made = credentials.offer_credential(
        session, person_id=person.id, credential_type="resident", actor="official:test"
    )
    session.commit()
    (notice,) = notifications.list_inbox(session, person.id).items
    session.rollback()
    opened = client.get(f"/portal/inbox/{notice.id}?lang=en")
    assert opened.status_code == 200
    button = re.search(r'href="(http://127\.0\.0\.1:8766/receive\?[^"]+)"', opened.text)
    assert button is not None
    assert html.unescape(button[1]).endswith("&lang=en")
    assert made.offer_uri in html.unescape(opened.text)
    assert made.tx_code not in opened.text
