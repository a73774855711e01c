"""The corporate registry: valid numbers only, the field at fault, lookups and the seed."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import address, corporations
from kiban.kernel import identifiers
from kiban.kernel.errors import KibanError
from kiban.platform import audit
from kiban.platform.models import AuditEntry, OutboxEvent
from tests.blocks.corporations.conftest import NUMBER, OPERATOR, corporation_create


def _count(session: Session) -> int:
    return corporations.count_corporations(session)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4011001098994", "kiban.identifier.check_digit_mismatch"),
        ("401100109899", "kiban.identifier.wrong_length"),
        ("40110010989A3", "kiban.identifier.not_digits"),
    ],
)
def test_an_invalid_corporate_number_names_the_field_and_writes_nothing(
    session: Session, towns: dict[str, address.TownRead], number: str, code: str
) -> None:
    with pytest.raises(KibanError) as caught:
        corporations.register_corporation(
            session, corporation_create(towns, number=number), actor=OPERATOR
        )
    assert caught.value.code == code
    assert caught.value.field == "corporate_number"
    assert caught.value.status == 422
    assert _count(session) == 0


def test_register_and_look_up(session: Session, towns: dict[str, address.TownRead]) -> None:
    # Given a registration with full-width digits and hyphens, as people type them,
    data = corporation_create(towns, number="４０１１－００１０－９８９９３")
    created = corporations.register_corporation(session, data, actor=OPERATOR)
    session.commit()

    # then the canonical number is stored, with the addresses written out,
    assert created.corporate_number == NUMBER
    assert created.kind_label == "株式会社"
    assert created.status is corporations.CorporationStatus.ACTIVE
    assert created.head_office.text == "東京都千代田区丸の内一丁目1番1号"
    assert created.head_office.lg_code == "131016"
    assert created.representative.title == "代表取締役"
    assert created.representative.address.text == "東京都千代田区九段北二丁目2番3号"

    # and every lookup finds the same corporation.
    assert corporations.get_corporation(session, created.id) == created
    assert corporations.get_corporation_by_number(session, "4011001098993") == created
    assert corporations.list_corporations(session, lg_code="131016") == [created]
    assert corporations.list_corporations(session, name="基盤") == [created]
    assert corporations.list_corporations(session, name="存在しない") == []

    # The registration is audited and announced.
    tags = list(session.scalars(select(AuditEntry.tag)))
    assert "corporations:corporation:registered" in tags
    topics = list(session.scalars(select(OutboxEvent.topic)))
    assert corporations.REGISTERED in topics
    assert audit.verify(session).ok


def test_duplicates_unknown_numbers_and_bad_addresses_are_refused(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    corporations.register_corporation(session, corporation_create(towns), actor=OPERATOR)
    with pytest.raises(KibanError) as duplicate:
        corporations.register_corporation(session, corporation_create(towns), actor=OPERATOR)
    assert (duplicate.value.code, duplicate.value.status) == ("corporations.exists", 409)
    assert duplicate.value.field == "corporate_number"

    other = "7660487647593"
    with pytest.raises(KibanError) as missing:
        corporations.get_corporation_by_number(session, other)
    assert (missing.value.code, missing.value.field) == (
        "corporations.not_found",
        "corporate_number",
    )

    data = corporation_create(towns, number=other)
    elsewhere = data.model_copy(
        update={
            "head_office": corporations.AddressInput(town_id=uuid.UUID(int=1), block_number="1")
        }
    )
    with pytest.raises(KibanError) as unknown_town:
        corporations.register_corporation(session, elsewhere, actor=OPERATOR)
    assert unknown_town.value.field == "head_office.town_id"
    assert _count(session) == 1


def test_seed_uses_the_representatives_given_and_is_deterministic(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    people = [
        corporations.RepresentativeInput(
            name=f"代表　{i}郎",
            address=corporations.AddressInput(
                town_id=towns["kudan"].id, chome=1, block_number=f"{i}-1"
            ),
        )
        for i in range(1, 9)
    ]

    made = corporations.seed_corporations(session, count=6, seed=3, representatives=people)
    first = [(c.corporate_number, c.name, c.representative.name) for c in made]
    session.rollback()
    again = corporations.seed_corporations(session, count=6, seed=3, representatives=people)

    assert first == [(c.corporate_number, c.name, c.representative.name) for c in again]
    assert len({c.corporate_number for c in made}) == 6
    assert len({c.name for c in made}) == 6
    assert not any(char.isdigit() for c in made for char in c.name)
    assert all(identifiers.is_valid_corporate_number(c.corporate_number) for c in made)
    assert len({c.representative.name for c in made}) == 6
    assert {c.representative.name for c in made} <= {p.name for p in people}
    assert all(c.head_office.lg_code == "131016" for c in again)
    assert all(c.name.endswith(c.kind_label) or c.name.startswith(c.kind_label) for c in made)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 6

    with pytest.raises(KibanError) as too_many:
        corporations.seed_corporations(session, count=9, seed=3, representatives=people)
    assert too_many.value.field == "count"


def test_a_head_office_may_be_given_as_text_read_by_the_normalizer(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    # Given a registration whose head office is typed as one line,
    data = corporation_create(towns).model_copy(
        update={"head_office": corporations.AddressInput(text="千代田区丸の内１－９－１ 5階")}
    )
    address.invalidate_index()

    # when it is registered,
    created = corporations.register_corporation(session, data, actor=OPERATOR)

    # then the registry holds the town, 丁目, numbers and building the text says.
    assert created.head_office.town_id == towns["marunouchi"].id
    assert created.head_office.text == "東京都千代田区丸の内一丁目9番1号 5階"

    # and text that names no town is refused, naming the field, writing nothing.
    vague = corporation_create(towns, number="7660487647593").model_copy(
        update={"head_office": corporations.AddressInput(text="どこかの町")}
    )
    with pytest.raises(KibanError) as refused:
        corporations.register_corporation(session, vague, actor=OPERATOR)
    assert (refused.value.code, refused.value.field) == (
        "address.invalid_address",
        "head_office.text",
    )
    assert _count(session) == 1


def test_corporations_are_found_by_their_representatives_person_id(
    session: Session, towns: dict[str, address.TownRead]
) -> None:
    person = uuid.uuid4()
    data = corporation_create(towns)
    linked = data.model_copy(
        update={"representative": data.representative.model_copy(update={"person_id": person})}
    )
    corporation = corporations.register_corporation(session, linked, actor=OPERATOR)
    assert corporation.representative.person_id == person
    other_number = identifiers.generate_corporate_number(random.Random(7))  # noqa: S311 - a fixture.
    corporations.register_corporation(
        session, corporation_create(towns, number=other_number), actor=OPERATOR
    )
    found = corporations.list_corporations_represented_by(session, person)
    assert [c.corporate_number for c in found] == [NUMBER]
    assert corporations.list_corporations_represented_by(session, uuid.uuid4()) == []
