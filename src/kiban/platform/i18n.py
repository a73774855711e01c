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


def format_moment(lang: Language, instant: datetime) -> str:
    """A day with its weekday and the time of day to the minute, in ``lang`` (the instant in
    the zone it is to be read in)."""
    day = format_day(lang, instant.date())
    return f"{day} {instant:%H:%M}" if lang == "ja" else f"{day}, {instant:%H:%M}"


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
