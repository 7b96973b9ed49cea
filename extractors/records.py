"""Turn one received record into a raw row, or into a quarantine row with the reason.

The raw layer stores records as received; only what would make them unusable is checked
here: not an object, no business key, an update time or a date that does not parse, a code
outside the contract's list. Everything else (unknown procedure codes, odd combinations)
passes to the warehouse, where tests and the quality gate look at it.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from extractors.entities import DVC_PORTAL, ONE_STOP, Entity
from extractors.timefmt import is_local_time, parse_iso, parse_local


@dataclass(frozen=True)
class RawRow:
    key: str
    updated: datetime
    payload: str      # canonical JSON text of the record as received
    payload_hash: str


@dataclass(frozen=True)
class Rejected:
    key: str | None
    reason: str
    raw_text: str


# Closed code lists of the contracts; a value outside them is a malformed record.
CODES: dict[tuple[str, str], dict[str, frozenset]] = {
    (ONE_STOP, "ho_so"): {
        "TrangThaiHoSo": frozenset(range(1, 11)),
        "KenhThucHien": frozenset({1, 2, 3}),
        "LoaiDoiTuong": frozenset({1, 2, 3, 4}),
    },
    (ONE_STOP, "don_vi"): {"CapDonVi": frozenset({"TINH", "SO", "HUYEN", "XA", "CHI_NHANH"})},
    (ONE_STOP, "thu_tuc"): {"DonViThoiHan": frozenset({"NGAY_LAM_VIEC", "NGAY", "GIO"})},
    (ONE_STOP, "thu_tuc_don_vi"): {"MucDoDVC": frozenset({"TOAN_TRINH", "MOT_PHAN", "KHONG"})},
    (ONE_STOP, "qua_trinh_xu_ly"): {"TrangThai": frozenset(range(1, 11))},
    (DVC_PORTAL, "payments"): {"status": frozenset({"INIT", "SUCCESS", "FAILED", "REFUNDED", "CANCELLED"})},
    (DVC_PORTAL, "sync_status"): {"syncResult": frozenset({"SUCCESS", "ERROR"})},
    (DVC_PORTAL, "feedback"): {"status": frozenset({"RECEIVED", "PROCESSING", "HANDLED", "REJECTED"})},
    (DVC_PORTAL, "ratings"): {"level": frozenset({1, 2, 3})},
    (DVC_PORTAL, "online_services"): {"level": frozenset({"FULL", "PARTIAL"})},
}


# One-stop times and dates are named Ngay… (NgayCapNhat, NgayHenTra, …), HieuLuc… (validity) and
# ThoiDiem… (ThoiDiemXuLy, the moment a process step happened).
LOCAL_TIME_PREFIXES = ("Ngay", "HieuLuc", "ThoiDiem")


def _is_local_time_field(name: str) -> bool:
    return name.startswith(LOCAL_TIME_PREFIXES)


# Portal fields that are calendar dates (`yyyy-MM-dd`, no time, no offset), not timestamps.
PORTAL_DATE_FIELDS = frozenset({"validFrom", "validTo"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _portal_time_problem(name: str, value: str) -> str | None:
    """None if a portal time field holds what the contract allows, else why not."""
    if name in PORTAL_DATE_FIELDS:
        if _ISO_DATE.match(value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "not a valid date"
    if name.endswith("At"):
        try:
            parse_iso(value)
            return None
        except ValueError:
            return "not a valid time"
    return None


def _one_stop_time_problem(name: str, value: str) -> str | None:
    if not _is_local_time_field(name) or is_local_time(value):
        return None
    return "not a valid time"


# field name -> is it a time field, per source (names repeat on every record: classify each once)
_TIME_FIELD: dict[str, dict[str, bool]] = {ONE_STOP: {}, DVC_PORTAL: {}}
_CHECK = {ONE_STOP: _one_stop_time_problem, DVC_PORTAL: _portal_time_problem}


def _is_time_field(source: str, name: str) -> bool:
    known = _TIME_FIELD[source]
    flag = known.get(name)
    if flag is None:
        flag = _CHECK[source](name, "") is not None  # a time field refuses ""
        if len(known) < 10_000:  # field names come from the source: keep the memo bounded
            known[name] = flag
    return flag


def _check_times(record: dict, source: str, where: str = "") -> str | None:
    """First time field (in the record or its lists of objects) that does not parse, else None."""
    known = _TIME_FIELD[source]
    for name, value in record.items():
        if value is None:
            continue
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) is dict:
                    problem = _check_times(item, source, f"{where}{name}[{i}].")
                    if problem:
                        return problem
            continue
        is_time = known.get(name)
        if is_time is None:
            is_time = _is_time_field(source, name)
        if not is_time or value == "":
            continue
        if isinstance(value, str):
            # one-stop: every time field has one format, checked inline (the hot path)
            problem = (None if is_local_time(value) else "not a valid time") if source == ONE_STOP \
                else _portal_time_problem(name, value)
            if problem:
                return f"{where}{name} {value!r} is {problem}"
        else:  # a time field holding a number, a bool, an object
            return f"{where}{name} is {type(value).__name__}, not a time string"
    return None


def _code_of(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def canonical_json(value: Any) -> bytes:
    """Sorted-key JSON; the slow exact path only for what orjson cannot write (huge integers)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()


def parse_record(entity: Entity, record: Any) -> RawRow | Rejected:
    try:
        payload = canonical_json(record)
    except ValueError as exc:
        return Rejected(None, f"record cannot be stored as JSON: {exc}", repr(record)[:100_000])
    text = payload.decode()
    if not isinstance(record, dict):
        return Rejected(None, f"record is a JSON {type(record).__name__}, not an object", text)

    parts = []
    for field in entity.key:
        value = record.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return Rejected(None, f"missing key field {field}", text)
        parts.append(str(_code_of(value)))
    key = "|".join(parts)

    parse = parse_local if entity.source == ONE_STOP else parse_iso
    raw_updated = record.get(entity.updated)
    if not isinstance(raw_updated, str) or not raw_updated.strip():
        return Rejected(key, f"missing {entity.updated}", text)
    try:
        updated = parse(raw_updated)
    except ValueError:
        return Rejected(key, f"{entity.updated} {raw_updated!r} is not a valid time", text)
    problem = _check_times(record, entity.source)
    if problem:
        return Rejected(key, problem, text)

    for field, allowed in CODES.get((entity.source, entity.name), {}).items():
        if field in record and _code_of(record[field]) not in allowed:
            return Rejected(key, f"unknown code {field}={record[field]!r}", text)

    return RawRow(key, updated, text, hashlib.sha256(payload).hexdigest())
