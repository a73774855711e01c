"""Checks of the values a form and an action carry: each field's kind, and JSON that the
journal can store and hash forever."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks.procedures.definitions import FieldDef, ProcedureDef
from kiban.blocks.procedures.errors import FieldRequired, InvalidValue
from kiban.platform.fields import MAX_JSON_BYTES

TEXT_MAX: Final = 2000
_PEOPLE_MAX: Final = 50


def _check_date(name: str, value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise InvalidValue(name, "日付 (YYYY-MM-DD) で入力してください", "must be a date YYYY-MM-DD")


def _check_people(name: str, value: Any) -> list[Any]:
    if (
        not isinstance(value, list)
        or len(value) > _PEOPLE_MAX
        or not all(isinstance(item, str | dict) for item in value)
    ):
        raise InvalidValue(name, "人の一覧で入力してください", "must be a list of people")
    return list(value)


def storable(name: str, value: Any) -> None:
    """JSON that both databases store and give back unchanged (PostgreSQL refuses NUL in
    text), so that the journal's hashes recompute, and at most ``MAX_JSON_BYTES`` of it (the
    journal keeps every entry forever); else ``InvalidValue`` naming ``name``."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidValue(name, "JSON で表せる値にしてください", "must be plain JSON") from None
    if "\\u0000" in text:
        raise InvalidValue(name, "NUL 文字は使えません", "must not contain NUL characters")
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_JSON_BYTES:
        raise InvalidValue(name, "大きすぎます", f"is larger than {MAX_JSON_BYTES} bytes as JSON")


def check_value(field: FieldDef, value: Any) -> Any:
    """The value in its stored (JSON) form, or ``InvalidValue`` naming the field."""
    name = field.name
    storable(name, value)
    if value is None or value in ("", []):
        return None
    if field.kind == "date":
        return _check_date(name, value)
    if field.kind == "people":
        return _check_people(name, value)
    if not isinstance(value, str):
        raise InvalidValue(name, "文字列で入力してください", "must be a string")
    value = value.strip()
    if len(value) > TEXT_MAX:
        raise InvalidValue(name, "長すぎます", f"is longer than {TEXT_MAX} characters")
    if field.kind == "choice" and value not in field.choices:
        raise InvalidValue(
            name, "選択肢から選んでください", f"must be one of {', '.join(field.choices)}"
        )
    return value or None


def check_complete(session: Session, defn: ProcedureDef, values: Mapping[str, Any]) -> None:
    for field in defn.fields:
        if field.required and values.get(field.name) in (None, "", []):
            raise FieldRequired(field.name)
    if defn.validate is not None:
        defn.validate(session, values)
