"""The sources' time formats, both ways.

One-stop: local Asia/Ho_Chi_Minh wall time, `yyyyMMddHHmmss` (dates `yyyyMMdd`), no offset;
a missing value is null or "". Portal: ISO 8601 with offset.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

LOCAL = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # Vietnam has no DST


def parse_local(value: str) -> datetime:
    """`yyyyMMddHHmmss` or `yyyyMMdd` local time → aware datetime. Raises ValueError.

    Sliced by hand: strptime costs ~40 µs a call and a dossier carries a dozen times, which
    made it the largest cost of loading. datetime() still checks the calendar (month 13, 30 Feb).
    """
    text = value.strip()
    n = len(text)
    if (n != 14 and n != 8) or not (text.isascii() and text.isdigit()):
        raise ValueError(f"{value!r} is not a yyyyMMddHHmmss time")
    try:
        if n == 14:
            return datetime(
                int(text[:4]),
                int(text[4:6]),
                int(text[6:8]),
                int(text[8:10]),
                int(text[10:12]),
                int(text[12:]),
                tzinfo=LOCAL,
            )
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), tzinfo=LOCAL)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid yyyyMMddHHmmss time") from None


# yyyyMMdd with an optional HHmmss, every part in range; only "day 29-31 of this month" needs a calendar
_LOCAL_SHAPE = re.compile(
    r"(?!0000)\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:(?:[01]\d|2[0-3])[0-5]\d[0-5]\d)?", re.ASCII
)


def is_local_time(value: str) -> bool:
    """Whether parse_local would accept `value`, without building a datetime (the hot path of
    checking every time field of every record)."""
    text = value.strip()
    if _LOCAL_SHAPE.fullmatch(text) is None:
        return False
    if text[6:8] > "28":
        try:
            date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            return False
    return True


def parse_iso(value: str) -> datetime:
    """ISO 8601 with an offset → aware datetime. Raises ValueError."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed


def format_local(moment: datetime) -> str:
    return _aware(moment).astimezone(LOCAL).strftime("%Y%m%d%H%M%S")


def format_iso(moment: datetime) -> str:
    return _aware(moment).astimezone(LOCAL).isoformat(timespec="seconds")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (the sources live in UTC+7)")
    return moment
