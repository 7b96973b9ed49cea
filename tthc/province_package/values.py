"""Check and normalise one cell by its kind, then spell it for the CSV or the workbook.

Numbers are rounded once, here, half away from zero (Decimal ROUND_HALF_UP) from the value
as given. Floats are read through their shortest repr, so 2.345 rounds to 2.35 as a person
expects, not to 2.34 as its binary expansion (2.34499…) would.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from tthc.province_package.errors import PackageError
from tthc.province_package.spec import DECIMALS, Kind

VN_TZ = timezone(timedelta(hours=7), "+07:00")  # Vietnam has kept UTC+7 without DST since 1975
_WIDE = Context(prec=80)  # quantize must never run out of digits for large totals
# XML 1.0 cannot hold these; the workbook would fail and a loader would choke on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def normalize(kind: Kind, value, where: str):
    """The canonical value of a cell (str, int, rounded Decimal, date, +07:00 datetime) or None."""
    if kind is Kind.BLANK:
        if value is not None:
            raise PackageError(f"{where}: the contract keeps this cell empty, got {value!r}")
        return None
    if kind is Kind.ZERO_POINTS:
        if value is not None and _to_decimal(value, where) != 0:
            raise PackageError(f"{where}: the contract fixes this cell at 0.00, got {value!r}")
        return Decimal("0.00")
    if value is None:
        return None
    if kind is Kind.TEXT:
        return _text(value, where)
    if kind is Kind.INT:
        return _integer(value, where)
    if kind is Kind.FLAG:
        return _flag(value, where)
    if kind in DECIMALS:
        rounded = _round(_to_decimal(value, where), DECIMALS[kind], where)
        if kind is Kind.RATE and not Decimal(0) <= rounded <= Decimal(1):
            raise PackageError(f"{where}: a rate must lie in 0..1, got {value!r}")
        return rounded
    if kind is Kind.DATE:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise PackageError(f"{where}: expected a date, got {type(value).__name__} {value!r}")
        return value
    if kind is Kind.TIMESTAMP:
        return to_local(value, where)
    raise AssertionError(f"unhandled kind {kind}")


def to_text(value) -> str:
    """The CSV spelling of a canonical value (before RFC 4180 quoting)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_excel(kind: Kind, value):
    """(cell value, number format) for the workbook: numbers stay numbers, times Excel datetimes."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    if isinstance(value, Decimal):
        places = DECIMALS.get(kind, 2)
        return value, "0." + "0" * places
    if isinstance(value, int):
        return value, "0"
    return value, None


def to_local(value, where: str) -> datetime:
    if not isinstance(value, datetime):
        raise PackageError(f"{where}: expected a timezone-aware datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise PackageError(f"{where}: datetime {value!r} has no timezone; pass it timezone-aware")
    # The contract's timestamps have whole seconds; sources record no finer time.
    return value.astimezone(VN_TZ).replace(microsecond=0)


def format_timestamp(value: datetime) -> str:
    return value.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def _text(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PackageError(f"{where}: expected text, got {type(value).__name__} {value!r}")
    text = str(value)
    if _CONTROL.search(text):
        raise PackageError(f"{where}: text holds a control character: {text!r}")
    # Line breaks inside a field are written CRLF too, so the file has no bare LF at all.
    return _NEWLINES.sub("\r\n", text)


def _integer(value, where: str) -> int:
    if isinstance(value, bool):
        raise PackageError(f"{where}: expected an integer, got bool {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)):
        number = _to_decimal(value, where)
        if number == number.to_integral_value():
            return int(number)
    raise PackageError(f"{where}: expected an integer count, got {type(value).__name__} {value!r}")


def _flag(value, where: str) -> int:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return int(value)
    raise PackageError(f"{where}: expected a 0/1 flag or bool, got {value!r}")


def _to_decimal(value, where: str) -> Decimal:
    if isinstance(value, bool):
        raise PackageError(f"{where}: expected a number, got bool {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PackageError(f"{where}: expected a finite number, got {value!r}")
        number = Decimal(repr(value))
    else:
        raise PackageError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise PackageError(f"{where}: expected a finite number, got {value!r}")
    return number


def _round(number: Decimal, places: int, where: str) -> Decimal:
    try:
        rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)
    except InvalidOperation as exc:
        raise PackageError(f"{where}: cannot round {number!r} to {places} decimals") from exc
    # -0.001 rounds to -0.00; the file must say 0.00.
    return rounded.copy_abs() if rounded.is_zero() else rounded
