"""The rule engine of the benefits block, by properties (hypothesis) and by worked examples."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.blocks import benefits
from kiban.blocks.benefits import (
    SHIPPED,
    HouseholdFacts,
    MemberFacts,
    ProgrammeDefinition,
    age_on,
    determine,
)

BASE = date(2026, 12, 1)
PROGRAMMES = {p.code: p for p in SHIPPED}
FLAT = PROGRAMMES["flat-payment"]
CHILD = PROGRAMMES["child-allowance"]
EXEMPT = PROGRAMMES["exempt-household"]

births = st.dates(min_value=date(1920, 1, 1), max_value=BASE)


@st.composite
def households(draw: st.DrawFn) -> HouseholdFacts:
    size = draw(st.integers(min_value=1, max_value=8))
    head_index = draw(st.integers(min_value=0, max_value=size - 1))
    members = tuple(
        MemberFacts(
            person_id=uuid.UUID(int=draw(st.integers(min_value=1, max_value=2**64))),
            birth_date=draw(births),
            resident=draw(st.booleans()),
            head=n == head_index,
        )
        for n in range(size)
    )
    unique = {m.person_id: m for m in members}
    return HouseholdFacts(uuid.uuid4(), tuple(unique.values()), tax_exempt=draw(st.booleans()))


rules = st.recursive(
    st.one_of(
        st.just({"kind": "resident"}),
        st.just({"kind": "household_head"}),
        st.just({"kind": "tax_exempt_household"}),
        st.integers(min_value=0, max_value=100).map(
            lambda low: {"kind": "age", "min": low, "below": low + 18}
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda rs: {"kind": "all", "rules": rs}),
        st.lists(inner, max_size=3).map(lambda rs: {"kind": "any", "rules": rs}),
        inner.map(lambda r: {"kind": "not", "rule": r}),
    ),
    max_leaves=8,
)


def _programme(rule: object, **amount: object) -> ProgrammeDefinition:
    return ProgrammeDefinition.model_validate(
        {
            "code": "test-programme",
            "title_ja": "試験",
            "title_en": "Test",
            "legal_basis": "試験法",
            "payer": "test",
            "eligible": rule,
            "amount": amount or {"per_person": 1000},
        }
    )


@given(households())
def test_the_flat_payment_pays_the_head_for_every_resident(household: HouseholdFacts) -> None:
    residents = [m for m in household.members if m.resident]
    awards = determine(FLAT, household, BASE)
    if not residents:
        assert awards == []
        return
    assert len(awards) == 1
    (award,) = awards
    assert award.amount_yen == 100_000 * len(residents)
    assert household.head is not None
    assert award.recipient_id == household.head.person_id
    assert {line.person_id for line in award.lines} == {m.person_id for m in residents}


@given(households(), st.randoms())
def test_the_outcome_does_not_depend_on_the_order_of_members(
    household: HouseholdFacts, rng: object
) -> None:
    shuffled = list(household.members)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    other = HouseholdFacts(household.household_id, tuple(shuffled), household.tax_exempt)
    for programme in SHIPPED:
        first = determine(programme, household, BASE)
        second = determine(programme, other, BASE)
        assert [(a.recipient_id, a.amount_yen) for a in first] == [
            (a.recipient_id, a.amount_yen) for a in second
        ]


@given(households())
def test_child_allowance_amounts_follow_age_band_and_rank(household: HouseholdFacts) -> None:
    children = sorted(
        (m for m in household.members if m.resident and age_on(m.birth_date, BASE) < 22),
        key=lambda m: (m.birth_date, str(m.person_id)),
    )
    rank = {m.person_id: n for n, m in enumerate(children, start=1)}
    expected = 0
    for member in household.members:
        age = age_on(member.birth_date, BASE)
        if not member.resident or age >= 18:
            continue
        third = rank[member.person_id] >= 3
        monthly = 30_000 if third else (15_000 if age < 3 else 10_000)
        expected += monthly * 2
    awards = determine(CHILD, household, BASE)
    assert sum(a.amount_yen for a in awards) == expected
    assert len(awards) == (1 if expected else 0)


@given(households())
def test_the_exempt_household_payment_needs_the_tax_office(household: HouseholdFacts) -> None:
    awards = determine(EXEMPT, household, BASE)
    if household.tax_exempt is not True or not any(m.resident for m in household.members):
        assert awards == []
        return
    minors = sum(1 for m in household.members if m.resident and age_on(m.birth_date, BASE) < 18)
    assert [a.amount_yen for a in awards] == [100_000 + 50_000 * minors]


@settings(max_examples=200)
@given(rules, households())
def test_rules_survive_json_and_double_negation(rule: object, household: HouseholdFacts) -> None:
    programme = _programme(rule)
    again = ProgrammeDefinition.model_validate_json(programme.model_dump_json())
    assert again == programme
    negated = _programme({"kind": "not", "rule": {"kind": "not", "rule": rule}})
    for member in household.members:
        assert benefits.evaluate(programme.eligible, member, household, BASE) == (
            benefits.evaluate(negated.eligible, member, household, BASE)
        )
    assert benefits.needs_tax(programme.eligible) == ("tax_exempt_household" in str(rule))


@given(rules, households())
def test_per_person_awards_go_to_each_eligible_person(
    rule: object, household: HouseholdFacts
) -> None:
    programme = _programme(rule).model_copy(update={"recipient": "person"})
    awards = determine(programme, household, BASE)
    eligible = {
        m.person_id
        for m in household.members
        if benefits.evaluate(programme.eligible, m, household, BASE)
    }
    assert {a.recipient_id for a in awards} == eligible
    assert all(a.amount_yen == 1000 for a in awards)


@given(births, st.integers(min_value=0, max_value=40_000))
def test_age_never_decreases_and_counts_birthdays(birth: date, days: int) -> None:
    later = birth + timedelta(days=days)
    assert age_on(birth, later) >= age_on(birth, birth) == 0
    assert age_on(birth, later) <= days // 365


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "age", "min": 10, "below": 5}, "eligible.age"),
        ({"kind": "unknown"}, "eligible"),
        ({"kind": "income_band", "bands": []}, "eligible.income_band.bands"),
    ],
)
def test_a_bad_rule_names_the_field(data: object, field: str) -> None:
    with pytest.raises(benefits.InvalidProgramme) as caught:
        benefits.parse_programme({**FLAT.model_dump(mode="json"), "eligible": data})
    assert caught.value.field is not None
    assert caught.value.field.startswith(field)


def test_a_scheduled_programme_runs_only_in_its_payment_months() -> None:
    assert benefits.period_of(CHILD, date(2026, 12, 10)) == "2026-12"
    assert benefits.period_of(FLAT, date(2026, 11, 10)) == "2026-11-10"
    with pytest.raises(ValueError, match="base_date"):
        benefits.period_of(CHILD, date(2026, 11, 10))


def _member(birth: date, lg_code: str | None = "131016") -> tuple[MemberFacts, HouseholdFacts]:
    member = MemberFacts(uuid.uuid4(), birth, resident=True, head=False, lg_code=lg_code)
    return member, HouseholdFacts(uuid.uuid4(), (member,))


def test_a_municipalitys_programme_matches_only_its_residents() -> None:
    rule = _programme({"kind": "municipality", "lg_codes": ["131016"]}).eligible
    here, household = _member(date(2026, 1, 1))
    assert benefits.evaluate(rule, here, household, BASE)
    there, household = _member(date(2026, 1, 1), "011011")
    assert not benefits.evaluate(rule, there, household, BASE)
    nowhere, household = _member(date(2026, 1, 1), None)
    assert not benefits.evaluate(rule, nowhere, household, BASE)
    with pytest.raises(benefits.InvalidProgramme) as caught:
        benefits.parse_programme(
            {
                **FLAT.model_dump(mode="json"),
                "eligible": {"kind": "municipality", "lg_codes": ["1"]},
            }
        )
    assert caught.value.field is not None
    assert caught.value.field.startswith("eligible.municipality.lg_codes")


@given(st.dates(min_value=date(2020, 1, 1), max_value=BASE), st.integers(0, 400))
def test_born_within_counts_days_up_to_the_base_date(birth: date, days: int) -> None:
    rule = _programme({"kind": "born_within", "days": days}).eligible
    member, household = _member(birth)
    assert benefits.evaluate(rule, member, household, BASE) == ((BASE - birth).days <= days)
    # Not yet born on the base date: never.
    unborn, household = _member(BASE + timedelta(days=1))
    assert not benefits.evaluate(rule, unborn, household, BASE)


def test_the_next_base_date_is_the_first_payment_month_after_the_birth_month() -> None:
    assert benefits.next_base_date(CHILD, date(2026, 12, 7)) == date(2027, 2, 1)
    assert benefits.next_base_date(CHILD, date(2026, 11, 30)) == date(2026, 12, 1)
    assert benefits.next_base_date(CHILD, date(2026, 12, 1)) == date(2027, 2, 1)
    assert benefits.next_base_date(FLAT, date(2026, 11, 30)) == date(2026, 11, 30)


def test_the_support_registry_is_data_with_the_family_matched() -> None:
    codes = [p.code for p in benefits.SUPPORT_REGISTRY]
    assert len(codes) == len(set(codes))
    payment = next(p for p in benefits.SUPPORT_REGISTRY if p.kind == "payment")
    programme = payment.programme_for("131016")
    assert (programme.code, programme.payer) == (f"{payment.code}-131016", "131016")
    with pytest.raises(ValueError, match="payment"):
        benefits.SupportProgramme.model_validate(
            {**payment.model_dump(mode="json"), "kind": "service"}
        )
