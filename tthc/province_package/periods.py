"""Reporting months: their bounds and whether they are still provisional."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from extractors.timefmt import LOCAL

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PROVISIONAL = "TAM_TINH"
FINAL = "CHINH_THUC"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = PERIOD.match(text)
        if not match:
            raise ValueError(f"period {text!r} is not YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The month that ended most recently at `moment` (local time)."""
        local = moment.astimezone(LOCAL)
        first = date(local.year, local.month, 1) - timedelta(days=1)
        return cls(first.year, first.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Exclusive."""
        return date(self.year + (self.month == 12), self.month % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def status_at(self, moment: datetime, closing_day: int | None = None) -> str:
        """Provisional until the closing day of the next month (configurable), then final."""
        day = closing_day or int(os.environ.get("TTHC_MONTH_CLOSING_DAY", "5"))
        closes = datetime(self.end.year, self.end.month, day, tzinfo=LOCAL)
        return FINAL if moment >= closes else PROVISIONAL
