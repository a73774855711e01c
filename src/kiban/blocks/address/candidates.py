"""Ambiguous input, said rather than guessed: the places an input fits equally.

When a line fits several places of the registry equally (a ward name shared by designated
cities, a city name in two prefectures, a town name in several wards of the city given, a
town given without its municipality that several municipalities have), the normalizer
answers the part they have in common (``match_level`` ``unknown``, ``pref`` or ``city``) and
lists the places in ``candidates``, each as far as the input reads it. This module builds
those entries, and finds a town written without its municipality (:func:`towns_without_city`).
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from kiban.blocks.address.index import AddressIndex, CityEntry, CityGroup, TownEntry

MAX_CANDIDATES = 20
"""The most candidates one result lists (the first ones by lg_code and name)."""


class Candidate(BaseModel):
    """One place an ambiguous input fits: the registry's spelling, down to the level the
    input reads (the town when it was the town that was ambiguous)."""

    lg_code: str = Field(description="The municipality's (or designated city's) code.")
    pref: str
    county: str | None = None
    city: str
    ward: str | None = None
    oaza_cho: str | None = None
    town_id: uuid.UUID | None = None
    machiaza_id: str | None = None


def of_city(index: AddressIndex, group: CityGroup, city: CityEntry | None) -> Candidate:
    """A municipality (or a designated city standing for all its wards) as a candidate."""
    pref = index.prefectures.get(group.pref_code, "")
    if city is None:
        return Candidate(lg_code=group.lg_code, pref=pref, city=group.name)
    return Candidate(
        lg_code=city.lg_code,
        pref=pref,
        county=city.county,
        city=city.parent or city.name,
        ward=city.ward,
    )


def of_town(index: AddressIndex, town: TownEntry) -> Candidate:
    """A town as a candidate, with its municipality."""
    city = index.cities[town.lg_code]
    pref = index.prefectures.get(city.pref_code, "")
    return Candidate(
        lg_code=city.lg_code,
        pref=pref,
        county=city.county,
        city=city.parent or city.name,
        ward=city.ward,
        oaza_cho=town.name,
        town_id=town.id if isinstance(town.id, uuid.UUID) else uuid.UUID(town.id),
        machiaza_id=town.machiaza_id,
    )


def listed(candidates: list[Candidate]) -> list[Candidate]:
    """Without duplicates, in a stable order, at most :data:`MAX_CANDIDATES`."""
    unique = {(c.lg_code, c.oaza_cho or ""): c for c in candidates}
    return [unique[k] for k in sorted(unique)][:MAX_CANDIDATES]


def towns_without_city(
    index: AddressIndex, key: str, start: int, pref_code: str | None
) -> tuple[int, list[TownEntry]]:
    """The longest town name of the nation (or of the prefecture) at ``start`` of a key,
    for an input that names no municipality: ``(end, towns)``, ``(start, [])`` when none.
    Only exact names of two characters or more count, followed by a number, a space, a dash
    or nothing (what follows a town); several towns is an ambiguity."""
    room = len(key) - start
    for length in index.nation_town_lengths:
        if length > room:
            continue
        towns = index.nation_towns.get(key[start : start + length])
        if towns and pref_code is not None:
            towns = [t for t in towns if index.cities[t.lg_code].pref_code == pref_code]
        if towns:
            follows = key[start + length : start + length + 1]
            if follows and not (follows.isascii() or follows.isdigit()):
                # More name follows (千代田丸の内, 塩釜市): not a town alone; a municipality
                # the registry does not know, or a longer name, is not guessed at.
                return start, []
            return start + length, towns
    return start, []
