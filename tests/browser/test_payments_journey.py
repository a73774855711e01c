"""Issue 16's done-when, in a real browser, in Japanese and English: two residents register
their public-fund receiving accounts with their cards; the flat payment is pushed and the inbox
tells them; the batch is built (the job is its maker) and two officials of the national payer,
each signing in with their own card, approve it; one of them downloads the Zengin file, the
reference bank pays it and its result file is taken in; the first resident's "my payments"
shows the payment paid. The second resident's line is returned (the bank now holds another
name): the office sees them told, they correct their account, the next batch pays them — once.
Every page passes axe-core and is used by keyboard; screenshots go to
var/screenshots/payments/<lang>/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.agencies import AGENCIES, bank, wiring
from kiban.blocks import address, benefits, mesh, payments, residents
from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.blocks.identity.oidc_support import AUTH_PIN, card_in_reader
from tests.live import free_port, serving
from tests.office_support import official_with_card

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "payments"
LG = "131016"
OPERATOR = "kiban"
ROLE = "payments"
PROGRAMME = "flat-payment"
TEXT = {
    "ja": {
        "confirmed": "金融機関が口座を確認しました",
        "notice": "特別定額給付金の支給のお知らせ",
        "returned_notice": "給付金を振り込めませんでした",
        "paid": "支払済み",
        "approved": "承認済み",
        "settled": "完了",
        "agree": "1円単位で一致",
        "told": "お知らせ済み",
    },
    "en": {
        "confirmed": "The bank confirmed",
        "notice": "Special flat-rate cash payment: you will receive",
        "returned_notice": "We could not transfer your payment",
        "paid": "Paid",
        "approved": "Approved: ready to export",
        "settled": "Settled",
        "agree": "agree to the yen",
        "told": "In the inbox",
    },
}


@dataclass
class Resident:
    person: residents.PersonRead
    card: str
    holder: str  # The holder's name at the bank, as the resident types it.
    number: str


@dataclass
class Servers:
    kiban: str
    reader: str
    engine: Engine
    residents: list[Resident]
    officials: list[tuple[str, str]]  # (card number, name)


def _person(session: Any, given: str, kana: str) -> residents.PersonRead:
    town = address.list_towns(session, LG)[0]
    return residents.register_person(
        session,
        residents.PersonCreate(
            family_name="試験",
            given_name=given,
            family_name_kana="シケン",
            given_name_kana=kana,
            birth_date=date(1980, 4, 4),
            sex=residents.Sex.FEMALE,
            address=residents.AddressInput(
                town_id=town.id, chome=1 if town.has_chome else None, block_number="3番3号"
            ),
            effective_on=date(2010, 4, 1),
        ),
        actor="system:test",
    )


@pytest.fixture
def servers(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    kiban_port, reader_port = free_port(), free_port()
    kiban_url, reader_url = f"http://127.0.0.1:{kiban_port}", f"http://127.0.0.1:{reader_port}"
    monkeypatch.setenv("KIBAN_BASE_URL", kiban_url)
    monkeypatch.setenv("KIBAN_CARD_READER_URL", reader_url)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    cards = tmp_path / "cards"
    with serving(create_app(), "kiban", kiban_port) as kiban:
        with transaction(engine) as session:
            address.load_registry(session, lg_codes=[LG])
            payments.do_load_banks(session, actor="system:test")
            wiring.register_reference_agencies(session)
            for programme in benefits.SHIPPED:
                benefits.do_define_programme(session, programme, actor="system:test")
            people = []
            for n, (given, kana, holder) in enumerate(
                (("一子", "カズコ", "シケン カズコ"), ("二子", "フタコ", "シケン フタコ"))
            ):
                person = _person(session, given, kana)
                wiring.enrol_through_mesh(session, [person.id], seed=7)
                number = f"70000{n}1"
                bank.open_account(
                    session,
                    mesh.agency_code(session, AGENCIES["bank"].subsystem, person.id),
                    bank_code="0005",
                    branch_code="001",
                    account_number=number,
                    holder_kana=holder,
                )
                card = card_in_reader(session, person, cards)
                people.append(Resident(person, card.card_number, holder, number))
            officials = []
            for given, kana in (("承認一", "ショウニンイチ"), ("承認二", "ショウニンニ")):
                person = _person(session, given, kana)
                principal, card = official_with_card(session, person, OPERATOR, ROLE, cards)
                officials.append((card.card_number, principal.name))
        with serving(create_reader_app(CardStore(cards), kiban), "card-reader", reader_port) as rd:
            yield Servers(kiban, rd, engine, people, officials)


@pytest.fixture
def contexts(browser: Any, servers: Servers) -> Iterator[Callable[[], Any]]:
    opened: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(base_url=servers.kiban, locale="ja-JP", bypass_csp=True)
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _press(page: Any, selector: str, key: str = "Enter") -> None:
    page.focus(selector)
    page.keyboard.press(key)


def _card_sign_in(page: Any, servers: Servers, card: str) -> None:
    """Through kiban's provider and the card reader: choose the card, type the PIN, agree."""
    page.wait_for_selector("form[action$='/sign'] button")
    _press(page, "form[action$='/sign'] button")
    page.wait_for_selector("#auth_pin")
    assert page.url.startswith(f"{servers.reader}/sign?")
    _press(page, f"#card-{card}", "Space")
    page.focus("#auth_pin")
    page.keyboard.type(AUTH_PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("button[value='approve']")
    _press(page, "button[value='approve']")


def _resident_signs_in(page: Any, servers: Servers, who: Resident, lang: str) -> None:
    page.goto(f"/portal/?lang={lang}")
    _card_sign_in(page, servers, who.card)
    page.wait_for_url("**/portal/**")


def _register_account(page: Any, who: Resident, lang: str, shot: str) -> None:
    page.goto(f"/portal/payments/account?lang={lang}")
    page.wait_for_selector("#bank_code")
    page.select_option("#bank_code", "0005")
    page.fill("#branch_code", "001")
    page.fill("#account_number", who.number)
    page.fill("#holder_kana", who.holder)
    _press(page, "form.form button[type='submit']")
    page.wait_for_selector("[role='status']")
    assert TEXT[lang]["confirmed"] in page.inner_text("[role='status']")
    assert_accessible(page)
    _shot(page, lang, shot)


def _official_signs_in(page: Any, servers: Servers, n: int, lang: str) -> None:
    card, name = servers.officials[n]
    page.goto(f"/office/login?next=/office/payments&lang={lang}")
    _press(page, "#sign-in-with-card")
    _card_sign_in(page, servers, card)
    choice = f"input[data-organisation='{OPERATOR}'][data-role='{ROLE}']"
    page.wait_for_selector(choice)
    assert name in page.inner_text("main")
    _press(page, choice, "Space")
    _press(page, "form[action*='/office/choose'] button[type='submit']")
    page.wait_for_url(re.compile(r"^[^?]*/office/payments(\?|$)"))
    page.wait_for_load_state("load")


def _open_batch(page: Any, number: int, lang: str) -> None:
    page.goto(f"/office/payments?lang={lang}")
    page.wait_for_selector("table.table")
    assert_accessible(page)
    _press(page, f"a[href^='/office/payments/{benefits.PAYER}/batches/{number}?']")
    page.wait_for_selector("#lines")


def _approve(page: Any, number: int, lang: str, shot: str) -> None:
    _open_batch(page, number, lang)
    _press(page, "form[action*='/approvals'] button")
    page.wait_for_selector("p.notice[role='status']")
    assert_accessible(page)
    _shot(page, lang, shot)


def _export_and_take_in_the_result(
    page: Any, servers: Servers, number: int, lang: str, shot: str
) -> None:
    """Download the file (a form post), let the reference bank pay it, upload its result."""
    with page.expect_download() as download:
        _press(page, "form[action*='/transfer-file'] button")
    data = Path(download.value.path()).read_bytes()
    assert len(data) % 120 == 0
    with transaction(servers.engine) as session:
        result = bank.ReferenceBank(session).transfer(data)
    page.set_input_files(
        "#result_file",
        files=[{"name": "result.txt", "mimeType": "application/octet-stream", "buffer": result}],
    )
    _press(page, "form[action*='/result'] button")
    page.wait_for_selector("p.notice[role='status']")
    assert TEXT[lang]["settled"] in page.inner_text("dl.facts")
    assert TEXT[lang]["agree"] in page.inner_text("main")
    assert_accessible(page)
    _shot(page, lang, shot)


def _push_and_build(servers: Servers) -> int:
    """The flat payment, run when its window opened and settled now; the job builds the
    batch (its maker)."""
    with transaction(servers.engine) as session:
        window = benefits.get_programme(session, PROGRAMME).definition.opt_out_days
        ago = timedelta(days=window + 1)
        base = clock.today_jst() - ago
        with clock.travel(-ago):
            benefits.do_run_programme(session, PROGRAMME, base, actor="system:test")
        benefits.do_run_programme(session, PROGRAMME, base, actor="system:test")
    return _build(servers)


def _build(servers: Servers) -> int:
    with transaction(servers.engine) as session:
        return payments.do_build_batch(
            session, programme=PROGRAMME, payer=benefits.PAYER, actor="system:payments-job"
        ).number


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pushed_paid_returned_corrected_and_paid_once(
    servers: Servers, contexts: Callable[[], Any], lang: str
) -> None:
    text = TEXT[lang]
    paid_one, returned_one = servers.residents
    first, second = contexts(), contexts()
    _resident_signs_in(first, servers, paid_one, lang)
    _register_account(first, paid_one, lang, "01-account-registered")
    _resident_signs_in(second, servers, returned_one, lang)
    _register_account(second, returned_one, lang, "02-second-account-registered")

    number = _push_and_build(servers)
    first.goto(f"/portal/inbox?lang={lang}")
    assert text["notice"] in first.inner_text("main")
    assert_accessible(first)
    _shot(first, lang, "03-inbox-told")

    # The bank renames the second resident's account: their transfer will be returned.
    with transaction(servers.engine) as session:
        bank.open_account(
            session,
            mesh.agency_code(session, AGENCIES["bank"].subsystem, returned_one.person.id),
            bank_code="0005",
            branch_code="001",
            account_number=returned_one.number,
            holder_kana="ベツメイ フタコ",
        )

    # Two officials, each with their own card, approve; the second exports and settles.
    office_one, office_two = contexts(), contexts()
    _official_signs_in(office_one, servers, 0, lang)
    _approve(office_one, number, lang, "04-first-approval")
    assert office_one.locator("form[action*='/approvals']").count() == 0  # Not twice.
    _official_signs_in(office_two, servers, 1, lang)
    _approve(office_two, number, lang, "05-second-approval")
    assert text["approved"] in office_two.inner_text("dl.facts")
    assert servers.officials[0][1] in office_two.inner_text("dl.facts")
    _export_and_take_in_the_result(office_two, servers, number, lang, "06-settled")

    first.goto(f"/portal/payments?lang={lang}")
    first.wait_for_selector("table")
    assert text["paid"] in first.inner_text("table")
    assert_accessible(first)
    _shot(first, lang, "07-my-payments-paid")

    # The returned line: the office sees the person told; the person corrects the account.
    office_two.goto(f"/office/payments/{benefits.PAYER}/failures?lang={lang}")
    assert returned_one.person.full_name in office_two.inner_text("table")
    assert text["told"] in office_two.inner_text("table")
    assert_accessible(office_two)
    _shot(office_two, lang, "08-failures-told")
    second.goto(f"/portal/inbox?lang={lang}")
    assert text["returned_notice"] in second.inner_text("main")
    corrected = Resident(
        returned_one.person, returned_one.card, "ベツメイ フタコ", returned_one.number
    )
    _register_account(second, corrected, lang, "09-account-corrected")

    later = _build(servers)
    _approve(office_one, later, lang, "10-next-batch-first-approval")
    _approve(office_two, later, lang, "11-next-batch-second-approval")
    _export_and_take_in_the_result(office_two, servers, later, lang, "12-next-batch-settled")
    office_two.goto(f"/office/payments/{benefits.PAYER}/failures?lang={lang}")
    assert f"/batches/{later}?" in office_two.inner_html("table")
    _shot(office_two, lang, "13-failures-paid-later")

    second.goto(f"/portal/payments?lang={lang}")
    second.wait_for_selector("table")
    rows = second.locator("table tbody tr")
    assert rows.count() == 1  # Paid once.
    assert text["paid"] in rows.first.inner_text()
    assert_accessible(second)
    _shot(second, lang, "14-my-payments-paid-once")
    with transaction(servers.engine) as session:
        mine = payments.list_payments(session, returned_one.person.id)
        assert [(p.state, p.batch_number) for p in mine] == [("paid", later)]
        assert payments.reconcile(session, later).reconciled
