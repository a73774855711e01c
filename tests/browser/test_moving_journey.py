"""The whole moving journey in a real browser, by keyboard, every page checked by axe-core.

A resident signs in with the card, files a moving-out notice to another municipality dated a
week ahead (the register's facts prefilled, the new address read as it is typed) and signs it
in the card reader, which names the document and posts the signature back; the receipt gives a
reference number and the 14-day deadline; the old office accepts it; the resident reserves a
visit at the new office, offered from the moving date on; the new office cannot take the
move-in up before that date; the test moves the clock to the day of the visit and the new
office completes the move-in with the day the resident states. Then the resident sees the new
address on My page, a notice for each step in the inbox (the signing certificate's revocation
too), and in "who used my data" every agency and the consenting bank that received the new
address, and not the electricity company they gave no consent to.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks import mesh, procedures
from kiban.cardreader.app import create_reader_app
from kiban.kernel import clock
from kiban.platform import events, i18n
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import AUTH_PIN as OFFICIAL_PIN
from tests.life_events.journey import (
    AUTH_PIN,
    NEW_ADDRESS,
    NEW_LG,
    OLD_LG,
    SIGNING_PIN,
    Family,
    build_family,
)
from tests.live import free_port, serving
from tests.office_support import new_official

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "moving"
AHEAD = timedelta(days=7)


def _shot(page: Any, lang: str, name: str) -> None:
    """Keep a screenshot of the page as an artefact (var/screenshots/moving/<lang>/)."""
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@dataclass
class Servers:
    kiban: str
    reader: str
    family: Family
    engine: Engine
    officials: dict[str, tuple[str, str]]  # lg_code -> (card number, official's name)


@pytest.fixture
def servers(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    kiban_port, reader_port = free_port(), free_port()
    kiban_url, reader_url = f"http://127.0.0.1:{kiban_port}", f"http://127.0.0.1:{reader_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_CARD_READER_URL", reader_url)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    app = create_app()
    with serving(app, "kiban", kiban_port) as kiban:
        # The family is made while the server runs, so that its start-up subscribers see
        # every event (the identity block revokes the signing certificate on the move-in).
        with transaction(engine) as session:
            family = build_family(session, tmp_path / "cards")
            # Two named officials, one of each municipality, each with their own card in the
            # same reader.
            officials = {}
            for lg, (family_name, given_name) in {
                OLD_LG: ("札幌", "一郎"),
                NEW_LG: ("千代田", "次郎"),
            }.items():
                principal, card = new_official(
                    session,
                    lg,
                    "approval",
                    tmp_path / "cards",
                    family_name=family_name,
                    given_name=given_name,
                )
                officials[lg] = (card.card_number, principal.name)
        with serving(create_reader_app(family.store, kiban), "card-reader", reader_port) as reader:
            yield Servers(kiban, reader, family, engine, officials)


@pytest.fixture
def contexts(browser: Any, servers: Servers) -> Iterator[Callable[[], Any]]:
    """New browser contexts (a resident's, an official's), closed at the end. The reader's
    Content-Security-Policy forbids every script, axe-core's too; bypassing it in the test
    browser lets axe check the reader's pages."""
    opened: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()


def _press(page: Any, selector: str, key: str = "Enter") -> None:
    page.focus(selector)
    page.keyboard.press(key)


def _in_reader(
    page: Any,
    servers: Servers,
    *,
    signing: bool,
    check: bool = True,
    card: str | None = None,
    pin: str = AUTH_PIN,
) -> None:
    """Choose the card (the resident's unless another is named) and type the PIN(s) in the
    card reader, by keyboard."""
    page.wait_for_selector("#auth_pin")
    assert page.url.startswith(f"{servers.reader}/sign?")
    if check:
        assert_accessible(page)
    _press(page, f"#card-{card or servers.family.card.card_number}", "Space")
    page.focus("#auth_pin")
    page.keyboard.type(pin)
    if signing:
        page.focus("#signing_pin")
        page.keyboard.type(SIGNING_PIN)
    page.keyboard.press("Enter")
    if signing:
        # The signature goes back in a form's body, never in a URL.
        page.wait_for_selector("form[method='post'] button")
        assert "signing_certificate" not in page.url
        if check:
            assert_accessible(page)
        _press(page, "form[method='post'] button")


def _sign_in(page: Any, servers: Servers, target: str, *, check: bool = True) -> None:
    page.goto(target)
    page.wait_for_selector("form[action$='/sign'] button")
    _press(page, "form[action$='/sign'] button")
    _in_reader(page, servers, signing=False, check=check)
    page.wait_for_selector("button[value='approve']")
    _press(page, "button[value='approve']")


def _office_sign_in(page: Any, servers: Servers, lg_code: str, lang: str) -> None:
    """The official of ``lg_code`` signs in with their own card and chooses 決裁 there."""
    card, name = servers.officials[lg_code]
    page.goto(f"/office/login?next=/office/tasks&lang={lang}")
    assert_accessible(page)
    _press(page, "#sign-in-with-card")
    page.wait_for_selector("form[action$='/sign'] button")
    _press(page, "form[action$='/sign'] button")
    _in_reader(page, servers, signing=False, card=card, pin=OFFICIAL_PIN)
    page.wait_for_selector("button[value='approve']")
    _press(page, "button[value='approve']")
    choice = f"input[data-organisation='{lg_code}'][data-role='approval']"
    page.wait_for_selector(choice)
    assert name in page.inner_text("main")
    assert_accessible(page)
    _press(page, choice, "Space")
    _press(page, "form[action*='/office/choose'] button[type='submit']")
    page.wait_for_url("**/office/tasks*")


def _office_decides(page: Any, applicant: str, action: str, lang: str, shot: str) -> str:
    """From the task queue: claim the applicant's task, then take ``action`` through its
    confirmation page; returns the message the next page says, with screenshots of each page
    (``office-<lang>/<shot>-*``)."""
    page.wait_for_selector("table.table")
    assert applicant in page.inner_text("table.table")
    assert_accessible(page)
    _shot(page, "office-" + lang, f"{shot}-1-queue")
    _press(page, "form[action*='/claim'] button")
    selector = f"form:has(input[name='action'][value='{action}']) button"
    page.wait_for_selector(selector)
    assert "/office/applications/" in page.url
    # The claim is said in words on the application's page.
    assert applicant in page.inner_text(".notice--success")
    assert_accessible(page)
    _shot(page, "office-" + lang, f"{shot}-2-application")
    _press(page, selector)
    # A confirmation page (no JavaScript dialog) says what the action will do, to whom.
    page.wait_for_selector("input[name='confirmed']", state="attached")
    assert applicant in page.inner_text("main")
    assert_accessible(page)
    _shot(page, "office-" + lang, f"{shot}-3-confirm")
    _press(page, "form:has(input[name='confirmed']) button[type='submit']")
    page.wait_for_selector(".notice--success")
    done = page.inner_text(".notice--success")
    assert applicant in done
    _shot(page, "office-" + lang, f"{shot}-4-done")
    return done


def _deliver(engine: Engine) -> None:
    """With NATS configured no relay runs in the test, so the test delivers the events (and
    the mesh's deliveries they cause) itself; in-process, the server does."""
    if not get_settings().events_url:
        return
    events.deliver_pending(engine)
    with Session(engine) as session:
        mesh.deliver_due(session)
        session.commit()


def _eventually(
    page: Any, servers: Servers, url: str, wanted: list[str], timeout: float = 20.0
) -> str:
    """The text of ``url`` once it shows every one of ``wanted`` (deliveries run after the
    request that caused them)."""
    deadline = time.monotonic() + timeout
    while True:
        _deliver(servers.engine)
        page.goto(url)
        text = str(page.inner_text("main"))
        if all(w in text for w in wanted) or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


TEXTS = {
    "ja": {
        "title": "転出届",
        "submitted": "提出済み（窓口の審査待ち）",
        "accepted": "窓口で受理されました",
        "reserved": "来庁を予約しました。",
        "completed": "完了",
        "notices": [
            "転出届を受け付けました",
            "転出届が受理されました",
            "転入の来庁予約を受け付けました",
            "転入届の手続が完了しました",
            "住所の変更により署名用電子証明書が失効しました",
        ],
        "organisations": [
            "日本年金機構",
            "全国健康保険協会",
            "警視庁運転免許本部",
            "税務署",
            "きばん銀行",
            "北海道札幌市中央区役所",
        ],
        "unconsented": "きばん電力",
    },
    "en": {
        "title": "Moving-out notice",
        "submitted": "Submitted: waiting for the office",
        "accepted": "Accepted by the office",
        "reserved": "Your visit is reserved.",
        "completed": "Completed",
        "notices": [
            "Your moving-out notice was received",
            "Your moving-out notice was accepted",
            "Your visit for the moving-in notice is booked",
            "Your moving-in notice is complete",
            "Your signing certificate was revoked because your address changed",
        ],
        "organisations": [
            "Japan Pension Service",
            "Japan Health Insurance Association",
            "Metropolitan Police Driver's Licence Headquarters",
            "Tax office",
            "Kiban Bank",
            "北海道札幌市中央区役所",
        ],
        "unconsented": "Kiban Electric Power",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_resident_moves_to_another_municipality(
    contexts: Callable[[], Any], servers: Servers, lang: str
) -> None:
    texts = TEXTS[lang]
    family = servers.family
    resident = contexts()

    # Sign in with the card, straight to the procedures.
    _sign_in(resident, servers, f"/portal/procedures?lang={lang}")
    resident.wait_for_selector("a[href*='/portal/procedures/move_out']")
    assert resident.get_attribute("html", "lang") == lang
    assert_accessible(resident)
    _shot(resident, lang, "00-procedures")
    _press(resident, "a[href*='/portal/procedures/move_out']")
    # The start page, before any draft: what is needed and what happens next.
    resident.wait_for_selector("form[action*='/procedures/move_out/start'] button")
    assert texts["title"] in resident.inner_text("h1")
    assert "#cannot-sign" not in resident.content()
    assert_accessible(resident)
    _shot(resident, lang, "00-start")
    _press(resident, "form[action*='/procedures/move_out/start'] button")

    # The wizard: the register's facts are there; choose the spouse, type the new address.
    resident.wait_for_selector("#destination")
    main = resident.inner_text("main")
    assert family.applicant.full_name in main
    assert family.applicant.address.text in main
    assert family.spouse.full_name in main
    assert_accessible(resident)
    _press(resident, "#mover-1", "Space")
    # An address the registry cannot read comes back with the error beside the field.
    resident.focus("#destination")
    resident.keyboard.type("どこにもない町")
    resident.keyboard.press("Enter")
    resident.wait_for_selector(".error-summary")
    assert resident.get_attribute("#destination", "aria-invalid") == "true"
    assert resident.is_checked("#mover-1")  # What was ticked is kept.
    # The summary is at the top and has the focus; its link moves the focus to the field,
    # whose own message is beside it.
    assert resident.evaluate("document.activeElement.classList.contains('error-summary')")
    assert resident.is_visible("#destination-error")
    _press(resident, ".error-summary a[href='#destination']")
    assert resident.evaluate("document.activeElement.id") == "destination"
    assert resident.locator("[aria-current='step']").count() == 1
    assert_accessible(resident)
    _shot(resident, lang, "01-form-error")
    resident.fill("#destination", "")
    resident.focus("#destination")
    resident.keyboard.type(NEW_ADDRESS)
    # Normalized as typed (the script asks the address API).
    resident.wait_for_function(
        "document.getElementById('destination-reading').textContent.includes('北一条西二丁目')"
    )
    moving_day = clock.today_jst() + AHEAD  # Filed a week before the move.
    resident.fill("#moved_on", moving_day.isoformat())
    _shot(resident, lang, "01-form")
    _press(resident, "form[action*='/save'] button[type='submit']")

    # The review: the address as the registry reads it; then the card reader signs.
    resident.wait_for_selector("form[action$='/sign'] button")
    review = resident.inner_text("main")
    assert "北海道札幌市中央区北一条西二丁目" in review
    assert NEW_ADDRESS in review  # What was typed, beside it.
    assert "typed=" not in resident.url
    assert_accessible(resident)
    _shot(resident, lang, "02-review")
    _press(resident, "form[action$='/sign'] button")
    resident.wait_for_selector("#signing_pin")
    reader_text = resident.inner_text("main")
    assert texts["title"] in reader_text  # The reader names the document it signs...
    application_id = resident.url.split("request_id=")[1].split(".")[0]
    reference = procedures.reference_of(uuid.UUID(application_id))
    assert reference in reader_text  # ...and its reference.
    _shot(resident, lang, "03-reader")
    _in_reader(resident, servers, signing=True)

    # The receipt: the reference, what happens next, the 転入届's deadline.
    resident.wait_for_selector(".reference")
    receipt = resident.inner_text("main")
    assert reference in receipt
    assert i18n.format_day(lang, moving_day + timedelta(days=14)) in receipt
    assert_accessible(resident)
    _shot(resident, lang, "04-receipt")
    status_url = f"{servers.kiban}/portal/applications/{application_id}"
    resident.goto(f"{status_url}?lang={lang}")
    assert texts["submitted"] in resident.inner_text("main")

    # The old office accepts it.
    old_office = contexts()
    _office_sign_in(old_office, servers, OLD_LG, lang)
    done = _office_decides(old_office, family.applicant.full_name, "approve", lang, "00-move-out")
    removed = (
        "住民基本台帳から消除しました（転出）" if lang == "ja" else "Removed from the resident"
    )
    assert removed in done
    assert texts["accepted"] in old_office.inner_text("main")
    # The journal names the official who accepted it, never an id.
    assert servers.officials[OLD_LG][1] in old_office.inner_text("main")
    assert "staff:" not in old_office.inner_text("main")
    assert "moving-packet" not in old_office.inner_text("main")
    assert_accessible(old_office)

    # The resident reserves a visit at the new office.
    resident.goto(f"{status_url}?lang={lang}")
    resident.wait_for_selector(f"a[href*='/portal/applications/']:not([href='{status_url}'])")
    assert texts["accepted"] in resident.inner_text("main")
    _press(resident, "main a[href*='/portal/applications/']")
    resident.wait_for_selector("input[name='slot']")
    visit = resident.inner_text("main")
    assert "北海道札幌市中央区" in visit
    assert "北海道札幌市中央区南3条西11丁目330-2" in visit  # The office's address...
    assert "8:30–17:15" in visit  # ...and hours.
    assert i18n.format_day(lang, moving_day) in visit  # Slots start on the moving date.
    first_slot = str(resident.get_attribute("input[name='slot']", "value"))
    slot_day = date.fromisoformat(first_slot[:10])
    assert slot_day >= moving_day
    assert_accessible(resident)
    _shot(resident, lang, "05-reserve")
    _press(resident, "input[name='slot']", "Space")
    _press(resident, "form[action*='/reserve'] button[type='submit']")
    resident.wait_for_selector(".timeline")
    assert texts["reserved"] in resident.inner_text("main")
    assert i18n.format_day(lang, slot_day) in resident.inner_text("main")
    assert_accessible(resident)
    _shot(resident, lang, "06-reserved")

    # Before the moving date the new office cannot take the move-in up, and says from when.
    new_office = contexts()
    _office_sign_in(new_office, servers, NEW_LG, lang)
    new_office.wait_for_selector("table.table")
    _press(new_office, "form[action*='/claim'] button")  # Refused: it says from when.
    new_office.wait_for_selector(".error-summary")
    assert i18n.format_day(lang, moving_day) in new_office.inner_text(".error-summary")
    assert new_office.locator("form[action*='/claim']").count() == 0  # Not claimed.
    assert_accessible(new_office)
    _shot(new_office, "office-" + lang, "01-move-in-not-yet")

    # The day of the visit (the test moves the clock): the new office completes the move-in.
    # A new working day: yesterday's office session has ended, so the official signs in again.
    with clock.travel(slot_day - clock.today_jst()):
        _office_sign_in(new_office, servers, NEW_LG, lang)
        done = _office_decides(
            new_office, family.applicant.full_name, "complete", lang, "03-move-in"
        )
        added = "住民基本台帳に記録しました（転入）" if lang == "ja" else "Added to the resident"
        assert added in done
        assert texts["completed"] in new_office.inner_text("main")
        assert servers.officials[NEW_LG][1] in new_office.inner_text("main")
        assert_accessible(new_office)
        _shot(new_office, "office-" + lang, "02-move-in-completed")
    # Back to the test's own time, where the resident's session (idle limit half an hour) is
    # still alive: what the move-in changed is there to see.
    _after_the_move_in(resident, new_office, servers, lang)


def _after_the_move_in(resident: Any, new_office: Any, servers: Servers, lang: str) -> None:
    texts = TEXTS[lang]

    # Once-only: the prefill report counts no fact typed again that the register held.
    new_office.goto(f"/office/procedures?lang={lang}")
    move_out_title = "転出届" if lang == "ja" else "Moving-out notice"
    row = new_office.locator("tbody tr", has_text=move_out_title)
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[2:] == ["1", "3", "5", "0"]  # Submitted, typed, prefilled, typed again.
    assert_accessible(new_office)
    _shot(new_office, "office-" + lang, "04-procedures")

    # My page: the new address.
    home = _eventually(
        resident, servers, f"/portal/?lang={lang}", ["北海道札幌市中央区北一条西二丁目"]
    )
    assert "北海道札幌市中央区北一条西二丁目" in home
    assert_accessible(resident)
    _shot(resident, lang, "07-my-page")

    # The inbox: every step, and the revoked signing certificate with how to renew it.
    inbox = _eventually(resident, servers, f"/portal/inbox?lang={lang}", texts["notices"])
    for subject in texts["notices"]:
        assert subject in inbox, subject
    assert_accessible(resident)
    _shot(resident, lang, "08-inbox")

    # Who used my data: the agencies and the consenting bank; not the electricity company.
    records = _eventually(resident, servers, f"/portal/records?lang={lang}", texts["organisations"])
    for organisation in texts["organisations"]:
        assert organisation in records, organisation
    assert texts["unconsented"] not in records
    assert_accessible(resident)
    _shot(resident, lang, "09-records")


def test_without_javascript_the_address_is_read_when_saved(browser: Any, servers: Servers) -> None:
    context = browser.new_context(
        base_url=servers.kiban, locale="ja-JP", bypass_csp=True, java_script_enabled=False
    )
    try:
        resident = context.new_page()
        # axe-core needs JavaScript; these pages are checked in the journey above.
        _sign_in(resident, servers, "/portal/procedures/move_out?lang=en", check=False)
        resident.wait_for_selector("form[action*='/procedures/move_out/start'] button")
        _press(resident, "form[action*='/procedures/move_out/start'] button")
        resident.wait_for_selector("#destination")

        # An address the registry cannot read: the error names the field, by keyboard.
        resident.focus("#destination")
        resident.keyboard.type("どこにもない町")
        resident.keyboard.press("Enter")
        resident.wait_for_selector(".error-summary")
        assert resident.get_attribute("#destination", "aria-invalid") == "true"
        assert "どこにもない町" in resident.input_value("#destination")

        resident.fill("#destination", NEW_ADDRESS)
        resident.fill("#moved_on", clock.today_jst().isoformat())
        _press(resident, "form[action*='/save'] button[type='submit']")
        resident.wait_for_selector("form[action$='/sign'] button")
        review = resident.inner_text("main")
        assert "北海道札幌市中央区北一条西二丁目" in review
        assert NEW_ADDRESS in review
    finally:
        context.close()
