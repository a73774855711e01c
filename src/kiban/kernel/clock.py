"""The one place kiban reads the time, so that every stored instant is timezone-aware UTC.

Tests that need another day (a move dated a week ahead, completed on the day) move the clock
with :func:`travel`: every reader of :func:`now` and :func:`today_jst` in the process, the
server's threads included, then sees the moved time. Nothing in kiban itself moves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")

_offset: list[timedelta] = [timedelta(0)]


def now() -> datetime:
    """The current instant as an aware UTC datetime."""
    return datetime.now(UTC) + _offset[0]


def today_jst() -> date:
    """Today's date in Japan, which is what residents and officials mean by "today"."""
    return now().astimezone(JST).date()


def to_jst(instant: datetime) -> datetime:
    """Show an aware instant in Japan Standard Time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: kiban stores aware UTC instants only")
    return instant.astimezone(JST)


@contextmanager
def travel(by: timedelta) -> Iterator[None]:
    """Move the process's clock ``by`` (forward or back) for the block; for tests."""
    before = _offset[0]
    _offset[0] = before + by
    try:
        yield
    finally:
        _offset[0] = before
