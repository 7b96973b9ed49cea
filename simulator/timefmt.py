"""Time formats of the two contracts, from and to the simulator's local seconds.

One-stop: local time `yyyyMMddHHmmss`, dates `yyyyMMdd`, no offset.
DVC portal: ISO 8601 with the +07:00 offset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from simulator.worktime import DAY, EPOCH, local_seconds, to_datetime

VN = timezone(timedelta(hours=7), "+07:00")
_EPOCH_ORD = EPOCH.toordinal()
# stamp() runs ~10 times per served record: a day's prefix is formatted once, a time of day looked up.
_HHMMSS = [f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}" for s in range(DAY)]
_DAY_PREFIX: dict[int, str] = {}


def _day_prefix(d: int) -> str:
    day = date.fromordinal(_EPOCH_ORD + d)
    text = _DAY_PREFIX[d] = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    return text


def stamp(t: int | None) -> str | None:
    """Local seconds -> yyyyMMddHHmmss (None stays None)."""
    if t is None:
        return None
    d, s = divmod(int(t), DAY)
    return (_DAY_PREFIX.get(d) or _day_prefix(d)) + _HHMMSS[s]


def day_stamp(d: date | None) -> str | None:
    return None if d is None else f"{d.year:04d}{d.month:02d}{d.day:02d}"


def iso(t: int | None) -> str | None:
    """Local seconds -> 2024-05-02T09:30:00+07:00."""
    if t is None:
        return None
    return to_datetime(t).isoformat() + "+07:00"


def iso_date(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def parse_stamp(text: str) -> int:
    """yyyyMMddHHmmss -> local seconds; ValueError with the reason otherwise."""
    if len(text) != 14 or not text.isdigit():
        raise ValueError(f"expected yyyyMMddHHmmss, got {text!r}")
    return local_seconds(datetime.strptime(text, "%Y%m%d%H%M%S"))


def parse_iso(text: str) -> int:
    """ISO 8601 with an offset (a naive value is taken as local time) -> local seconds."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return from_aware(dt) if dt.tzinfo else local_seconds(dt)


def from_aware(dt: datetime) -> int:
    """A tz-aware datetime -> local seconds."""
    if dt.tzinfo is None:
        raise ValueError("the simulator clock needs a timezone-aware datetime")
    return local_seconds(dt.astimezone(VN).replace(tzinfo=None))


def to_aware(t: int) -> datetime:
    return to_datetime(t).replace(tzinfo=VN)


def day_of(d: date) -> int:
    """A date -> local seconds at its midnight."""
    return (d.toordinal() - _EPOCH_ORD) * DAY
