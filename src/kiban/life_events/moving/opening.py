"""When and where a municipal office receives visitors: its opening days and hours, and its
address, for the visit reservation of the 転入届.

Offices open on weekdays except Japan's national holidays (from the maintained ``jpholiday``
package, which follows the 国民の祝日に関する法律 and its substitute holidays) and the year-end
closure of 29 December to 3 January (行政機関の休日に関する法律第1条). The addresses of the
offices of the demo municipalities are kept here; any other office is named by its
municipality, with its address left to the municipality's own notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Final

import jpholiday

OPENS: Final = time(8, 30)
CLOSES: Final = time(17, 15)

# The resident-register counters of the municipalities the demo seed creates.
_ADDRESSES: Final[dict[str, tuple[str, str]]] = {
    "131016": ("千代田区役所", "東京都千代田区九段南1-2-1"),
    "011011": ("札幌市中央区役所", "北海道札幌市中央区南3条西11丁目330-2"),
    "261041": ("京都市中京区役所", "京都府京都市中京区西堀川通御池下る三坊西洞院町571"),
    "141097": ("横浜市港北区役所", "神奈川県横浜市港北区大豆戸町26-1"),
    "472018": ("那覇市役所", "沖縄県那覇市泉崎1-1-1"),
    "402036": ("久留米市役所", "福岡県久留米市城南町15-3"),
}


@dataclass(frozen=True)
class OfficeVisit:
    """Where the resident goes and when the counter is open."""

    lg_code: str
    name: str
    address: str | None
    opens: time
    closes: time

    @property
    def hours(self) -> str:
        """``8:30–17:15``."""
        return (
            f"{self.opens.hour}:{self.opens.minute:02d}–{self.closes.hour}:{self.closes.minute:02d}"
        )


def is_open(day: date) -> bool:
    """Whether municipal offices receive visitors on ``day``."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return False
    return not ((day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3))


def office_visit(lg_code: str, municipality: str) -> OfficeVisit:
    """The office of ``lg_code`` (``municipality`` is its full name, for unknown offices)."""
    name, address = _ADDRESSES.get(lg_code, (f"{municipality}役所", None))
    return OfficeVisit(lg_code=lg_code, name=name, address=address, opens=OPENS, closes=CLOSES)
