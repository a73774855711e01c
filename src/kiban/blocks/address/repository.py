"""Queries on the address tables. Private to the block: other blocks use the facade."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.orm import Session

from kiban.blocks.address.models import AbrTown, Municipality, Prefecture, Town, TownVersion

# Keeps every statement well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000


T = TypeVar("T")
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _town_select() -> AnySelect:
    return (
        select(
            Town.id,
            Town.lg_code,
            Town.machiaza_id,
            Town.name,
            Town.kana,
            Town.has_chome,
            Town.postal_codes,
            Town.lat,
            Town.lng,
            Town.chomes,
            Prefecture.name.label("pref_name"),
            Municipality.name.label("municipality_name"),
            Municipality.county,
        )
        .join(Municipality, Municipality.lg_code == Town.lg_code)
        .join(Prefecture, Prefecture.code == Municipality.pref_code)
    )


def _municipality_select() -> AnySelect:
    return select(
        Municipality.lg_code,
        Municipality.pref_code,
        Prefecture.name.label("pref_name"),
        Prefecture.kana.label("pref_kana"),
        Municipality.name,
        Municipality.kana,
        Municipality.county,
    ).join(Prefecture, Prefecture.code == Municipality.pref_code)


def town_rows_by_id(session: Session, ids: Sequence[uuid.UUID]) -> list[AnyRow]:
    rows: list[AnyRow] = []
    for part in chunks(ids):
        rows.extend(session.execute(_town_select().where(Town.id.in_(part))).all())
    return rows


def town_rows_in(session: Session, lg_code: str) -> list[AnyRow]:
    stmt = _town_select().where(Town.lg_code == lg_code).order_by(Town.machiaza_id)
    return list(session.execute(stmt).all())


def town_row_by_name(session: Session, lg_code: str, name: str) -> AnyRow | None:
    stmt = _town_select().where(Town.lg_code == lg_code, Town.name == name)
    return session.execute(stmt).first()


def municipality_row(session: Session, lg_code: str) -> AnyRow | None:
    stmt = _municipality_select().where(Municipality.lg_code == lg_code)
    return session.execute(stmt).first()


def municipality_rows(session: Session, pref_code: str | None) -> list[AnyRow]:
    stmt = _municipality_select().order_by(Municipality.lg_code)
    if pref_code is not None:
        stmt = stmt.where(Municipality.pref_code == pref_code)
    return list(session.execute(stmt).all())


def municipality_exists(session: Session, lg_code: str) -> bool:
    stmt = select(Municipality.lg_code).where(Municipality.lg_code == lg_code)
    return session.execute(stmt).first() is not None


def count_municipalities(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Municipality)).scalar_one()


def count_towns(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Town)).scalar_one()


def existing_prefecture_codes(session: Session) -> set[str]:
    return set(session.execute(select(Prefecture.code)).scalars())


def existing_lg_codes(session: Session) -> set[str]:
    return set(session.execute(select(Municipality.lg_code)).scalars())


def existing_towns(session: Session, lg_codes: Collection[str]) -> list[AnyRow]:
    """``(id, lg_code, machiaza_id, name, has_chome, postal_codes, lat, lng, chomes,
    official_name, only_chome)`` of the towns there."""
    stmt = select(
        Town.id,
        Town.lg_code,
        Town.machiaza_id,
        Town.name,
        Town.has_chome,
        Town.postal_codes,
        Town.lat,
        Town.lng,
        Town.chomes,
        Town.official_name,
        Town.only_chome,
    )
    rows: list[AnyRow] = []
    for part in chunks(sorted(lg_codes)):
        rows.extend(session.execute(stmt.where(Town.lg_code.in_(part))).all())
    return rows


def insert_rows(session: Session, model: type[Any], rows: Iterable[dict[str, Any]]) -> int:
    """Bulk insert (executemany with multi-row VALUES); returns how many rows went in."""
    batch = list(rows)
    for part in chunks(batch):
        session.execute(insert(model.__table__), list(part))
    return len(batch)


def update_towns(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update of towns by primary key (each dict has ``id`` and the changed columns)."""
    for part in chunks(rows):
        session.execute(update(Town), list(part))


def rows_in_machiaza(
    session: Session, model: type[Any], keys: Collection[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every row of an Address Base Registry table in these (lg_code, machiaza_id) pairs, as
    dicts of its columns."""
    table = model.__table__
    rows: list[dict[str, Any]] = []
    by_lg: dict[str, set[str]] = {}
    for lg_code, machiaza_id in keys:
        by_lg.setdefault(lg_code, set()).add(machiaza_id)
    for lg_code, machiaza_ids in sorted(by_lg.items()):
        for part in chunks(sorted(machiaza_ids)):
            stmt = select(table).where(table.c.lg_code == lg_code, table.c.machiaza_id.in_(part))
            rows.extend(dict(row) for row in session.execute(stmt).mappings())
    return rows


def update_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update by primary key (each dict has ``id`` and the changed columns)."""
    for part in chunks(rows):
        session.execute(update(model), list(part))


def abr_town_row(session: Session, lg_code: str, machiaza_id: str) -> dict[str, Any] | None:
    table = AbrTown.__table__
    stmt = select(table).where(table.c.lg_code == lg_code, table.c.machiaza_id == machiaza_id)
    row = session.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def town_version_rows(session: Session, lg_code: str, machiaza_id: str) -> list[AnyRow]:
    stmt = (
        select(
            TownVersion.version,
            TownVersion.efct_date,
            TownVersion.ablt_date,
            TownVersion.record,
            TownVersion.created_at,
        )
        .where(TownVersion.lg_code == lg_code, TownVersion.machiaza_id == machiaza_id)
        .order_by(TownVersion.version)
    )
    return list(session.execute(stmt).all())
