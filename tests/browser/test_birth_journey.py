"""A birth in a real browser, by keyboard, every page checked by axe-core, in Japanese and
English: the hospital's certificate arrives through the mesh; the mother signs in with her card,
finds her 出生届 filled in with the hospital's facts, types a name with a character not allowed
(the error names the field), then an allowed one, and signs it; her office accepts it; the
child is on the register and her inbox holds the acceptance, the insurer's card, the child
allowance the benefits block determined for the family and the municipality's programmes that
match it (and not another city's)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban.blocks import residents
from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.cli.agencies import make_birth
from kiban.cli.card import issue_into
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.life_events.journey import AUTH_PIN, OLD_LG, SIGNING_PIN, Family, build_family
from tests.live import free_port, serving
from tests.office_support import new_official

from .conftest import assert_accessible
from .test_moving_journey import (
    Servers,
    _deliver,
    _in_reader,
    _office_decides,
    _office_sign_in,
    _press,
    _sign_in,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "birth"


def _shot(page: Any, lang: str, name: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


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
        with transaction(engine) as session:
            couple = build_family(session, tmp_path / "cards", consent_bank=False)
            store = CardStore(tmp_path / "cards")
            card = issue_into(
                session,
                store,
                couple.spouse.id,
                auth_pin=AUTH_PIN,
                signing_pin=SIGNING_PIN,
                actor="t",
            )
            mother = Family(couple.spouse, couple.applicant, card, store)
            principal, official_card = new_official(
                session,
                OLD_LG,
                "approval",
                tmp_path / "cards",
                family_name="千代田",
                given_name="次郎",
            )
            officials = {OLD_LG: (official_card.card_number, principal.name)}
        with transaction(engine) as session:
            make_birth(session, mother.applicant.id, sex=residents.Sex.FEMALE, weight_grams=2980)
        with serving(create_reader_app(store, kiban), "card-reader", reader_port) as reader:
            yield Servers(kiban, reader, mother, engine, officials)


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


TEXTS = {
    "ja": {
        "title": "出生届",
        "hospital": "病院の出生証明書から",
        "notices": [
            "出生届が受理されました",
            "健康保険の資格が登録されました",
            # The child allowance, pushed by the benefits block (paid to the household head).
            "児童手当の支給が決まりました",
            # The municipality's programmes from the registry that match the family.
            "出産・子育て応援給付金のご案内",
            "乳幼児医療費助成（マル乳）のご案内",
            "定期予防接種のご案内",
        ],
    },
    "en": {
        "title": "Birth notice",
        "hospital": "From the hospital's birth certificate",
        "notices": [
            "Your birth notice was accepted",
            "is now insured with",
            "Child allowance for",
            "Birth and child-rearing support payment: offered for",
            "Medical expenses for infants (Tokyo wards): offered for",
            "Routine vaccinations: offered for",
        ],
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_birth_from_the_hospital_to_the_inbox(
    contexts: Callable[[], Any], servers: Servers, lang: str
) -> None:
    texts = TEXTS[lang]
    mother = servers.family.applicant
    resident = contexts()
    _sign_in(resident, servers, f"/portal/procedures/birth?lang={lang}")
    resident.wait_for_selector("a.button--start")
    assert texts["title"] in resident.inner_text("h1")
    assert_accessible(resident)
    _shot(resident, lang, "00-start")
    _press(resident, "a.button--start")

    # The form: the hospital's facts and the register's, each with its source.
    resident.wait_for_selector("#child_given_name")
    main = resident.inner_text("main")
    assert texts["hospital"] in main
    assert "2980" in main
    assert mother.full_name in main
    assert_accessible(resident)
    _shot(resident, lang, "01-form")
    resident.focus("#child_given_name")
    resident.keyboard.type("𠮷子")
    resident.focus("#child_given_name_kana")
    resident.keyboard.type("ヨシコ")
    resident.keyboard.press("Enter")
    resident.wait_for_selector(".error-summary")
    assert resident.get_attribute("#child_given_name", "aria-invalid") == "true"
    assert resident.is_visible("#child_given_name-error")
    assert_accessible(resident)
    _shot(resident, lang, "02-form-error")
    resident.fill("#child_given_name", "")
    resident.focus("#child_given_name")
    resident.keyboard.type("結衣")
    resident.fill("#child_family_name_kana", "ヒッコシ")
    resident.fill("#child_given_name_kana", "ユイ")
    resident.focus("#child_given_name_kana")
    resident.keyboard.press("Enter")

    # The review, then the card reader signs it.
    resident.wait_for_selector("form[action$='/sign'] button")
    assert "結衣" in resident.inner_text("main")
    assert_accessible(resident)
    _shot(resident, lang, "03-review")
    _press(resident, "form[action$='/sign'] button")
    _in_reader(resident, servers, signing=True)
    resident.wait_for_url("**/receipt*")
    assert_accessible(resident)
    _shot(resident, lang, "04-receipt")

    # The mother's office accepts it.
    office = contexts()
    _office_sign_in(office, servers, OLD_LG, lang)
    done = _office_decides(office, mother.full_name, "accept", lang, "05-office")
    assert done  # The next page says what the acceptance did.

    # The inbox: the acceptance, the insurer's card, the child allowance offer.
    deadline = time.monotonic() + 20
    while True:
        _deliver(servers.engine)
        resident.goto(f"/portal/inbox?lang={lang}")
        text = str(resident.inner_text("main"))
        if all(n in text for n in texts["notices"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for notice in texts["notices"]:
        assert notice in text
    assert "子ども医療費助成" not in text  # 札幌市's programme: not for a family in 千代田区.
    assert_accessible(resident)
    _shot(resident, lang, "06-inbox")
