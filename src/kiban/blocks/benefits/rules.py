"""Programmes as data: the declarative rule format and the pure engine that evaluates it.

A programme (:class:`ProgrammeDefinition`) is plain data — a dict or JSON document validated by
pydantic — never code. It names its legal basis, payer, base date (基準日), who is eligible (a
tree of :data:`Rule` over facts about each member of a household on the base date), the amount
(per person, per household, and per-child additions by age band and child rank), who receives
it (the person or the household head), the opt-out window and, for scheduled programmes, the
payment months.

:func:`determine` is the engine: given a programme and one household's facts it returns the
awards (one per recipient) with a line per eligible member. It does no I/O and reads no clock,
so it is tested with hypothesis (tests/blocks/benefits/test_rules.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AgeRule",
    "AllRule",
    "Amount",
    "AnyRule",
    "Award",
    "AwardLine",
    "BornWithinRule",
    "ChildAddition",
    "HeadRule",
    "HouseholdFacts",
    "IncomeBandRule",
    "MemberFacts",
    "MunicipalityRule",
    "NotRule",
    "ProgrammeDefinition",
    "ResidentRule",
    "Rule",
    "TaxExemptHouseholdRule",
    "age_on",
    "determine",
    "evaluate",
    "needs_tax",
    "next_base_date",
    "period_of",
]

INCOME_BANDS = ("exempt", "low", "middle", "high")
"""The tax office's income bands, lowest first (``exempt``: resident tax not levied)."""

IncomeBand = Literal["exempt", "low", "middle", "high"]
MAX_YEN = 10_000_000
"""No single line of a benefit is this large; a larger figure is a mistake in the data."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResidentRule(_Rule):
    """The member was a resident of the register on the base date."""

    kind: Literal["resident"] = "resident"


class AgeRule(_Rule):
    """The member's age on the base date is at least ``min`` and below ``below`` (years)."""

    kind: Literal["age"] = "age"
    min: int = Field(default=0, ge=0, le=150)
    below: int | None = Field(default=None, ge=1, le=151)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRule:
        if self.below is not None and self.below <= self.min:
            raise ValueError("below must be greater than min")
        return self


class HeadRule(_Rule):
    """The member is the household head (世帯主)."""

    kind: Literal["household_head"] = "household_head"


class TaxExemptHouseholdRule(_Rule):
    """Every member of the household is exempt from resident tax (住民税非課税世帯), as the tax
    office answers through the mesh."""

    kind: Literal["tax_exempt_household"] = "tax_exempt_household"


class IncomeBandRule(_Rule):
    """The member's income band (from the tax office) is one of ``bands``."""

    kind: Literal["income_band"] = "income_band"
    bands: tuple[IncomeBand, ...] = Field(min_length=1)


class BornWithinRule(_Rule):
    """The member was born at most ``days`` days before the base date (0: on the base date):
    for what a municipality offers a newborn once."""

    kind: Literal["born_within"] = "born_within"
    days: int = Field(ge=0, le=3660)


class MunicipalityRule(_Rule):
    """The member lives in one of ``lg_codes`` (地方公共団体コード, six digits) on the register:
    for a municipality's own programme."""

    kind: Literal["municipality"] = "municipality"
    lg_codes: tuple[Annotated[str, Field(pattern=r"^[0-9]{6}$")], ...] = Field(
        min_length=1, max_length=64
    )


class AllRule(_Rule):
    """Every rule holds (an empty list holds)."""

    kind: Literal["all"] = "all"
    rules: tuple[Rule, ...] = Field(default=(), max_length=32)


class AnyRule(_Rule):
    """At least one rule holds (an empty list does not)."""

    kind: Literal["any"] = "any"
    rules: tuple[Rule, ...] = Field(default=(), max_length=32)


class NotRule(_Rule):
    """The rule does not hold."""

    kind: Literal["not"] = "not"
    rule: Rule


Rule = Annotated[
    ResidentRule
    | AgeRule
    | HeadRule
    | TaxExemptHouseholdRule
    | IncomeBandRule
    | MunicipalityRule
    | BornWithinRule
    | AllRule
    | AnyRule
    | NotRule,
    Field(discriminator="kind"),
]
"""One node of an eligibility rule tree, told apart by ``kind``."""

AllRule.model_rebuild()
AnyRule.model_rebuild()
NotRule.model_rebuild()


class ChildAddition(BaseModel):
    """An amount for each eligible member whose age on the base date is in [min, below): the
    n-th child (counted among the household's children below ``rank_below``, eldest first) gets
    ``by_rank[n-1]``, the last entry for every later child."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(default=0, ge=0, le=30)
    below: int = Field(ge=1, le=31)
    by_rank: tuple[int, ...] = Field(min_length=1, max_length=10)
    rank_below: int = Field(default=18, ge=1, le=31)

    @model_validator(mode="after")
    def _sane(self) -> ChildAddition:
        if self.below <= self.min:
            raise ValueError("below must be greater than min")
        if any(amount < 0 or amount > MAX_YEN for amount in self.by_rank):
            raise ValueError(f"amounts must be between 0 and {MAX_YEN} yen")
        return self

    def amount_for(self, rank: int) -> int:
        """The addition for the ``rank``-th child (1 = eldest)."""
        return self.by_rank[min(rank, len(self.by_rank)) - 1]


class Amount(BaseModel):
    """How much: ``per_person`` for each eligible member, ``per_household`` once for a household
    with an eligible member, plus the first matching child addition for each eligible member.
    For a scheduled programme these are monthly amounts, times ``months_per_payment``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_person: int = Field(default=0, ge=0, le=MAX_YEN)
    per_household: int = Field(default=0, ge=0, le=MAX_YEN)
    child_additions: tuple[ChildAddition, ...] = Field(default=(), max_length=10)


_CODE = re.compile(r"^[a-z][a-z0-9-]{1,47}$")


class ProgrammeDefinition(BaseModel):
    """A benefit programme as data (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=2, max_length=48, examples=["flat-2026"])
    title_ja: str = Field(min_length=1, max_length=120)
    title_en: str = Field(min_length=1, max_length=120)
    legal_basis: str = Field(min_length=1, max_length=200)
    payer: str = Field(min_length=1, max_length=64, description="The paying organisation's code")
    base_date: date | None = Field(
        default=None, description="The base date (基準日); a run may name its own"
    )
    eligible: Rule = Field(description="The rule every eligible member meets")
    amount: Amount
    recipient: Literal["person", "household_head"] = "household_head"
    opt_out_days: int = Field(default=14, ge=0, le=180)
    payment_months: tuple[int, ...] = Field(
        default=(), max_length=12, description="Months (1-12) of a scheduled programme"
    )
    months_per_payment: int = Field(default=1, ge=1, le=12)

    @model_validator(mode="after")
    def _sane(self) -> ProgrammeDefinition:
        if not _CODE.match(self.code):
            raise ValueError("code: lower-case letters, digits and hyphens")
        if any(month < 1 or month > 12 for month in self.payment_months):
            raise ValueError("payment_months: months are 1 to 12")
        if len(set(self.payment_months)) != len(self.payment_months):
            raise ValueError("payment_months: each month once")
        if self.payment_months == () and self.months_per_payment != 1:
            raise ValueError("months_per_payment is for scheduled programmes only")
        return self

    @property
    def scheduled(self) -> bool:
        """Whether the programme pays in :attr:`payment_months` (else once)."""
        return bool(self.payment_months)


@dataclass(frozen=True)
class MemberFacts:
    """What the engine knows of one member of a household."""

    person_id: uuid.UUID
    birth_date: date
    resident: bool
    """Resident of the register on the base date."""
    head: bool
    income_band: IncomeBand | None = None
    """From the tax office, when the programme needs it and the office answered."""
    lg_code: str | None = None
    """The municipality the register has the member in."""


@dataclass(frozen=True)
class HouseholdFacts:
    """A household on the base date: its members (residents and not) and, when the programme
    needs it, whether the tax office found every member exempt from resident tax."""

    household_id: uuid.UUID
    members: tuple[MemberFacts, ...]
    tax_exempt: bool | None = None

    @property
    def head(self) -> MemberFacts | None:
        """The head who lived there on the base date, else the eldest resident member."""
        residents = [m for m in self.members if m.resident]
        for member in residents:
            if member.head:
                return member
        if not residents:
            return None
        return min(residents, key=lambda m: (m.birth_date, str(m.person_id)))


@dataclass(frozen=True)
class AwardLine:
    """One eligible member's share of an award and why."""

    person_id: uuid.UUID
    age: int
    amount_yen: int
    reason: str
    """``per_person``, ``per_household``, or ``child:<min>-<below>:rank<n>`` (joined by +)."""


@dataclass(frozen=True)
class Award:
    """What one recipient receives for one household."""

    recipient_id: uuid.UUID
    household_id: uuid.UUID
    amount_yen: int
    lines: tuple[AwardLine, ...] = field(default=())


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age on ``on`` (0 before the first birthday; a 29 February birthday
    counts on 1 March in common years)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return max(years, 0)


def evaluate(  # noqa: PLR0911 - one return per kind of rule reads best.
    rule: Rule, member: MemberFacts, household: HouseholdFacts, on: date
) -> bool:
    """Whether ``member`` of ``household`` meets ``rule`` on the base date ``on``."""
    match rule:
        case ResidentRule():
            return member.resident
        case AgeRule(min=low, below=high):
            age = age_on(member.birth_date, on)
            return age >= low and (high is None or age < high)
        case HeadRule():
            head = household.head
            return head is not None and head.person_id == member.person_id
        case TaxExemptHouseholdRule():
            return household.tax_exempt is True
        case IncomeBandRule(bands=bands):
            return member.income_band is not None and member.income_band in bands
        case MunicipalityRule(lg_codes=lg_codes):
            return member.lg_code is not None and member.lg_code in lg_codes
        case BornWithinRule(days=days):
            return 0 <= (on - member.birth_date).days <= days
        case AllRule(rules=rules):
            return all(evaluate(r, member, household, on) for r in rules)
        case AnyRule(rules=rules):
            return any(evaluate(r, member, household, on) for r in rules)
        case NotRule(rule=inner):
            return not evaluate(inner, member, household, on)
    raise AssertionError(rule)  # pragma: no cover - the union is closed.


def needs_tax(rule: Rule) -> bool:
    """Whether evaluating ``rule`` needs the tax office's answer."""
    match rule:
        case TaxExemptHouseholdRule() | IncomeBandRule():
            return True
        case AllRule(rules=rules) | AnyRule(rules=rules):
            return any(needs_tax(r) for r in rules)
        case NotRule(rule=inner):
            return needs_tax(inner)
    return False


def _ranks(household: HouseholdFacts, rank_below: int, on: date) -> dict[uuid.UUID, int]:
    children = sorted(
        (
            m
            for m in household.members
            if m.resident and m.birth_date <= on and age_on(m.birth_date, on) < rank_below
        ),
        key=lambda m: (m.birth_date, str(m.person_id)),
    )
    return {child.person_id: n for n, child in enumerate(children, start=1)}


def _line(
    programme: ProgrammeDefinition, member: MemberFacts, household: HouseholdFacts, on: date
) -> AwardLine:
    age = age_on(member.birth_date, on)
    amount = programme.amount.per_person
    reasons = ["per_person"] if amount else []
    for addition in programme.amount.child_additions:
        if addition.min <= age < addition.below:
            rank = _ranks(household, addition.rank_below, on).get(member.person_id)
            if rank is None:
                # Older than the rank count's limit but in the band: counted after every child.
                rank = len(_ranks(household, addition.rank_below, on)) + 1
            amount += addition.amount_for(rank)
            reasons.append(f"child:{addition.min}-{addition.below}:rank{rank}")
            break
    return AwardLine(
        member.person_id, age, amount * programme.months_per_payment, "+".join(reasons)
    )


def determine(programme: ProgrammeDefinition, household: HouseholdFacts, on: date) -> list[Award]:
    """The awards ``programme`` makes to ``household`` for the base date ``on``: one per
    recipient (the household head, or each eligible person), none when no member is eligible
    or nobody lived there on the base date. Lines of zero yen are left out."""
    eligible = [
        m
        for m in household.members
        if m.birth_date <= on and evaluate(programme.eligible, m, household, on)
    ]
    if not eligible:
        return []
    lines = [line for m in eligible if (line := _line(programme, m, household, on)).amount_yen]
    per_household = programme.amount.per_household * programme.months_per_payment
    if programme.recipient == "person":
        return [
            Award(line.person_id, household.household_id, line.amount_yen, (line,))
            for line in lines
        ]
    head = household.head
    if head is None:
        return []
    if per_household:
        lines.insert(
            0,
            AwardLine(head.person_id, age_on(head.birth_date, on), per_household, "per_household"),
        )
    total = sum(line.amount_yen for line in lines)
    if total == 0:
        return []
    return [Award(head.person_id, household.household_id, total, tuple(lines))]


def period_of(programme: ProgrammeDefinition, base_date: date) -> str:
    """The period a run pays for: ``YYYY-MM`` of the payment month for a scheduled programme,
    the base date (``YYYY-MM-DD``) for a one-off. A scheduled run's base date must fall in one
    of the payment months (``ValueError`` otherwise)."""
    if not programme.scheduled:
        return base_date.isoformat()
    if base_date.month not in programme.payment_months:
        raise ValueError("base_date")
    return f"{base_date:%Y-%m}"


def next_base_date(programme: ProgrammeDefinition, after: date) -> date:
    """The base date of the first period that pays for the month after ``after`` (the month
    after a birth, for 児童手当): for a scheduled programme the first day of the first payment
    month after ``after``'s month; for a one-off, ``after`` itself."""
    if not programme.scheduled:
        return after
    year, month = after.year, after.month
    for _ in range(12):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if month in programme.payment_months:
            return date(year, month, 1)
    raise AssertionError(programme.payment_months)  # pragma: no cover - validated non-empty.
