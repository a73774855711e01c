"""The lean read of many municipalities' towns: what a synthetic population draws from.

``list_towns`` builds a full :class:`~kiban.blocks.address.service.TownRead` (postal codes,
丁目, points) for every town, one query per municipality. A seed of all of Japan needs only each
town's id and whether its addresses take a 丁目, for 117,217 towns: one query, three columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.address.models import Town

# Up to this many municipalities are named in the query; more are filtered here (a seed of all
# of Japan names 1,891, which would only slow the query down).
_LISTED = 100


@dataclass(frozen=True, slots=True)
class TownKey:
    """A town's id, its municipality and whether its addresses take a 丁目."""

    id: uuid.UUID
    lg_code: str
    has_chome: bool


def list_town_keys(session: Session, lg_codes: Collection[str]) -> dict[str, list[TownKey]]:
    """The towns of each of ``lg_codes`` in 町字ID order (the order of ``list_towns``); a
    municipality without towns, or unknown, is absent."""
    wanted = set(lg_codes)
    stmt = select(Town.id, Town.lg_code, Town.has_chome).order_by(Town.lg_code, Town.machiaza_id)
    if len(wanted) <= _LISTED:
        stmt = stmt.where(Town.lg_code.in_(sorted(wanted)))
    found: dict[str, list[TownKey]] = {}
    for town_id, lg_code, has_chome in session.execute(stmt):
        if lg_code in wanted:
            found.setdefault(lg_code, []).append(TownKey(town_id, lg_code, has_chome))
    return found
