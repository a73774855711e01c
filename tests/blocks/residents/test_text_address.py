"""Registrations that give the address as free text: the address normalizer reads it into the
registry's town, 丁目, numbers and building, or the registration is refused naming
``address.text`` with what was understood."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kiban.blocks import address, residents
from kiban.blocks.address.index import invalidate_index
from kiban.kernel.errors import ValidationFailed
from tests.blocks.residents.conftest import OFFICIAL, person_create
from tests.staff_support import bearer, municipality_key


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    # The normalizer caches its index per database URL; each test loads its own registry.
    invalidate_index()
    yield
    invalidate_index()


def _with_text(town: address.TownRead, text: str, **fields: Any) -> residents.PersonCreate:
    data = person_create(town)
    return data.model_copy(update={"address": residents.AddressInput(text=text, **fields)})


def test_a_text_address_is_read_into_town_chome_numbers_and_building(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    text = "東京都千代田区丸の内１－９－１ グラントウキョウ 3F"

    person = residents.register_person(
        session, _with_text(towns["marunouchi"], text), actor=OFFICIAL
    )

    assert person.address.town_id == towns["marunouchi"].id
    assert person.address.chome == 1
    assert person.address.block_number == "9-1"
    assert person.address.building == "グラントウキョウ 3F"
    assert person.address.text == "東京都千代田区丸の内一丁目9番1号 グラントウキョウ 3F"


def test_written_numbers_and_a_missing_prefecture_are_understood(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    person = residents.register_person(
        session, _with_text(towns["kudan"], "千代田区九段北二丁目5番1号"), actor=OFFICIAL
    )

    assert (person.address.town_name, person.address.chome) == ("九段北", 2)
    assert person.address.block_number == "5-1"
    assert person.address.building is None


def test_explicit_fields_take_precedence_over_the_text(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    data = _with_text(towns["marunouchi"], "千代田区丸の内1-9-1", building="北口棟")

    person = residents.register_person(session, data, actor=OFFICIAL)

    assert person.address.building == "北口棟"


def test_a_move_within_by_text(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    moved = residents.move_within(
        session,
        family["head"].id,
        residents.MoveWithinCreate(
            moved_on=date(2025, 1, 10),
            address=residents.AddressInput(text="千代田区九段北2-5-1 九段ハイツ301"),
        ),
        actor=OFFICIAL,
    )

    assert moved.address.text == "東京都千代田区九段北二丁目5番1号 九段ハイツ301"


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("東京都千代田区", "東京都千代田区"),  # Only the municipality.
        ("どこでもない場所", "なし"),
        ("千代田区丸の内", "東京都千代田区丸の内"),  # No block number.
    ],
)
def test_text_that_does_not_reach_the_town_and_numbers_is_refused(
    session: Session, towns: dict[str, address.TownRead], text: str, understood: str
) -> None:
    before = residents.get_country_summary(session)

    with pytest.raises(ValidationFailed) as caught:
        residents.register_person(session, _with_text(towns["marunouchi"], text), actor=OFFICIAL)
    session.rollback()

    assert caught.value.field == "address.text"
    assert understood in caught.value.message_ja
    assert residents.get_country_summary(session) == before


def test_a_move_within_by_text_to_another_municipality_names_the_text(
    session: Session, towns: dict[str, address.TownRead], family: dict[str, residents.PersonRead]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        residents.move_within(
            session,
            family["head"].id,
            residents.MoveWithinCreate(
                moved_on=date(2025, 1, 10),
                address=residents.AddressInput(text="札幌市中央区大通西3丁目6"),
            ),
            actor=OFFICIAL,
        )

    assert caught.value.field == "address.text"


def test_exactly_one_of_town_and_text(session: Session, towns: dict[str, address.TownRead]) -> None:
    both = _with_text(towns["marunouchi"], "千代田区丸の内1-9-1")
    both.address.town_id = towns["marunouchi"].id
    neither = person_create(towns["marunouchi"])
    neither.address.town_id = None
    no_block = person_create(towns["marunouchi"])
    no_block.address.block_number = None

    fields = []
    for data in (both, neither, no_block):
        with pytest.raises(ValidationFailed) as caught:
            residents.register_person(session, data, actor=OFFICIAL)
        fields.append(caught.value.field)

    assert fields == ["address.text", "address.town_id", "address.block_number"]


def test_the_text_is_bounded() -> None:
    with pytest.raises(ValidationError):
        residents.AddressInput(text="丸" * 257)


def test_over_http_a_text_address_registers_or_is_a_422_on_address_text(
    session: Session, towns: dict[str, address.TownRead], monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings  # noqa: PLC0415 - the test client warns on import (see tests/web/conftest.py).

    from kiban.platform.settings import get_settings  # noqa: PLC0415
    from kiban.web import create_app  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient  # noqa: PLC0415

    get_settings.cache_clear()
    payload = person_create(towns["marunouchi"]).model_dump(mode="json")
    session.rollback()  # Ends the fixture's read transaction, which holds SQLite's lock.
    headers = bearer(municipality_key("131016", "approval"))

    with TestClient(create_app()) as client:
        payload["address"] = {"text": "千代田区丸の内1-9-1 グラントウキョウ"}
        created = client.post("/api/v1/residents", json=payload, headers=headers)
        payload["address"] = {"text": "東京都千代田区"}
        refused = client.post("/api/v1/residents?lang=en", json=payload, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["address"]["text"] == "東京都千代田区丸の内一丁目9番1号 グラントウキョウ"
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("address.invalid_address", "address.text")
    assert "understood: 東京都千代田区" in error["message"]


def test_a_text_address_matched_to_the_registrys_residences_keeps_numbers_and_building(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    # Given the Address Base Registry's town, block and residence tables for 霞が関,
    fixtures = Path(__file__).parents[1] / "address" / "fixtures"
    for kind, name in (
        ("town", "mt_town_sample.csv"),
        ("rsdtdsp_blk", "mt_rsdtdsp_blk_sample.csv"),
        ("rsdtdsp_rsdt", "mt_rsdtdsp_rsdt_sample.csv"),
    ):
        address.do_load_abr(session, kind, fixtures / name, actor=OFFICIAL)
    invalidate_index()
    # (the normalizer then matches down to the residence, numbers inside the matched part),
    text = "東京都千代田区霞が関1-1-2 中央合同庁舎"
    assert address.normalize(text, session=session).match_level == "rsdtdsp_rsdt"

    # when a registration gives that address as text,
    person = residents.register_person(
        session, _with_text(towns["marunouchi"], text), actor=OFFICIAL
    )

    # then the register holds the town, 丁目, numbers and building.
    assert person.address.town_name == "霞が関"
    assert person.address.chome == 1
    assert person.address.block_number == "1-2"
    assert person.address.building == "中央合同庁舎"
