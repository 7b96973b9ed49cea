"""The sources' time formats, both ways.

One-stop: local Asia/Ho_Chi_Minh wall time, `yyyyMMddHHmmss` (dates `yyyyMMdd`), no offset;
a missing value is null or "". Portal: ISO 8601 with offset.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

LOCAL = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # Vietnam has no DST


def parse_local(value: str) -> datetime:
    """`yyyyMMddHHmmss` or `yyyyMMdd` local time → aware datetime. Raises ValueError."""
    text = value.strip()
    if not text.isdigit() or len(text) not in (8, 14):
        raise ValueError(f"{value!r} is not a yyyyMMddHHmmss time")
    fmt = "%Y%m%d%H%M%S" if len(text) == 14 else "%Y%m%d"
    return datetime.strptime(text, fmt).replace(tzinfo=LOCAL)


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
