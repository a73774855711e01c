"""Internationalisation: gettext catalogs in Japanese (the default) and English.

Message ids are English. The catalogs are ``src/kiban/locale/<lang>/LC_MESSAGES/kiban.po``;
they are compiled in memory on first use, so a fresh checkout needs no build step. ``make
messages`` re-extracts the ids from the code and templates and updates both catalogs.
"""

from __future__ import annotations

import gettext as _gettext
import io
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiban.kernel.clock import JST

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")
DEFAULT_LANGUAGE: Language = "ja"
DOMAIN = "kiban"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalog_path(lang: Language) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: Language) -> _gettext.GNUTranslations:
    """The compiled catalog for ``lang``."""
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(lang: Language, message: str) -> str:
    """``message`` translated into ``lang``."""
    return translations(lang).gettext(message)


def ngettext(lang: Language, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def coerce(value: str | None) -> Language | None:
    """``value`` if it names a supported language (``ja``, ``en-US`` …), else ``None``."""
    if not value:
        return None
    primary = value.strip().split("-")[0].split("_")[0].lower()
    for lang in LANGUAGES:
        if lang == primary:
            return lang
    return None


def negotiate(*explicit: str | None, accept_language: str | None = None) -> Language:
    """The language to answer in: the first explicit choice (query, cookie) that is supported,
    else the best supported entry of an ``Accept-Language`` header, else Japanese."""
    for choice in explicit:
        lang = coerce(choice)
        if lang:
            return lang
    if accept_language:
        ranked: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            ranked.append((quality, tag))
        for _quality, tag in sorted(ranked, key=lambda item: -item[0]):
            lang = coerce(tag)
            if lang:
                return lang
    return DEFAULT_LANGUAGE


_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def day_ja(day: date) -> str:
    """A day as Japanese documents write it: ``2026年12月14日（月）``."""
    return f"{day.year}年{day.month}月{day.day}日（{_WEEKDAYS_JA[day.weekday()]}）"


def day_en(day: date) -> str:
    """A day in English with its weekday: ``Monday 14 December 2026``."""
    return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_day(lang: Language, day: date) -> str:
    """A day with its weekday, in ``lang``."""
    return day_ja(day) if lang == "ja" else day_en(day)


_WEEKDAYS_EN_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_moment(lang: Language, moment: datetime) -> str:
    """A moment in Japan time with its weekday, to the minute: ``2026年12月7日（月）14:05`` /
    ``Mon 7 Dec 2026, 14:05``. Aware moments are converted to Japan time; naive ones (a visit
    slot, ``2026-12-15T09:30``) are taken as Japan time already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(JST)
    if lang == "ja":
        return f"{day_ja(moment.date())}{moment:%H:%M}"
    day = moment.date()
    short = _MONTHS_EN[day.month - 1][:3]
    return f"{_WEEKDAYS_EN_SHORT[day.weekday()]} {day.day} {short} {day.year}, {moment:%H:%M}"


def format_when(lang: Language, value: date | datetime | str | None) -> str:
    """A day or a moment as people read it (:func:`format_day`, :func:`format_moment`); an ISO
    text (``2026-12-15``, ``2026-12-15T09:30``) is read first. The one way pages show time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed: date = (
                datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
            )
        except ValueError:
            return value
        value = parsed
    if isinstance(value, datetime):
        return format_moment(lang, value)
    return format_day(lang, value)


# Japanese eras (元号) from their first day, newest first: official documents date in them.
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)


def day_wareki(day: date) -> str:
    """A day in the Japanese era calendar, as certificates write it: ``令和8年12月7日``; the
    first year of an era is 元年."""
    for start, era in _ERAS:
        if day >= start:
            year = day.year - start.year + 1
            shown = "元" if year == 1 else str(year)
            return f"{era}{shown}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def official_day(lang: Language, day: date) -> str:
    """A day as a certificate writes it: the era calendar in Japanese, ``7 December 2026``."""
    if lang == "ja":
        return day_wareki(day)
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
