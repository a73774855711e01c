"""The moving pages over HTTP, without JavaScript: the address is read on save and shown for
confirmation, a bad one changes nothing; the signed callback submits; offices see only their
own tasks; sending back needs a reason, which the resident then reads."""

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
from starlette.exceptions import StarletteDeprecationWarning

from kiban.blocks import notifications, procedures, residents
from kiban.cardreader.client import sign_challenge
from kiban.kernel import clock
from kiban.life_events import moving
from kiban.platform import i18n
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.web.portal_support import RESIDENT_COOKIE, resident_cookie

# As in tests/web/conftest.py: Starlette warns that it prefers ``httpx2`` for its test client.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=".*install `httpx2`", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient

from tests.blocks.identity.oidc_support import ReaderCard
from tests.office_support import (
    assert_plain_words,
    new_official,
    office_sign_in,
    visible_text,
)

from .journey import AUTH_PIN, NEW_LG, OLD_LG, SIGNING_PIN, Family, build_family


@dataclass
class Portal:
    resident: TestClient
    office: TestClient
    family: Family
    officials: dict[str, ReaderCard]
    csrf: str = ""


@pytest.fixture
def portal(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards", consent_bank=False)
        # One official of each municipality, each with their own card.
        officials = {
            lg: new_official(session, lg, "approval", tmp_path / f"official-{lg}")[1]
            for lg in (OLD_LG, NEW_LG)
        }
    app = create_app()
    with (
        TestClient(app, follow_redirects=False) as resident,
        TestClient(app, follow_redirects=False) as office,
    ):
        resident.cookies.set(
            RESIDENT_COOKIE,
            resident_cookie(None, family.applicant.id),
        )
        yield Portal(resident, office, family, officials)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _version(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


def _start(portal: Portal, code: str = moving.MOVE_OUT) -> tuple[str, str]:
    listing = portal.resident.get("/portal/procedures?lang=en")
    assert listing.status_code == 200
    assert f'href="/portal/procedures/{code}?lang=en"' in listing.text
    # The start page comes first; it makes no draft.
    start_page = portal.resident.get(f"/portal/procedures/{code}?lang=en")
    assert start_page.status_code == 200
    assert "What you need" in start_page.text
    started = portal.resident.post(
        f"/portal/procedures/{code}/start", data={"csrf_token": _csrf(start_page.text)}
    )
    assert started.status_code == 303
    url = started.headers["location"].split("?")[0]
    return url, portal.resident.get(f"{url}?lang=en").text


def _save(portal: Portal, url: str, page: str, **fields: Any) -> Any:
    data = {"csrf_token": _csrf(page), "version": str(_version(page)), **fields}
    return portal.resident.post(f"{url}/save?lang=en", data=data)


def _office_login(portal: Portal, lg_code: str) -> None:
    portal.office.cookies.clear()
    portal.csrf = office_sign_in(portal.office, portal.officials[lg_code], lg_code, "approval")


def _submit(portal: Portal, url: str) -> Any:
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
    # The reader's page posts the answer: the certificate's personal data never goes in a URL.
    assert 'name="response_mode" value="form_post"' in review
    return portal.resident.post(
        f"{url}/signed?lang=en", data={"request_id": request_id.group(1), **answer}
    )


def test_without_javascript_the_address_is_read_on_save_and_confirmed(portal: Portal) -> None:
    url, form = _start(portal)
    assert "What the register holds about you" in form
    assert portal.family.applicant.address.text in form
    assert 'id="mover-1"' in form  # The spouse, from the register's household service.

    # An address the registry cannot read: the form comes back naming the field, nothing saved.
    refused = _save(portal, url, form, destination="どこでもない町", moved_on="")
    assert refused.status_code == 422
    assert 'href="#destination"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert _version(refused.text) == _version(form)

    typed = "札幌市中央区北１条西２丁目１番地１ ハイツ101"
    saved = _save(portal, url, form, destination=typed, moved_on=clock.today_jst().isoformat())
    assert saved.status_code == 200  # The review answers the form's POST...
    review = saved.text
    assert "北海道札幌市中央区北一条西二丁目" in review  # As the registry reads it...
    assert typed in review  # ...beside what was typed (from the form's body).
    assert "Sign with your card and submit" in review
    assert "typed=" not in review

    # ...so that a link cannot make the page show anyone's words as "what you typed".
    spoofed = portal.resident.get(f"{url}/review?lang=en&typed=5pS744KB44Gm44GP44Gg44GV44GE")
    assert spoofed.status_code == 200
    assert "You typed" not in spoofed.text


def test_someone_elses_application_is_not_found(portal: Portal, engine: Engine) -> None:
    with transaction(engine) as session:
        theirs = procedures.do_start_application(
            session,
            moving.MOVE_OUT,
            applicant=portal.family.spouse.id,
            actor=procedures.actor_of(portal.family.spouse.id),
        )
    for path in ("", "/review", "/receipt"):
        page = portal.resident.get(f"/portal/applications/{theirs.id}{path}?lang=en")
        assert page.status_code == 404
        assert "Application not found" in page.text
        assert portal.family.spouse.full_name not in page.text
    answer = portal.resident.post(
        f"/portal/applications/{theirs.id}/signed?lang=en", data={"request_id": f"{theirs.id}.1"}
    )
    assert answer.status_code == 404
    assert portal.family.spouse.full_name not in answer.text
    _office_login(portal, OLD_LG)
    missing = portal.office.get(f"/office/applications/{uuid.uuid4()}?lang=en")
    assert missing.status_code == 404
    assert "Back to the task queue" in missing.text


def test_the_card_readers_answer_submits_and_the_offices_queue_shows_it(portal: Portal) -> None:
    url, form = _start(portal)
    spouse_code = _spouse_code(form)
    _save(
        portal,
        url,
        form,
        movers=spouse_code,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    # An answer for another application is refused and submits nothing.
    forged = portal.resident.post(f"{url}/signed?lang=en", data={"request_id": f"{uuid.uuid4()}.3"})
    assert forged.status_code == 422
    # A signature in a URL is not taken: the GET only knows cancellation.
    in_url = portal.resident.get(
        f"{url}/signed", params={"request_id": "x.1", "signing_certificate": "AAAA"}
    )
    assert in_url.status_code == 303
    assert "/review" not in in_url.headers["location"]
    submitted = _submit(portal, url)
    assert submitted.status_code == 303
    assert submitted.headers["location"].startswith(f"{url}/receipt")
    receipt = portal.resident.get(submitted.headers["location"]).text
    reference = procedures.reference_of(uuid.UUID(url.rsplit("/", 1)[1]))
    assert reference in receipt
    assert "Complete the moving-in notice at the new office within 14 days" in receipt
    deadline = moving.move_in_deadline(clock.today_jst())
    assert i18n.day_en(deadline) in receipt
    inbox = portal.resident.get("/portal/inbox?lang=en").text
    assert reference in inbox  # The notice carries the same reference.
    status = portal.resident.get(f"{url}?lang=en").text
    assert "Submitted: waiting for the office" in status
    assert "Expected completion" in status

    # The new municipality's office does not see it and may not take it.
    _office_login(portal, NEW_LG)
    assert "No applications are waiting." in portal.office.get("/office/tasks?lang=en").text
    application_id = url.rsplit("/", 1)[1]
    other = portal.office.get(f"/office/applications/{application_id}?lang=en")
    assert other.status_code == 403
    assert "another organisation" in other.text
    assert "/claim" not in other.text
    refused = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"version": "3", "csrf_token": portal.csrf},
    )
    assert refused.status_code == 403
    assert "another organisation" in refused.text

    # The old office does.
    _office_login(portal, OLD_LG)
    queue = portal.office.get("/office/tasks?lang=en").text
    assert portal.family.applicant.full_name in queue
    assert f"/office/applications/{application_id}" in queue
    page = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    # The spouse who moves too is named, not shown by the code the form keeps.
    assert "Household members moving too" in page
    assert spouse_code not in page
    assert page.count(portal.family.spouse.full_name) == 2


def test_sending_back_needs_a_reason_which_the_resident_reads(
    portal: Portal, engine: Engine
) -> None:
    url, form = _start(portal)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    assert _submit(portal, url).status_code == 303
    application_id = url.rsplit("/", 1)[1]
    _office_login(portal, OLD_LG)
    page = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    claimed = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"csrf_token": portal.csrf, "version": str(_version(page))},
    )
    assert claimed.status_code == 303
    page = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    assert "Signing certificate serial" in page
    assert "Prefilled from the Resident register through the mesh" in page
    version = _version(page)
    no_reason = portal.office.post(
        f"/office/applications/{application_id}/act?lang=en",
        data={
            "csrf_token": portal.csrf,
            "version": str(version),
            "action": "send_back",
            "reason": "",
        },
    )
    assert no_reason.status_code == 422
    assert _version(no_reason.text) == version  # Nothing changed.
    sent_back = portal.office.post(
        f"/office/applications/{application_id}/act?lang=en",
        data={
            "csrf_token": portal.csrf,
            "version": str(version),
            "action": "send_back",
            "reason": "建物名を確認してください",
            "confirmed": "true",
        },
    )
    assert sent_back.status_code == 303

    again = portal.resident.get(f"{url}?lang=en").text
    assert "The office sent this notice back to you." in again
    assert "建物名を確認してください" in again
    with transaction(engine) as session:
        inbox = notifications.list_inbox(session, portal.family.applicant.id)
        templates = [n.template for n in inbox.items]
        assert moving.notices.SENT_BACK in templates
        notice = next(n for n in inbox.items if n.template == moving.notices.SENT_BACK)
        assert "建物名を確認してください" in notice.body("ja")

    # A stale version is refused: two officials cannot overwrite each other.
    stale = portal.office.post(
        f"/office/applications/{application_id}/claim?lang=en",
        data={"csrf_token": portal.csrf, "version": str(version)},
    )
    assert stale.status_code == 409

    # The resident corrects it and signs it again; it is back in the office's queue.
    resubmitted = _submit(portal, url)
    assert resubmitted.status_code == 303
    assert "Submitted: waiting for the office" in portal.resident.get(f"{url}?lang=en").text
    assert application_id in portal.office.get("/office/tasks?lang=en").text


def test_cancelling_in_the_card_reader_submits_nothing(portal: Portal) -> None:
    url, form = _start(portal)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    cancelled = portal.resident.get(
        f"{url}/signed", params={"request_id": "x", "error": "cancelled", "lang": "en"}
    )
    assert cancelled.status_code == 303
    review = portal.resident.get(cancelled.headers["location"]).text
    assert "You did not sign. Nothing was submitted." in review
    assert "Draft" in portal.resident.get("/portal/procedures?lang=en").text


def test_a_move_within_the_municipality_with_one_office(portal: Portal, engine: Engine) -> None:
    url, form = _start(portal, moving.MOVE_WITHIN)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    # Another municipality is refused at submission, naming the address.
    refused = _submit(portal, url)
    assert refused.status_code == 422
    assert "file a moving-out notice" in refused.text
    form = portal.resident.get(f"{url}?lang=en").text
    _save(
        portal,
        url,
        form,
        movers=_spouse_code(form),
        destination="千代田区丸の内二丁目3-1",
        moved_on=clock.today_jst().isoformat(),
    )
    assert _submit(portal, url).status_code == 303
    application_id = uuid.UUID(url.rsplit("/", 1)[1])
    with transaction(engine) as session:
        app = procedures.get_application(session, application_id)
        app = procedures.do_claim_task(
            session, app.id, official="official:131016:test", expected_version=app.version
        )
        done = procedures.do_take_action(
            session,
            app.id,
            "complete",
            role="official",
            actor="official:131016:test",
            expected_version=app.version,
        )
        assert done.state == "completed"
        moved = residents.get_person(session, portal.family.applicant.id)
        spouse = residents.get_person(session, portal.family.spouse.id)
        assert moved.address.text.startswith("東京都千代田区丸の内二丁目3番1号")
        assert spouse.address.text == moved.address.text
        assert spouse.household_id == moved.household_id


def _spouse_code(form: str) -> str:
    found = re.search(r'id="mover-1" name="movers" value="([^"]+)"', form)
    assert found is not None
    return found.group(1)


def test_a_draft_can_be_withdrawn_and_then_changes_no_more(portal: Portal) -> None:
    url, form = _start(portal)
    withdrawn = portal.resident.post(
        f"{url}/withdraw?lang=en",
        data={"csrf_token": _csrf(form), "version": str(_version(form))},
    )
    assert withdrawn.status_code == 303
    status = portal.resident.get(f"{url}?lang=en").text
    assert "Withdrawn" in status
    assert 'name="destination"' not in status
    # Without the page's CSRF token nothing is posted at all.
    forged = portal.resident.post(f"{url}/save?lang=en", data={"version": "3"})
    assert forged.status_code == 403
    late = _save(portal, url, form, destination="札幌市中央区北一条西2-1-1", moved_on="")
    assert late.status_code == 409
    listing = portal.resident.get("/portal/procedures?lang=en").text
    assert "Withdrawn" in listing


def test_a_revoked_signing_certificate_is_told_before_signing(
    portal: Portal, engine: Engine
) -> None:
    from kiban.blocks.identity import service as identity_service  # noqa: PLC0415

    url, form = _start(portal)
    with transaction(engine) as session:
        revoked = identity_service.do_revoke_signing_for_person(
            session, portal.family.applicant.id, "affiliationChanged", actor="system:test"
        )
        assert revoked == 1
    saved = _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    review = saved.text
    # Said on the review, before the reader and its two PINs, with what to do.
    assert "You cannot sign with your card at the moment" in review
    assert "has been revoked" in review
    assert "ask for a new certificate for signing" in review
    assert 'name="challenge"' not in review  # No way to the reader.
    assert "You cannot sign" in portal.resident.get(f"{url}/review?lang=en").text


def test_the_start_page_makes_no_draft_and_offers_the_open_one(
    portal: Portal, engine: Engine
) -> None:
    page = portal.resident.get("/portal/procedures/move_out?lang=en")
    assert page.status_code == 200
    assert "What you need" in page.text
    assert "within 14 days of your move" in page.text
    with transaction(engine) as session:
        assert (
            procedures.list_applications(session, applicant=portal.family.applicant.id).total == 0
        )
    url, _form = _start(portal)
    again = portal.resident.get("/portal/procedures/move_out?lang=en").text
    assert "Continue that notice" in again
    assert url.rsplit("/", 1)[1] in again
    assert portal.resident.get("/portal/procedures/nothing?lang=en").status_code == 404


def test_the_offices_and_who_used_my_data_tell_the_packet_the_right_way_round(
    portal: Portal, engine: Engine
) -> None:
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from kiban.blocks import mesh  # noqa: PLC0415
    from kiban.platform import events  # noqa: PLC0415

    from .journey import act_as_official  # noqa: PLC0415

    url, form = _start(portal)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    assert _submit(portal, url).status_code == 303
    application_id = uuid.UUID(url.rsplit("/", 1)[1])
    with transaction(engine) as session:
        approved = act_as_official(session, application_id, "approve", OLD_LG)
        move_in_id = uuid.UUID(str(approved.outputs["move_in_application"]))
        move_in = procedures.get_application(session, move_in_id)
        slot = moving.slot_value(moving.offered_slots(moving.moved_out_on(move_in))[0])
        saved = procedures.do_save_draft(
            session,
            move_in_id,
            {"slot": slot},
            expected_version=move_in.version,
            actor=procedures.actor_of(portal.family.applicant.id),
        )
        procedures.do_take_action(
            session,
            move_in_id,
            "reserve",
            role="applicant",
            actor=procedures.actor_of(portal.family.applicant.id),
            expected_version=saved.version,
        )
    with transaction(engine) as session:
        act_as_official(session, move_in_id, "complete", NEW_LG)
    for _ in range(3):
        events.deliver_pending(engine)
        with Session(engine) as session:
            mesh.deliver_due(session)
            session.commit()

    # The sending office's page: the packet it sent, labelled as sent, with its items.
    _office_login(portal, OLD_LG)
    sent = portal.office.get(f"/office/applications/{application_id}?lang=en").text
    assert "Moving-out data sent to the new office through the mesh" in sent
    assert "received through the mesh" not in sent
    assert i18n.format_day("en", portal.family.applicant.birth_date) in sent
    assert "Chiyoda-ku, Tokyo" in sent  # The municipality in English, not its code.
    assert_plain_words(sent)
    assert portal.family.applicant.address.text in sent  # The previous address.
    assert "世帯主" in sent

    # Who used my data: the new office received the packet from the old one.
    page = portal.resident.get("/portal/records?lang=ja").text
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    packet_rows = [row for row in rows if "住民基本台帳法第24条の2" in row]
    assert packet_rows
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", packet_rows[0], flags=re.S)
    ]
    assert "札幌市中央区" in cells[1]  # Received by the new office...
    assert "千代田区" in cells[2]  # ...provided by the old one.
    assert "(subscription)" not in page  # No English in the Japanese page.
    assert "住民基本台帳法に基づく異動の通知" in page
    english = portal.resident.get("/portal/records?lang=en").text
    assert "Notice of a change under the Basic Resident Register Act" in english


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_office_pages_speak_plain_words_and_confirm_before_acting(
    portal: Portal, engine: Engine, lang: str
) -> None:
    url, form = _start(portal)
    spouse = _spouse_code(form)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
        movers=spouse,
    )
    assert _submit(portal, url).status_code == 303
    application_id = url.rsplit("/", 1)[1]
    applicant, spouse_name = portal.family.applicant.full_name, portal.family.spouse.full_name
    office = "東京都千代田区" if lang == "ja" else "Chiyoda-ku, Tokyo"
    _office_login(portal, OLD_LG)
    path = f"/office/applications/{application_id}"

    # The office home names the municipality, not its code.
    home = portal.office.get(f"/office?lang={lang}").text
    assert office in home
    assert "131016" not in visible_text(home)
    assert_plain_words(home)
    queue = portal.office.get(f"/office/tasks?lang={lang}").text
    assert applicant in queue
    assert_plain_words(queue)

    # Claiming is said in words on the next page, once.
    page = portal.office.get(f"{path}?lang={lang}").text
    claimed = portal.office.post(
        f"{path}/claim?lang={lang}", data={"csrf_token": portal.csrf, "version": _version(page)}
    )
    assert claimed.status_code == 303
    page = portal.office.get(claimed.headers["location"]).text
    said = "担当になりました" if lang == "ja" else "You now handle"
    assert said in page
    assert said not in portal.office.get(f"{path}?lang={lang}").text  # Once only.
    assert office in page  # The municipality handling it, by name.
    assert_plain_words(page)

    # Accepting asks first, on a page of its own, naming who leaves the register.
    asked = portal.office.post(
        f"{path}/act?lang={lang}",
        data={"csrf_token": portal.csrf, "version": _version(page), "action": "approve"},
    )
    assert asked.status_code == 200
    assert 'name="confirmed" value="true"' in asked.text
    assert applicant in asked.text
    assert spouse_name in asked.text
    assert_plain_words(asked.text)
    with transaction(engine) as session:
        still = procedures.get_application(session, uuid.UUID(application_id))
        assert still.state == "submitted"  # Asking changed nothing.
    done = portal.office.post(
        f"{path}/act?lang={lang}",
        data={
            "csrf_token": portal.csrf,
            "version": _version(asked.text),
            "action": "approve",
            "confirmed": "true",
        },
    )
    assert done.status_code == 303
    page = portal.office.get(done.headers["location"]).text
    message = re.search(r'class="notice notice--success".*?<p>(.*?)</p>', page, flags=re.S)
    assert message is not None
    if lang == "ja":
        assert f"{applicant}さん、{spouse_name}さんを住民基本台帳から消除しました（転出）" in (
            message.group(1)
        )
    else:
        assert f"Removed from the resident register (moved out): {applicant}, {spouse_name}" in (
            message.group(1)
        )
    assert_plain_words(page)

    # The other office pages: the prefill report, the register and a certificate.
    for other in ("/office/procedures", "/office/residents"):
        answer = portal.office.get(f"{other}?lang={lang}")
        assert answer.status_code == 200, other
        assert_plain_words(answer.text)
    person = portal.family.applicant.id
    certificate = portal.office.get(f"/office/residents/{person}/certificate?lang={lang}").text
    assert_plain_words(certificate)


def test_the_receipt_is_also_a_pdf_with_the_reference(portal: Portal, engine: Engine) -> None:
    import io  # noqa: PLC0415

    from pypdf import PdfReader  # noqa: PLC0415

    url, form = _start(portal)
    _save(
        portal,
        url,
        form,
        destination="札幌市中央区北一条西2-1-1",
        moved_on=clock.today_jst().isoformat(),
    )
    assert _submit(portal, url).status_code == 303
    application_id = uuid.UUID(url.rsplit("/", 1)[1])
    reference = procedures.reference_of(application_id)
    page = portal.resident.get(f"/portal/applications/{application_id}/receipt?lang=en").text
    assert f"/portal/applications/{application_id}/receipt.pdf?lang=en" in page
    answer = portal.resident.get(f"/portal/applications/{application_id}/receipt.pdf?lang=en")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(answer.content)).pages[0].extract_text()
    assert reference in text
    assert "Moving-out notice submitted" in text
    assert "within 14 days of your" in text
    # The inbox notice of the submission carries the same reference and the PDF.
    with transaction(engine) as session:
        inbox = notifications.list_inbox(session, portal.family.applicant.id)
    receipt_notice = next(n for n in inbox.items if (n.link or "").endswith("/receipt"))
    notice_page = portal.resident.get(f"/portal/inbox/{receipt_notice.id}?lang=en").text
    assert f"/portal/applications/{application_id}/receipt.pdf?lang=en" in notice_page
    japanese = portal.resident.get(f"/portal/applications/{application_id}/receipt.pdf?lang=ja")
    assert reference in PdfReader(io.BytesIO(japanese.content)).pages[0].extract_text()
    # Another resident gets no receipt of it.
    portal.resident.cookies.set(RESIDENT_COOKIE, resident_cookie(None, portal.family.spouse.id))
    other = portal.resident.get(f"/portal/applications/{application_id}/receipt.pdf?lang=en")
    assert other.status_code == 404
