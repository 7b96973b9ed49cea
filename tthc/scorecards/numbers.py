"""How the scorecard writes numbers and times, the Vietnamese way (one place for page and charts).

- points: 2 decimals, decimal comma, half away from zero: 78,25 (a total, a group, a metric, the
  points lost, the points at stake);
- rates: stored as fractions 0–1, written as a percentage with 1 decimal: 0,8754 → 87,5%;
- counts (numerators, denominators, dossiers): thousands with a dot, 1.234; a non-integral count
  (a sum of ratings, for instance) gets 2 decimals: 1.234,50;
- a change: its sign and an arrow, ▲ +1,25 / ▼ -0,50 / = 0,00 (the arrow is a second signal beside
  the sign, for black-and-white print);
- times: local (Asia/Ho_Chi_Minh) 'dd/mm/yyyy HH:MM'.
Missing values are an em dash "—".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MISSING = "—"
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def _grouped(number: Decimal, places: Decimal | None) -> str:
    """Thousands with '.', decimals after ','."""
    if places is not None:
        number = number.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{number:,f}"  # 1,234.50 (Python's own separators)
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_points(value) -> str:
    if value is None:
        return MISSING
    return _grouped(Decimal(value), _CENT)


def fmt_percent(rate) -> str:
    if rate is None:
        return MISSING
    return _grouped(Decimal(rate) * 100, _TENTH) + "%"


def fmt_count(value) -> str:
    if value is None:
        return MISSING
    number = Decimal(value)
    return _grouped(number, Decimal(1) if number == number.to_integral_value() else _CENT)


def fmt_change(change) -> str:
    if change is None:
        return MISSING
    change = Decimal(change).quantize(_CENT, rounding=ROUND_HALF_UP)
    if change > 0:
        return "▲ +" + fmt_points(change)
    if change < 0:
        return "▼ -" + fmt_points(-change)
    return "= " + fmt_points(change)


def fmt_time(value: datetime | date | None) -> str:
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL)
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")
