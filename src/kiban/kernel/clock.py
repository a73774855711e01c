"""The one place kiban reads the time, so that every stored instant is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def now() -> datetime:
    """The current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def today_jst() -> date:
    """Today's date in Japan, which is what residents and officials mean by "today"."""
    return now().astimezone(JST).date()


def to_jst(instant: datetime) -> datetime:
    """Show an aware instant in Japan Standard Time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: kiban stores aware UTC instants only")
    return instant.astimezone(JST)
