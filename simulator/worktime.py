"""Working time for the simulator, from the project's one holiday seed.

Times are plain integers: seconds since 1970-01-01 00:00 *local* time (Asia/Ho_Chi_Minh), so
`t // 86400` is the local day and `t % 86400` the local time of day. That keeps every
computation vectorizable with numpy.

A working day is Mon-Fri unless the seed says HOLIDAY or DAY_OFF, plus the seed's WORKDAY rows
(weekend days worked in exchange). Working windows default to 07:00-11:30 and 13:30-17:00.

`to_work(t)` maps a time to working seconds elapsed since the calendar's origin; it is flat
outside the windows, so "received after 17:00 starts next morning" and "received at lunch
starts at 13:30" fall out of it. `from_work(w)` is its inverse, choosing the end of a working
day (17:00) rather than the next morning for a boundary instant: a one-day limit starting at
07:00 Monday ends at 17:00 Monday.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

import numpy as np

from tthc.paths import PROJECT_ROOT

DEFAULT_SEED = PROJECT_ROOT / "dbt" / "seeds" / "vn_public_holidays.csv"
DAY = 86400
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def local_seconds(dt: datetime) -> int:
    """A naive local datetime to local seconds (tz-aware input must be converted first)."""
    if dt.tzinfo is not None:
        raise ValueError("local_seconds takes a naive local datetime")
    return day_number(dt.date()) * DAY + dt.hour * 3600 + dt.minute * 60 + dt.second


def to_datetime(t: int) -> datetime:
    d, s = divmod(int(t), DAY)
    return datetime.combine(date.fromordinal(EPOCH.toordinal() + d), time(s // 3600, s // 60 % 60, s % 60))


@dataclass(frozen=True)
class Windows:
    """Working windows as seconds of the day: [(start, end), ...] in order."""

    spans: tuple[tuple[int, int], ...] = ((7 * 3600, 11 * 3600 + 1800), (13 * 3600 + 1800, 17 * 3600))

    @property
    def day_seconds(self) -> int:
        return sum(e - s for s, e in self.spans)


class WorkCalendar:
    """Working days from the holiday seed; vectorized conversions to and from working time."""

    def __init__(self, seed_csv: Path = DEFAULT_SEED, windows: Windows = Windows()):
        kinds: dict[date, str] = {}
        with Path(seed_csv).open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                kinds[date.fromisoformat(row["calendar_date"])] = row["kind"].strip()
        if not kinds:
            raise ValueError(f"holiday seed {seed_csv} is empty")
        self.first_day = date(min(kinds).year, 1, 1)
        self.last_day = date(max(kinds).year, 12, 31)
        self.windows = windows
        self.d0 = day_number(self.first_day)
        n = day_number(self.last_day) - self.d0 + 1
        weekday = (np.arange(n) + self.first_day.weekday()) % 7
        work = weekday < 5
        for d, kind in kinds.items():
            i = day_number(d) - self.d0
            if kind in ("HOLIDAY", "DAY_OFF"):
                work[i] = False
            elif kind == "WORKDAY":
                work[i] = True
            else:
                raise ValueError(f"holiday seed: unknown kind {kind!r} on {d}")
        self.is_work = work
        # working days strictly before each day, and the day numbers of working days
        self.work_before = np.concatenate(([0], np.cumsum(work)[:-1])).astype(np.int64)
        self.work_days = (np.flatnonzero(work) + self.d0).astype(np.int64)
        # next working day on or after each day (index past the end for none)
        nxt = np.full(n + 1, n, dtype=np.int64)
        for i in range(n - 1, -1, -1):
            nxt[i] = i if work[i] else nxt[i + 1]
        self._next_work = nxt[:n]
        self.day_seconds = windows.day_seconds

    # -- bounds -------------------------------------------------------------------------
    def check_range(self, first: date, last: date) -> None:
        if first < self.first_day or last > self.last_day:
            raise ValueError(f"dates {first}..{last} outside the holiday calendar {self.first_day}..{self.last_day}")

    def _day_index(self, t: np.ndarray) -> np.ndarray:
        idx = np.asarray(t, dtype=np.int64) // DAY - self.d0
        if idx.size and (idx.min() < 0 or idx.max() >= self.is_work.size):
            raise ValueError("time outside the holiday calendar's years")
        return idx

    # -- conversions --------------------------------------------------------------------
    def within_day(self, sod: np.ndarray) -> np.ndarray:
        """Working seconds elapsed in a working day at second-of-day `sod`."""
        out = np.zeros_like(np.asarray(sod, dtype=np.int64))
        for s, e in self.windows.spans:
            out += np.clip(sod - s, 0, e - s)
        return out

    def to_work(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        idx = self._day_index(t)
        sod = t % DAY
        return self.work_before[idx] * self.day_seconds + np.where(self.is_work[idx], self.within_day(sod), 0)

    def from_work(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.int64)
        k, r = np.divmod(w, self.day_seconds)
        boundary = (r == 0) & (k > 0)
        k = np.where(boundary, k - 1, k)
        r = np.where(boundary, self.day_seconds, r)
        if k.size and k.max() >= self.work_days.size:
            raise ValueError("working time beyond the holiday calendar's years")
        sod = np.zeros_like(r)
        used = 0
        placed = np.zeros(r.shape, dtype=bool)
        for s, e in self.windows.spans:
            length = e - s
            here = ~placed & (r <= used + length)
            sod = np.where(here, s + (r - used), sod)
            placed |= here
            used += length
        return self.work_days[k] * DAY + sod

    def add_work(self, t, seconds) -> np.ndarray:
        """The instant `seconds` of working time after `t` (t outside hours starts at the next window)."""
        return self.from_work(self.to_work(t) + np.asarray(seconds, dtype=np.int64))

    def work_between(self, a, b) -> np.ndarray:
        """Working seconds from a to b (negative if b < a)."""
        return self.to_work(b) - self.to_work(a)

    def next_work_day(self, day) -> np.ndarray:
        """Day number of the first working day on or after `day` (a day number)."""
        idx = np.asarray(day, dtype=np.int64) - self.d0
        return self._next_work[idx] + self.d0

    def is_work_day(self, day) -> np.ndarray:
        return self.is_work[np.asarray(day, dtype=np.int64) - self.d0]

    def work_day_numbers(self, first: date, last: date) -> np.ndarray:
        """Day numbers of working days in [first, last]."""
        lo, hi = day_number(first), day_number(last)
        return self.work_days[(self.work_days >= lo) & (self.work_days <= hi)]

    def due(self, received, amount, unit) -> np.ndarray:
        """Appointed return time for limits in NGAY_LAM_VIEC / GIO / NGAY (arrays aligned).

        Working days and hours count working time from reception. Calendar days count every
        day from the reception date; the due date moves off a weekend or holiday to the next
        working day, due at the end of that day's last window.
        """
        received = np.asarray(received, dtype=np.int64)
        amount = np.asarray(amount, dtype=np.int64)
        unit = np.asarray(unit)
        work_secs = np.where(unit == "GIO", amount * 3600, amount * self.day_seconds)
        by_work = self.add_work(received, work_secs)
        day = received // DAY + amount
        day = self.next_work_day(np.minimum(day, self.d0 + self.is_work.size - 1))
        by_calendar = day * DAY + self.windows.spans[-1][1]
        return np.where(unit == "NGAY", by_calendar, by_work)


@lru_cache(maxsize=4)
def calendar(seed_csv: str = str(DEFAULT_SEED)) -> WorkCalendar:
    return WorkCalendar(Path(seed_csv))
