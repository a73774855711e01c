"""The synthetic country: households of plausible people living at real addresses.

Names and kana come from Faker's ``ja_JP`` locale, towns from the address registry, and every
person gets a valid, unique individual number. Everything is drawn from one ``random.Random``
seeded by the caller and dated from a fixed reference day, so the same seed gives the same
country on any machine, any day.

The seed is an initial data load, not a series of notices: people are inserted in bulk (one
record version each), the audit log gets one entry per batch naming its people, and no
per-person events are queued (nothing downstream exists to hear of a country's creation).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from operator import mul
from typing import Any

from faker.providers.person.ja_JP import Provider as JapaneseNames
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.residents.errors import InvalidRecord
from kiban.blocks.residents.models import ChangeReason, Household, Person, RecordVersion, Status
from kiban.platform import audit, bulk

REFERENCE_DATE = date(2026, 4, 1)
RECORDED_AT = datetime(2026, 4, 1, tzinfo=UTC)
SEED_ACTOR = "system:seed"
BATCH_PEOPLE = 5_000

#: Municipalities of each size (lg_code) and how many residents it has. ``None`` means every
#: municipality in the registry.
SIZES: dict[str, tuple[tuple[str, ...] | None, int]] = {
    "tiny": (("131016",), 60),
    "demo": (("131016", "011011", "261041", "141097", "472018", "402036"), 3_000),
    "large": (None, 1_000_000),
}

BUILDINGS = ("コーポ桜", "ハイツ青葉", "メゾン若葉", "グリーンハイツ", "パークサイド", "レジデンス")

# Family names weighted by how common they are in Japan (Faker's table), as cumulative weights.
FAMILY_NAMES = list(JapaneseNames.last_name_pairs)
FAMILY_NAME_CUM_WEIGHTS = list(accumulate(JapaneseNames.last_name_pairs.values()))

# (kind, weight): close to the 2020 census shares of household types.
HOUSEHOLD_KINDS = (
    ("single", 38),
    ("couple", 20),
    ("couple_children", 25),
    ("single_parent", 9),
    ("three_generations", 8),
)


@dataclass(frozen=True)
class SeedSummary:
    size: str
    seed: int
    municipalities: int
    households: int
    residents: int


@dataclass
class _Member:
    sex: str
    birth_date: date
    relationship: str
    given: tuple[str, str]
    family: tuple[str, str] | None = None


@dataclass
class _Draw:
    """The random source of one country, with the name tables it draws from."""

    rng: random.Random
    multiplier: int = field(init=False)
    offset: int = field(init=False)
    issued: int = 0

    def __post_init__(self) -> None:
        # Individual numbers are an affine permutation of 0..10^11-1: unique by construction.
        multiplier = self.rng.randrange(10**9, 10**11) | 1
        while multiplier % 5 == 0:
            multiplier += 2
        self.multiplier = multiplier
        self.offset = self.rng.randrange(10**11)

    def individual_number(self) -> str:
        base = f"{(self.multiplier * self.issued + self.offset) % 10**11:011d}"
        self.issued += 1
        return base + _check_digit(base)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def family(self) -> tuple[str, str]:
        kanji, kana, _romaji = self.rng.choices(FAMILY_NAMES, cum_weights=FAMILY_NAME_CUM_WEIGHTS)[
            0
        ]
        return kanji, kana

    def given(self, sex: str) -> tuple[str, str]:
        pairs = (
            JapaneseNames.first_name_male_pairs
            if sex == "male"
            else JapaneseNames.first_name_female_pairs
        )
        kanji, kana, _romaji = self.rng.choice(pairs)
        return kanji, kana

    def birth(self, min_age: int, max_age: int) -> date:
        days = self.rng.randint(min_age * 365, max_age * 365 + 364)
        return REFERENCE_DATE - timedelta(days=days)

    def sex(self) -> str:
        return self.rng.choice(("male", "female"))


# The weights Qn of the check digit for the 11 digits of a base read left to right
# (総務省令第85号 第5条; ``identifiers.compute_my_number_check_digit`` is the reference, and the
# tests hold the two equal). The seed computes a million of them, so it avoids the generic code.
_CHECK_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(11, 0, -1))
_ZERO_OFFSET = ord("0") * sum(_CHECK_WEIGHTS)


def _check_digit(base: str) -> str:
    remainder = (sum(map(mul, base.encode(), _CHECK_WEIGHTS)) - _ZERO_OFFSET) % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def _household_members(draw: _Draw) -> list[_Member]:
    rng = draw.rng
    kind = rng.choices([k for k, _ in HOUSEHOLD_KINDS], [w for _, w in HOUSEHOLD_KINDS])[0]
    if kind == "single":
        sex = draw.sex()
        return [_Member(sex, draw.birth(18, 95), "世帯主", draw.given(sex))]
    if kind == "single_parent":
        sex = "female" if rng.random() < 0.85 else "male"
        head = _Member(sex, draw.birth(25, 55), "世帯主", draw.given(sex))
        return [head, *_children(draw, head, rng.randint(1, 3))]
    head_sex = "male" if rng.random() < 0.8 else "female"
    min_age, max_age = (65, 90) if kind == "couple" and rng.random() < 0.5 else (25, 70)
    head = _Member(head_sex, draw.birth(min_age, max_age), "世帯主", draw.given(head_sex))
    spouse_sex = "female" if head_sex == "male" else "male"
    spouse_birth = head.birth_date + timedelta(days=rng.randint(-5 * 365, 5 * 365))
    spouse_birth = min(spouse_birth, REFERENCE_DATE - timedelta(days=18 * 365))
    spouse = _Member(
        spouse_sex, spouse_birth, "妻" if spouse_sex == "female" else "夫", draw.given(spouse_sex)
    )
    members = [head, spouse]
    if kind in ("couple_children", "three_generations"):
        members += _children(draw, head, rng.randint(1, 3))
    if kind == "three_generations":
        parent_sex = draw.sex()
        parent_birth = head.birth_date - timedelta(days=rng.randint(22 * 365, 38 * 365))
        members.append(
            _Member(
                parent_sex,
                parent_birth,
                "父" if parent_sex == "male" else "母",
                draw.given(parent_sex),
            )
        )
    return members


def _children(draw: _Draw, parent: _Member, count: int) -> list[_Member]:
    children = []
    for _ in range(count):
        born = parent.birth_date + timedelta(days=draw.rng.randint(20 * 365, 42 * 365))
        if born >= REFERENCE_DATE:
            continue
        sex = draw.sex()
        children.append(_Member(sex, born, "子", draw.given(sex)))
    return children


def _address_fields(draw: _Draw, town: address.TownKey) -> dict[str, Any]:
    rng = draw.rng
    building = None
    if rng.random() < 0.35:
        building = f"{rng.choice(BUILDINGS)} {rng.randint(1, 12)}{rng.randint(1, 12):02d}号室"
    return {
        "lg_code": town.lg_code,
        "town_id": town.id,
        "chome": rng.randint(1, 5) if town.has_chome else None,
        "block_number": f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
        "building": building,
    }


def _people(
    draw: _Draw, towns: dict[str, list[address.TownKey]], weights: Sequence[int], total: int
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Households (row, member rows) until ``total`` people have been drawn."""
    lg_codes = list(towns)
    made = 0
    while made < total:
        lg_code = draw.rng.choices(lg_codes, weights)[0]
        town = draw.rng.choice(towns[lg_code])
        members = _household_members(draw)[: total - made]
        household_id = draw.uuid()
        place = _address_fields(draw, town)
        family = draw.family()
        moved_in = REFERENCE_DATE - timedelta(days=draw.rng.randint(0, 30 * 365))
        rows = []
        for member in members:
            rows.append(
                {
                    "id": draw.uuid(),
                    "individual_number": draw.individual_number(),
                    "family_name": family[0],
                    "given_name": member.given[0],
                    "family_name_kana": family[1],
                    "given_name_kana": member.given[1],
                    "birth_date": member.birth_date,
                    "sex": member.sex,
                    "status": Status.RESIDENT.value,
                    "household_id": household_id,
                    "relationship": member.relationship,
                    "resident_since": max(member.birth_date, moved_in),
                    "moved_out_on": None,
                    "moved_out_to": None,
                    "died_on": None,
                    "version": 1,
                    "created_at": RECORDED_AT,
                    "updated_at": RECORDED_AT,
                    **place,
                }
            )
        household = {
            "id": household_id,
            "lg_code": lg_code,
            "head_person_id": rows[0]["id"],
            "created_at": RECORDED_AT,
            "updated_at": RECORDED_AT,
        }
        made += len(rows)
        yield household, rows


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """``service.snapshot(row)`` for a seeded row, whose value types are known (the tests hold
    the two equal): a million generic conversions cost the seed more than writing them."""
    return {
        "family_name": row["family_name"],
        "given_name": row["given_name"],
        "family_name_kana": row["family_name_kana"],
        "given_name_kana": row["given_name_kana"],
        "birth_date": row["birth_date"].isoformat(),
        "sex": row["sex"],
        "status": row["status"],
        "lg_code": row["lg_code"],
        "town_id": str(row["town_id"]),
        "chome": row["chome"],
        "block_number": row["block_number"],
        "building": row["building"],
        "household_id": str(row["household_id"]),
        "relationship": row["relationship"],
        "resident_since": row["resident_since"].isoformat(),
        "moved_out_on": None,
        "moved_out_to": None,
        "died_on": None,
    }


@dataclass(frozen=True)
class _Batch:
    """The rows of one write: whole households, their people and the people's first versions."""

    households: list[dict[str, Any]]
    people: list[dict[str, Any]]
    versions: list[dict[str, Any]]


def _batches(
    draw: _Draw, towns: dict[str, list[address.TownKey]], weights: Sequence[int], total: int
) -> Iterator[_Batch]:
    """The country in batches of at least ``BATCH_PEOPLE`` people (whole households). The
    versions' ids are drawn after their batch's people, which fixes the order of every draw."""
    households: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    for household, rows in _people(draw, towns, weights, total):
        households.append(household)
        people.extend(rows)
        if len(people) >= BATCH_PEOPLE:
            yield _versioned(draw, households, people)
            households, people = [], []
    if people:
        yield _versioned(draw, households, people)


def _versioned(
    draw: _Draw, households: list[dict[str, Any]], people: list[dict[str, Any]]
) -> _Batch:
    versions = [
        {
            "id": draw.uuid(),
            "person_id": row["id"],
            "version": 1,
            "reason": ChangeReason.REGISTERED.value,
            "effective_on": row["resident_since"],
            "recorded_at": RECORDED_AT,
            "actor": SEED_ACTOR,
            "record": _snapshot(row),
        }
        for row in people
    ]
    return _Batch(households, people, versions)


def seed_population(
    session: Session,
    *,
    size: str,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Fill an empty register with the synthetic country of ``size`` (see ``SIZES``).

    Loads the municipalities it needs into the address registry first. ``progress`` is called
    with (people done, people in all) after every batch. Never commits: the caller's
    transaction holds it all, so an interrupted seed leaves nothing behind.

    A thread draws the next batch while this one writes the current one: the database (on
    PostgreSQL a process of its own, on SQLite the driver with the interpreter's lock
    released) ingests one batch while Python draws the next, so both cores work. Only the
    drawing thread touches the random source, in the same order as a single thread would, so
    the same seed still gives the same country.
    """
    if size not in SIZES:
        raise InvalidRecord(
            f"規模は {', '.join(SIZES)} のいずれかです。",
            f"size must be one of {', '.join(SIZES)}",
            field="size",
        )
    if session.scalar(select(func.count()).select_from(Person)):
        raise InvalidRecord(
            "住民基本台帳が空ではありません。", "The resident register is not empty.", field="size"
        )
    lg_codes, total = SIZES[size]
    if lg_codes is None:
        address.load_registry(session)
        municipalities = [m.lg_code for m in address.list_municipalities(session)]
    else:
        address.load_registry(session, lg_codes=lg_codes)
        municipalities = list(lg_codes)
    keys = address.list_town_keys(session, municipalities)
    towns = {code: keys[code] for code in municipalities if code in keys}
    weights = [len(found) for found in towns.values()]

    draw = _Draw(random.Random(seed))  # noqa: S311 - synthetic data, reproducible by design.
    batches = _batches(draw, towns, weights, total)
    households = residents = 0
    connection = session.connection()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiban-seed-draw") as drawing:
        upcoming = drawing.submit(next, batches, None)
        while (batch := upcoming.result()) is not None:
            upcoming = drawing.submit(next, batches, None)
            bulk.insert_rows(connection, Household, batch.households)
            bulk.insert_rows(connection, Person, batch.people)
            bulk.insert_rows(connection, RecordVersion, batch.versions)
            audit.record(
                session,
                tag="residents:person:seeded",
                actor=SEED_ACTOR,
                subject=f"seed:{size}:{seed}",
                data={
                    "households": len(batch.households),
                    "people": [str(row["id"]) for row in batch.people],
                },
            )
            households += len(batch.households)
            residents += len(batch.people)
            if progress:
                progress(residents, total)
    return SeedSummary(
        size=size, seed=seed, municipalities=len(towns), households=households, residents=residents
    )
