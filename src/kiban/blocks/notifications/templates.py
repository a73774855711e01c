"""Notice templates: a code, a subject and a body in Japanese and English with ``str.format``
placeholders, and the type of every personalisation value.

Blocks and life events register their own templates when they are imported. Values are checked
against the declared types before anything is written: a missing, unknown or wrongly typed
value is ``notifications.invalid_params`` naming the value. Dates are written the way each
language writes them (``2026年11月26日`` / ``November 26, 2026``).
"""

from __future__ import annotations

import functools
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import format_date

from kiban.blocks.notifications.errors import InvalidParams, UnknownTemplate

ParamType = type[str] | type[int] | type[date]
_ALLOWED_TYPES: tuple[type, ...] = (str, int, date)


@dataclass(frozen=True)
class NoticeTemplate:
    """A registered template."""

    code: str
    subject_ja: str
    subject_en: str
    body_ja: str
    body_en: str
    params: Mapping[str, type]


@dataclass(frozen=True)
class Rendered:
    """A template rendered in both languages."""

    subject_ja: str
    subject_en: str
    body_ja: str
    body_en: str


TEMPLATES: dict[str, NoticeTemplate] = {}
_lock = threading.Lock()


def _placeholders(text: str) -> set[str]:
    names: set[str] = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name is not None:
            if not name.isidentifier():
                raise ValueError(f"placeholder {{{name}}} must be a plain name")
            names.add(name)
    return names


def register_template(
    code: str,
    *,
    subject_ja: str,
    subject_en: str,
    body_ja: str,
    body_en: str,
    params: Mapping[str, type],
) -> NoticeTemplate:
    """Register (or replace) the template ``code``. A placeholder without a declared type, or a
    type other than str, int or date, is a programming error (``ValueError``)."""
    for name, kind in params.items():
        if kind not in _ALLOWED_TYPES:
            raise ValueError(f"template {code}: parameter {name} must be str, int or date")
    for text in (subject_ja, subject_en, body_ja, body_en):
        undeclared = _placeholders(text) - set(params)
        if undeclared:
            raise ValueError(f"template {code}: undeclared placeholders {sorted(undeclared)}")
    template = NoticeTemplate(
        code=code,
        subject_ja=subject_ja,
        subject_en=subject_en,
        body_ja=body_ja,
        body_en=body_en,
        params=dict(params),
    )
    with _lock:
        # Replacing keeps re-imports and tests simple; the rendered text of notices already
        # sent is stored with them, so a replacement never changes what someone was told.
        TEMPLATES[code] = template
    return template


def get_template(code: str) -> NoticeTemplate:
    """The template ``code``; ``notifications.unknown_template`` if none is registered."""
    try:
        return TEMPLATES[code]
    except KeyError:
        raise UnknownTemplate(code) from None


def _type_name_ja(kind: type) -> str:
    return {str: "文字列", int: "整数", date: "日付"}.get(kind, kind.__name__)


def check_params(template: NoticeTemplate, params: Mapping[str, Any]) -> None:
    """Every declared value present with its type, nothing else."""
    for name in params:
        if name not in template.params:
            raise InvalidParams(name, problem_ja="このひな形にない項目です", problem_en="unknown")
    for name, kind in template.params.items():
        if name not in params or params[name] is None:
            raise InvalidParams(name, problem_ja="値がありません", problem_en="missing")
        value = params[name]
        # bool is an int and datetime is a date in Python; neither is what the template means.
        wrong = (
            not isinstance(value, kind)
            or (kind is int and isinstance(value, bool))
            or (kind is date and isinstance(value, datetime))
        )
        if wrong:
            raise InvalidParams(
                name,
                problem_ja=f"{_type_name_ja(kind)}である必要があります",
                problem_en=f"must be {kind.__name__}",
            )


@functools.lru_cache(maxsize=1024)
def _long_date(value: date, lang: str) -> str:
    # A bulk send formats the same deadline for every notice: once is enough.
    return format_date(value, format="long", locale=lang)


def _localised(params: Mapping[str, Any], lang: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, date):
            values[name] = _long_date(value, lang)
        else:
            values[name] = str(value)
    return values


def render(template: NoticeTemplate, params: Mapping[str, Any]) -> Rendered:
    """``template`` with ``params`` (already checked) in Japanese and English."""
    ja, en = _localised(params, "ja"), _localised(params, "en")
    return Rendered(
        subject_ja=template.subject_ja.format(**ja),
        subject_en=template.subject_en.format(**en),
        body_ja=template.body_ja.format(**ja),
        body_en=template.body_en.format(**en),
    )


def stored_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as JSON (dates in ISO form)."""
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in params.items()
    }
