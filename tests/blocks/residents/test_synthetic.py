"""The synthetic country: plausible, valid and the same for the same seed."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.residents.models import Person
from kiban.kernel import identifiers
from kiban.kernel.errors import ValidationFailed
from kiban.platform import audit


def _country(session: Session) -> list[tuple[str, ...]]:
    return [
        (
            p.individual_number,
            p.family_name,
            p.given_name,
            p.birth_date.isoformat(),
            str(p.town_id),
            p.block_number,
            p.relationship,
        )
        for p in session.scalars(select(Person).order_by(Person.individual_number))
    ]


def test_tiny_country_is_plausible_and_valid(session: Session) -> None:
    summary = residents.seed_population(session, size="tiny", seed=7)
    session.commit()
    assert summary.residents == 60
    assert summary.municipalities == 1
    people = list(session.scalars(select(Person)))
    assert len(people) == 60
    numbers = [p.individual_number for p in people]
    assert len(set(numbers)) == len(numbers)
    assert all(identifiers.is_valid_my_number(n) for n in numbers)
    households: dict[object, list[Person]] = defaultdict(list)
    for person in people:
        households[person.household_id].append(person)
    assert len(households) == summary.households
    for members in households.values():
        heads = [m for m in members if m.relationship == "世帯主"]
        assert len(heads) == 1
        for child in (m for m in members if m.relationship == "子"):
            assert child.birth_date > heads[0].birth_date
        assert len({(m.town_id, m.block_number, m.building) for m in members}) == 1
    assert Counter(p.sex for p in people).keys() == {residents.Sex.MALE, residents.Sex.FEMALE}
    assert all(p.lg_code == "131016" for p in people)
    assert residents.get_country_summary(session).residents == 60
    assert audit.verify(session).ok


def test_same_seed_same_country_other_seed_other_country(session: Session) -> None:
    residents.seed_population(session, size="tiny", seed=42)
    first = _country(session)
    session.rollback()
    residents.seed_population(session, size="tiny", seed=42)
    again = _country(session)
    session.rollback()
    residents.seed_population(session, size="tiny", seed=43)
    other = _country(session)
    assert first == again
    assert first != other


def test_seed_refuses_a_non_empty_register_and_unknown_sizes(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        residents.seed_population(session, size="huge", seed=1)
    assert caught.value.field == "size"
    residents.seed_population(session, size="tiny", seed=1)
    with pytest.raises(ValidationFailed, match="not empty"):
        residents.seed_population(session, size="tiny", seed=2)
