"""A death in a real browser, by keyboard, every page checked by axe-core, in Japanese and
English: the physician's certificate is on the mesh; the husband signs in with his card, opens
the 死亡届 for his wife (prefilled from the register and the physician, nothing typed), signs it
with the card; the office accepts it; the register marks the death and its fan-out reaches the
agencies (shown from the deceased's access records on the おくやみ page), her benefits stop and
what she was owed is held, the company she represented needs its 代表者変更登記, and the chart of
legal heirs is downloaded."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiban import agencies
from kiban.agencies import physician
from kiban.cardreader.app import create_reader_app
from kiban.cardreader.store import CardStore
from kiban.kernel import clock
from kiban.platform.db import transaction
from kiban.platform.settings import get_settings
from tests.life_events.journey import OLD_LG, _known_to_every_government_agency, build_family
from tests.life_events.test_death import CORPORATE_NUMBER, give_benefits_and_a_business
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

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "death-journey"


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
            family = build_family(session, tmp_path / "cards", consent_bank=False)
            _known_to_every_government_agency(session, family.spouse)
            give_benefits_and_a_business(session, family.spouse)
            physician.certify_death(
                session,
                family.spouse.id,
                died_at=clock.now() - timedelta(hours=4),
                place_kind="hospital",
                place="東京都千代田区丸の内1-1-1 きばん病院",
                cause="illness",
                physician="医師 一郎",
                address=family.spouse.address.text,
            )
            principal, official_card = new_official(
                session,
                OLD_LG,
                "approval",
                tmp_path / "cards",
                family_name="千代田",
                given_name="次郎",
            )
            officials = {OLD_LG: (official_card.card_number, principal.name)}
        store = CardStore(tmp_path / "cards")
        with serving(create_reader_app(store, kiban), "card-reader", reader_port) as reader:
            yield Servers(kiban, reader, family, engine, officials)


@pytest.fixture
def contexts(browser: Any, servers: Servers) -> Iterator[Callable[[], Any]]:
    opened: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(
            base_url=servers.kiban, locale="ja-JP", bypass_csp=True, accept_downloads=True
        )
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()


TEXTS = {
    "ja": {
        "title": "死亡届",
        "physician": "死亡診断書（医療機関）",
        "told": "メッシュを通じて伝えた機関",
        "held": "支払を保留しています（計 10,000円）",
        "stopped": "テスト月額給付（",
        "company": f"株式会社ひっこしテック（法人番号 {CORPORATE_NUMBER}",
    },
    "en": {
        "title": "Death notice",
        "physician": "Death certificate (physician)",
        "told": "Who was told through the mesh",
        "held": "Payments held (10,000 yen in all)",
        "stopped": "Test monthly benefit (from ",
        "company": f"株式会社ひっこしテック (corporate number {CORPORATE_NUMBER}",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_death_from_the_physician_to_the_bereaveds_one_stop(
    contexts: Callable[[], Any], servers: Servers, lang: str
) -> None:
    texts = TEXTS[lang]
    husband, wife = servers.family.applicant, servers.family.spouse
    resident = contexts()
    _sign_in(resident, servers, f"/portal/death?lang={lang}")
    resident.wait_for_selector("#deceased-1")
    assert texts["title"] in resident.inner_text("h1")
    assert wife.full_name in resident.inner_text("main")
    assert_accessible(resident)
    _shot(resident, lang, "00-start")
    _press(resident, "#deceased-1", "Space")
    _press(resident, "form[action*='/portal/death/start'] button[type='submit']")

    # The review: the physician's facts, each with its source, nothing typed; signed by card.
    resident.wait_for_selector("form[action$='/sign'] button")
    main = resident.inner_text("main")
    assert "きばん病院" in main
    assert texts["physician"] in main
    assert_accessible(resident)
    _shot(resident, lang, "01-review")
    _press(resident, "form[action$='/sign'] button")
    _in_reader(resident, servers, signing=True)
    resident.wait_for_url("**/receipt*")
    assert_accessible(resident)
    _shot(resident, lang, "02-receipt")
    found = re.search(r"/portal/applications/([0-9a-f-]{36})", resident.url)
    assert found is not None
    application_id = found.group(1)

    # The deceased's office accepts it.
    office = contexts()
    _office_sign_in(office, servers, OLD_LG, lang)
    assert _office_decides(office, husband.full_name, "accept", lang, "03-office")

    # おくやみ: the fan-out from the deceased's access records, the benefits stopped, the
    # payments held, the company, each procedure with its deadline.
    wanted = [texts["told"], texts["held"], texts["stopped"], texts["company"], "代表者変更登記"]
    wanted += [agencies.get_agency(name).subsystem for name in ("pension", "insurer", "licence")]
    deadline = time.monotonic() + 30
    while True:
        _deliver(servers.engine)
        resident.goto(f"/portal/okuyami/{application_id}?lang={lang}")
        text = str(resident.inner_text("main"))
        if all(w in text for w in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for w in wanted:
        assert w in text, w
    assert "年金受給権者死亡届" in text
    assert husband.full_name.replace("\u3000", "") in text  # An heir, in the heirs table.
    assert_accessible(resident)
    _shot(resident, lang, "04-okuyami")

    # The chart of legal heirs, downloaded by keyboard.
    resident.focus("form[action$='/chart?lang=" + lang + "'] button")
    with resident.expect_download() as download:
        resident.keyboard.press("Enter")
    saved = SCREENSHOTS / lang / "heirs-chart.pdf"
    download.value.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    # The office sees the same list and the fan-out.
    office.goto(f"/office/deaths/{application_id}?lang={lang}")
    office.wait_for_selector("textarea#family")
    desk = office.inner_text("main")
    for w in (texts["told"], texts["held"], "代表者変更登記"):
        assert w in desk
    assert_accessible(office)
    _shot(office, lang, "05-office-death")
