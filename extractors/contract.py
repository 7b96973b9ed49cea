"""The two sources' contracts as data: every field of every entity and the kind of value it holds.

This is the one place the field rules live (docs/contract-checks.md says what each kind accepts).
`checker(entity)` compiles an entity's fields into per-kind tables once; `Checker.problem(record)`
is the hot path of every load (a 2 M-dossier first load checks every field of every dossier),
hence tuples of names per kind and `type(v) is …` tests rather than a generic walk.

Rules shared by every kind:
- a field may be absent or null unless it is `required` (key fields, the update time and the
  few fields staging cannot do without); one-stop dates and times may also be "" (older units);
- a field the contract does not list is accepted as it is (real sources add fields); only
  what PostgreSQL cannot store is refused in it (a number that is not finite);
- every check compares the exact JSON value: the integer code 1 is the JSON integer 1, not
  `1.0`, `true` or `"1"` (Python's `True == 1` and `1.0 == 1` must not pass); string codes
  are compared trimmed, as the contract says.
The bounds keep every accepted value castable by staging (dbt/macros/parsing.sql: `::integer`
is 32-bit, times must be dates PostgreSQL and the calendar models can hold).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from extractors.entities import DVC_PORTAL, ONE_STOP, Entity

TEXT = "text"
CODE = "code"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
FLAG = "flag"  # the integer 0 or 1
LOCAL_TIME = "local time"  # yyyyMMddHHmmss (a bare yyyyMMdd reads as midnight, as staging reads it)
LOCAL_DATE = "local date"  # yyyyMMdd
ISO_TIME = "ISO time"  # yyyy-MM-ddTHH:mm[:ss[.ffffff]] with Z or ±HH:MM
ISO_DATE = "ISO date"  # yyyy-MM-dd
CODE_LIST = "code list"  # a list of string codes
OBJECTS = "object list"  # a list of objects with their own fields

INT32_MAX = 2**31 - 1  # staging casts these with ::integer
MONEY_MAX = 10**15  # VND; a quadrillion is far beyond any fee, and exact in a double
YEARS = ("1900", "2199")  # dates outside are typos, and would stretch the calendar models


@dataclass(frozen=True)
class Field:
    kind: str
    required: bool = False
    codes: tuple = ()  # CODE, CODE_LIST: the closed list
    low: int | float | None = None  # INTEGER, NUMBER: inclusive bounds
    high: int | float | None = None
    items: Mapping[str, Field] | None = None  # OBJECTS: the fields of each item
    personal: bool = False  # never shown in a reason or a log line


def text(required: bool = False, personal: bool = False) -> Field:
    return Field(TEXT, required, personal=personal)


def code(*values, required: bool = False) -> Field:
    kinds = {type(v) for v in values}
    if kinds not in ({int}, {str}):
        raise ValueError(f"a code list holds integers or strings, not both: {values!r}")
    return Field(CODE, required, codes=tuple(values))


def integer(low: int, high: int, required: bool = False) -> Field:
    return Field(INTEGER, required, low=low, high=high)


def number(low: float, high: float) -> Field:
    return Field(NUMBER, low=low, high=high)


def boolean() -> Field:
    return Field(BOOLEAN)


def flag() -> Field:
    return Field(FLAG, codes=(0, 1))


def local_time(required: bool = False) -> Field:
    return Field(LOCAL_TIME, required)


def local_date(required: bool = False) -> Field:
    return Field(LOCAL_DATE, required)


def iso_time(required: bool = False) -> Field:
    return Field(ISO_TIME, required)


def iso_date(required: bool = False) -> Field:
    return Field(ISO_DATE, required)


def code_list(*values: str) -> Field:
    return Field(CODE_LIST, codes=tuple(values))


def objects(**fields: Field) -> Field:
    return Field(OBJECTS, items=dict(fields))


STATUS = tuple(range(1, 11))

CONTRACTS: dict[tuple[str, str], dict[str, Field]] = {
    # one-stop (docs/spec/contracts/one-stop-api.md)
    (ONE_STOP, "don_vi"): {
        "MaDinhDanh": text(required=True),
        "TenDonVi": text(),
        "CapDonVi": code("TINH", "SO", "HUYEN", "XA", "CHI_NHANH"),
        "MaDonViCha": text(),
        "MaDVCQG": text(),
        "HieuLucTu": local_date(),
        "HieuLucDen": local_date(),
        "MaDonViKeNhiem": text(),
        "NgayCapNhat": local_time(required=True),
    },
    (ONE_STOP, "thu_tuc"): {
        "MaTTHC": text(required=True),
        "TenTTHC": text(),
        "MaLinhVuc": text(),
        "TenLinhVuc": text(),
        "CapThucHien": code_list("TINH", "HUYEN", "XA"),
        "DoiTuongThucHien": code_list("CONG_DAN", "DOANH_NGHIEP", "TO_CHUC"),
        # a limit in days or hours; int_dossiers_timed adds it as ::int days
        "ThoiHanGiaiQuyet": number(0, 10_000),
        "DonViThoiHan": code("NGAY_LAM_VIEC", "NGAY", "GIO"),
        "CoPhiLePhi": boolean(),
        "KetQuaLaGiayTo": boolean(),
        "NgayCongBo": local_date(),
        "NgayHieuLucVanBan": local_date(),
        "NgayCongKhai": local_date(),
        "CongKhaiDayDu": boolean(),
        "NgayCapNhat": local_time(required=True),
    },
    (ONE_STOP, "thu_tuc_don_vi"): {
        "MaDinhDanh": text(required=True),
        "MaTTHC": text(required=True),
        "MucDoDVC": code("TOAN_TRINH", "MOT_PHAN", "KHONG"),
        "HieuLucTu": local_date(required=True),
        "HieuLucDen": local_date(),
        "NgayCapNhat": local_time(required=True),
    },
    (ONE_STOP, "ho_so"): {
        "MaHoSo": text(required=True),
        "MaTTHC": text(),
        "MaLinhVuc": text(),
        "MaDinhDanhDonVi": text(),
        "KenhThucHien": code(1, 2, 3),
        "LoaiDoiTuong": code(1, 2, 3, 4),
        "LienThong": boolean(),
        "ChuHoSo": text(personal=True),
        "SoGiayToChuHoSo": text(personal=True),
        "SoDienThoai": text(personal=True),
        "Email": text(personal=True),
        "DiaChi": text(personal=True),
        "TrichYeuHoSo": text(),
        "NgayNopHoSo": local_time(),
        "NgayTiepNhan": local_time(),
        "NgayHenTra": local_time(),
        "NgayKetThucXuLy": local_time(),
        "NgayTra": local_time(),
        "NgayTuChoi": local_time(),
        "TrangThaiHoSo": code(*STATUS, required=True),  # staging tests it not null
        "LyDo": text(),
        "HoSoCoThanhPhanSoHoa": flag(),
        "TaiKhoanDuocXacThucVoiVNeID": flag(),
        "DuocThanhToanTrucTuyen": code(0, 1, 2),
        "TaiLieuNop": objects(
            MaThanhPhanHoSo=text(),
            TenTepDinhKem=text(),
            DuongDanTaiTepTin=text(),
            DuocSoHoa=flag(),
            DuocTaiSuDung=flag(),
            DuocLayTuKhoDMQG=flag(),
        ),
        "DanhSachLePhi": objects(
            MaPhiLePhi=text(),
            TenPhiLePhi=text(),
            LoaiPhiLePhi=code(1, 2),
            HinhThucThu=text(),
            Gia=integer(0, MONEY_MAX),
        ),
        "DanhSachHoSoBoSung": objects(
            NgayYeuCauBoSung=local_time(),
            NgayTiepNhanBoSung=local_time(),
            NgayHenTraTruoc=local_time(),
            NgayHenTraMoi=local_time(),
            NoiDungBoSung=text(),
        ),
        "DanhSachGiayToKetQua": objects(MaGiayToKetQua=text(), TenGiayTo=text(), DuongDanTepTinKetQua=text()),
        "PhieuXinLoi": objects(NgayXinLoi=local_time(), NgayHenTraMoi=local_time(), LyDo=text()),
        "DaXoa": boolean(),
        "NgayCapNhat": local_time(required=True),
    },
    (ONE_STOP, "qua_trinh_xu_ly"): {
        "MaHoSo": text(required=True),
        "STT": integer(0, 1_000_000, required=True),
        "TrangThai": code(*STATUS),
        "MaDinhDanhDonVi": text(),
        "PhongBanXuLy": text(),
        "NguoiXuLy": text(personal=True),
        "NoiDungXuLy": text(),
        "ThoiDiemXuLy": local_time(),
        "NgayBatDau": local_time(),
        "NgayKetThucTheoQuyDinh": local_time(),
        "NgayCapNhat": local_time(required=True),
    },
    # portal (docs/spec/contracts/dvc-portal-api.md)
    (DVC_PORTAL, "payments"): {
        "transactionId": text(required=True),
        "dossierCode": text(),
        "departmentCode": text(),
        "procedureCode": text(),
        "feeCode": text(),
        "feeType": code("PHI", "LE_PHI"),
        "amount": integer(0, MONEY_MAX),
        "status": code("INIT", "SUCCESS", "FAILED", "REFUNDED", "CANCELLED"),
        "channel": code("PAYGOV", "LOCAL_GATEWAY"),
        "bankCode": text(),
        "resultCode": text(),
        "createdAt": iso_time(),
        "paidAt": iso_time(),
        "updatedAt": iso_time(required=True),
    },
    (DVC_PORTAL, "sync_status"): {
        "dossierCode": text(required=True),
        "departmentCode": text(),
        "receivedAt": iso_time(),
        "syncedAt": iso_time(),
        "portalStatus": code(*STATUS),
        "syncResult": code("SUCCESS", "ERROR"),
        "errorMessage": text(),
        "updatedAt": iso_time(required=True),
    },
    (DVC_PORTAL, "feedback"): {
        "feedbackId": text(required=True),
        "departmentCode": text(),
        "dossierCode": text(),
        "channel": code("PORTAL", "HOTLINE_1022", "OTHER"),
        "category": code("PROCEDURE", "STAFF"),
        "content": text(personal=True),
        "receivedAt": iso_time(),
        "dueAt": iso_time(),
        "handledAt": iso_time(),
        "status": code("RECEIVED", "PROCESSING", "HANDLED", "REJECTED"),
        "likes": integer(0, INT32_MAX),
        "dislikes": integer(0, INT32_MAX),
        "reraised": boolean(),
        "updatedAt": iso_time(required=True),
    },
    (DVC_PORTAL, "ratings"): {
        "ratingId": text(required=True),
        "dossierCode": text(),
        "departmentCode": text(),
        "level": code(1, 2, 3),
        "ratedAt": iso_time(),
        "updatedAt": iso_time(required=True),
    },
    (DVC_PORTAL, "online_services"): {
        "departmentCode": text(required=True),
        "procedureCode": text(required=True),
        "level": code("FULL", "PARTIAL"),
        "publishedOnPortal": boolean(),
        "paymentIntegrated": boolean(),
        "validFrom": iso_date(required=True),
        "validTo": iso_date(),
        "updatedAt": iso_time(required=True),
    },
}

PERSONAL_FIELDS = frozenset(name for fields in CONTRACTS.values() for name, spec in fields.items() if spec.personal)


# -- value tests (the hot path: cheap checks first, a calendar only when a day could be invalid) --


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as a reason names it."""
    t = type(value)
    if t is str:
        return "a string"
    if t is bool:
        return "a boolean"
    if t is int:
        return "an integer"
    if t is float:
        return "a decimal number"
    if t is list:
        return "a list"
    if t is dict:
        return "an object"
    if value is None:
        return "null"
    return t.__name__


# Validity of the yyyyMMdd and HHmmss halves of local times, remembered: a load sees a few
# thousand distinct days and seconds, and two dict lookups cost a fraction of parsing each time.
_DAYS: dict[str, bool] = {}
_CLOCKS: dict[str, bool] = {}
_MEMO_LIMIT = 200_000  # values come from the source: keep the memo bounded


def _day_ok(day: str) -> bool:
    ok = len(day) == 8 and day.isdigit() and day.isascii() and YEARS[0] <= day[:4] <= YEARS[1]
    if ok:
        try:
            date(int(day[:4]), int(day[4:6]), int(day[6:]))
        except ValueError:
            ok = False
    if len(_DAYS) < _MEMO_LIMIT:
        _DAYS[day] = ok
    return ok


def _clock_ok(clock: str) -> bool:
    ok = (
        len(clock) == 6
        and clock.isdigit()
        and clock.isascii()
        and clock[:2] <= "23"
        and clock[2:4] <= "59"
        and clock[4:] <= "59"
    )
    if len(_CLOCKS) < _MEMO_LIMIT:
        _CLOCKS[clock] = ok
    return ok


def is_local_time(value: str) -> bool:
    """yyyyMMddHHmmss or yyyyMMdd (surrounding spaces allowed), a real moment between YEARS."""
    n = len(value)
    if n == 14:
        day = value[:8]
        ok = _DAYS.get(day)
        if ok is None:
            ok = _day_ok(day)
        if ok:
            clock = value[8:]
            ok = _CLOCKS.get(clock)
            if ok is None:
                ok = _clock_ok(clock)
            if ok:
                return True
    elif n == 8:
        ok = _DAYS.get(value)
        if ok is None:
            ok = _day_ok(value)
        if ok:
            return True
    stripped = value.strip()
    return len(stripped) != n and is_local_time(stripped)


def is_local_date(value: str) -> bool:
    """yyyyMMdd (surrounding spaces allowed), a real day between YEARS."""
    value = value.strip()
    return len(value) == 8 and is_local_time(value)


_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)", re.ASCII)
MAX_OFFSET_SECONDS = 14 * 3600  # real zones span -12:00..+14:00; PostgreSQL refuses past ±15:59


_ISO_DAYS: dict[str, bool] = {}
_ISO_CLOCKS: dict[str, bool] = {}
_OFFSETS = frozenset(
    {"Z"}
    | {
        f"{sign}{h:02d}:{m:02d}"
        for sign in "+-"
        for h in range(15)
        for m in range(60)
        if h * 3600 + m * 60 <= MAX_OFFSET_SECONDS
    }
)


def _iso_day_ok(day: str) -> bool:
    ok = is_iso_date(day)
    if len(_ISO_DAYS) < _MEMO_LIMIT:
        _ISO_DAYS[day] = ok
    return ok


def _iso_clock_ok(clock: str) -> bool:
    ok = (
        len(clock) == 8
        and clock[2] == ":"
        and clock[5] == ":"
        and clock.isascii()
        and clock[:2].isdigit()
        and clock[3:5].isdigit()
        and clock[6:].isdigit()
        and clock[:2] <= "23"
        and clock[3:5] <= "59"
        and clock[6:] <= "59"
    )
    if len(_ISO_CLOCKS) < _MEMO_LIMIT:
        _ISO_CLOCKS[clock] = ok
    return ok


def is_iso_time(value: str) -> bool:
    """ISO 8601 extended date and time with Z or a ±HH:MM offset (no week or ordinal dates, no
    basic format: forms PostgreSQL's timestamptz input reads the same way), a real moment."""
    if len(value) == 25 and (value[10] == "T" or value[10] == " "):
        # the portal's own shape, yyyy-MM-ddTHH:mm:ss±HH:MM: remembered halves, no parsing
        day, clock = value[:10], value[11:19]
        ok = _ISO_DAYS.get(day)
        if ok is None:
            ok = _iso_day_ok(day)
        if ok:
            ok = _ISO_CLOCKS.get(clock)
            if ok is None:
                ok = _iso_clock_ok(clock)
            if ok and value[19:] in _OFFSETS:
                return True
    value = value.strip()
    if _ISO_TIME.fullmatch(value) is None or not YEARS[0] <= value[:4] <= YEARS[1]:
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return abs(moment.utcoffset().total_seconds()) <= MAX_OFFSET_SECONDS


def is_iso_date(value: str) -> bool:
    """yyyy-MM-dd, a real day between YEARS."""
    value = value.strip()
    if not (
        len(value) == 10
        and value[4] == "-"
        and value[7] == "-"
        and value[:4].isdigit()
        and value[5:7].isdigit()
        and value[8:].isdigit()
        and value.isascii()
    ):
        return False
    if not YEARS[0] <= value[:4] <= YEARS[1]:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def shown(value: Any) -> str:
    """A value as a reason quotes it: short (reasons are logged and kept per record)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def foreign_problem(value: Any) -> str | None:
    """What PostgreSQL cannot store in a field the contract does not list (its strings are
    cleaned like every other string): a number that is not finite, at any depth."""
    t = type(value)
    if t is float:
        return None if math.isfinite(value) else f"holds {value!r}, not a finite number"
    if t is list:
        for item in value:
            problem = foreign_problem(item)
            if problem:
                return problem
    elif t is dict:
        for item in value.values():
            problem = foreign_problem(item)
            if problem:
                return problem
    return None


# -- compiled checks -------------------------------------------------------------------------------


@dataclass
class Checker:
    """One entity's (or one nested list item's) fields, grouped by kind for a tight loop each."""

    fields: Mapping[str, Field]
    source: str
    skip: frozenset = frozenset()  # fields the caller has checked already (key, update time)
    known: frozenset = field(init=False)

    def __post_init__(self) -> None:
        self.known = frozenset(self.fields)
        mine = {n: f for n, f in self.fields.items() if n not in self.skip}
        by = lambda kind: tuple(n for n, f in mine.items() if f.kind == kind)  # noqa: E731
        self.required = tuple(n for n, f in mine.items() if f.required)
        self.texts = by(TEXT)
        self.str_codes = tuple(
            (n, frozenset(f.codes)) for n, f in mine.items() if f.kind == CODE and type(f.codes[0]) is str
        )
        self.int_codes = tuple(
            (n, frozenset(f.codes), f.kind)
            for n, f in mine.items()
            if f.kind == FLAG or (f.kind == CODE and type(f.codes[0]) is int)
        )
        self.integers = tuple((n, f.low, f.high) for n, f in mine.items() if f.kind == INTEGER)
        self.numbers = tuple((n, f.low, f.high) for n, f in mine.items() if f.kind == NUMBER)
        self.booleans = by(BOOLEAN)
        self.local_times = by(LOCAL_TIME)
        self.local_dates = by(LOCAL_DATE)
        self.iso_times = by(ISO_TIME)
        self.iso_dates = by(ISO_DATE)
        self.code_lists = tuple((n, frozenset(f.codes)) for n, f in mine.items() if f.kind == CODE_LIST)
        self.lists = tuple((n, Checker(f.items or {}, self.source)) for n, f in mine.items() if f.kind == OBJECTS)
        # "" is how older one-stop units send a missing date; the portal sends null
        self.empty_is_missing = self.source == ONE_STOP
        self.passes = _compile(self)

    def problem(self, record: dict, where: str = "") -> str | None:
        """The first field of `record` that breaks the contract, as a reason; None if none does."""
        if self.passes(record):
            return None
        return (
            self.explain(record, where) or f"{where}(record) breaks the contract"
        )  # explain and passes agree (tested)

    def explain(self, record: dict, where: str = "") -> str | None:
        """The table-driven reading of the rules: the reason of the first problem, else None."""
        get = record.get
        for name in self.required:
            v = get(name)
            if v is None or (type(v) is str and not v.strip()):
                return f"{where}{name} is missing"
        for name in self.texts:
            v = get(name)
            if v is not None and type(v) is not str:
                return f"{where}{name} is {json_type(v)}, not a string"
        for name, allowed in self.str_codes:
            v = get(name)
            if v is None:
                continue
            if type(v) is not str:
                return f"{where}{name} is {json_type(v)}, not a string code"
            if v.strip() not in allowed:
                return f"unknown code {where}{name}={shown(v)}"
        for name, allowed, kind in self.int_codes:
            v = get(name)
            if v is None:
                continue
            if type(v) is not int:  # True, 1.0 and "1" are not the code 1
                return f"{where}{name} is {json_type(v)}, not " + ("0 or 1" if kind == FLAG else "an integer code")
            if v not in allowed:
                return (
                    f"{where}{name} {shown(v)} is not 0 or 1"
                    if kind == FLAG
                    else f"unknown code {where}{name}={shown(v)}"
                )
        for name, low, high in self.integers:
            v = get(name)
            if v is None:
                continue
            if type(v) is not int:
                return f"{where}{name} is {json_type(v)}, not an integer"
            if not low <= v <= high:
                return f"{where}{name} {shown(v)} is out of range [{low}, {high}]"
        for name, low, high in self.numbers:
            v = get(name)
            if v is None:
                continue
            t = type(v)
            if t is not int and t is not float:
                return f"{where}{name} is {json_type(v)}, not a number"
            if not low <= v <= high:  # NaN compares false, inf is past any bound
                return (
                    f"{where}{name} {shown(v)} is out of range [{low}, {high}]"
                    if t is int or math.isfinite(v)
                    else f"{where}{name} is {v!r}, not a finite number"
                )
        for name in self.booleans:
            v = get(name)
            if v is not None and type(v) is not bool:
                return f"{where}{name} is {json_type(v)}, not a boolean"
        empty_ok = self.empty_is_missing  # "" is a missing one-stop date (older units), not the portal's
        for names, valid, noun, blank_ok in (
            (self.local_times, is_local_time, "time", empty_ok),
            (self.local_dates, is_local_date, "date", empty_ok),
            (self.iso_times, is_iso_time, "time", False),
            (self.iso_dates, is_iso_date, "date", False),
        ):
            for name in names:
                v = get(name)
                if v is None or (blank_ok and v == ""):
                    continue
                if type(v) is not str:
                    return f"{where}{name} is {json_type(v)}, not a {noun} string"
                if not valid(v):
                    return f"{where}{name} {shown(v)} is not a valid {noun}"
        for name, allowed in self.code_lists:
            v = get(name)
            if v is None:
                continue
            if type(v) is not list:
                return f"{where}{name} is {json_type(v)}, not a list of codes"
            for i, item in enumerate(v):
                if type(item) is not str:
                    return f"{where}{name}[{i}] is {json_type(item)}, not a string code"
                if item.strip() not in allowed:
                    return f"unknown code {where}{name}[{i}]={shown(item)}"
        for name, items in self.lists:
            v = get(name)
            if v is None:
                continue
            if type(v) is not list:
                return f"{where}{name} is {json_type(v)}, not a list"
            for i, item in enumerate(v):
                if type(item) is not dict:
                    return f"{where}{name}[{i}] is {json_type(item)}, not an object"
                problem = items.explain(item, f"{where}{name}[{i}].")
                if problem:
                    return problem
        if not self.known.issuperset(record):
            for name, v in record.items():
                if name not in self.known:
                    problem = foreign_problem(v)
                    if problem:
                        return f"{where}{name} {problem}"
        return None


_CHECKERS: dict[str, Checker] = {}


def fields_of(entity: Entity) -> Mapping[str, Field]:
    try:
        return CONTRACTS[(entity.source, entity.name)]
    except KeyError:
        raise KeyError(f"no contract for {entity.source}/{entity.name}") from None


def checker(entity: Entity) -> Checker:
    """The entity's compiled checks, without the update time and the text and integer key fields
    (parse_record checks those first, to name the record); a date key part is checked here, so
    a record with a bad one is quarantined under its key."""
    found = _CHECKERS.get(entity.table)
    if found is None:
        fields = fields_of(entity)
        done = frozenset(n for n in entity.key if fields[n].kind in (TEXT, INTEGER)) | {entity.updated}
        found = _CHECKERS[entity.table] = Checker(fields, entity.source, done)
    return found


# -- the hot path: each checker's rules compiled into one straight-line predicate ------------------
# A loop per kind over tuples of names costs a loop and attribute lookups per field, and most of
# a dossier's fields sit in small nested objects; generated code with one test per field makes
# checking every field cost about what the old check of times and codes alone did. It only says
# whether a record passes; Checker.explain (the tables above) names the problem. The two must
# agree: tests/extractors/test_contract.py checks them against each other on generated records.


def _condition(spec: Field, name: str, empty_ok: bool) -> str:
    """A Python expression over `v` (not None) that is true when `v` breaks `spec`."""
    a = f"A_{name}"
    kind = spec.kind
    if kind == TEXT:
        return "type(v) is not str"
    if kind == CODE and type(spec.codes[0]) is str:
        return f"type(v) is not str or v.strip() not in {a}"
    if kind in (CODE, FLAG):
        return f"type(v) is not int or v not in {a}"
    if kind == INTEGER:
        return f"type(v) is not int or not {spec.low!r} <= v <= {spec.high!r}"
    if kind == NUMBER:
        return f"(type(v) is not int and type(v) is not float) or not {spec.low!r} <= v <= {spec.high!r}"
    if kind == BOOLEAN:
        return "type(v) is not bool"
    test = {
        LOCAL_TIME: "is_local_time",
        LOCAL_DATE: "is_local_date",
        ISO_TIME: "is_iso_time",
        ISO_DATE: "is_iso_date",
    }.get(kind)
    if test:
        empty = 'v != "" and ' if empty_ok and kind in (LOCAL_TIME, LOCAL_DATE) else ""
        return f"{empty}(type(v) is not str or not {test}(v))"
    if kind == CODE_LIST:
        return f"type(v) is not list or not all(type(x) is str and x.strip() in {a} for x in v)"
    if kind == OBJECTS:
        return f"type(v) is not list or not all(type(x) is dict and P_{name}(x) for x in v)"
    raise ValueError(f"unknown field kind {kind!r}")


def _compile(check: Checker):
    names: dict[str, Any] = {
        "is_local_time": is_local_time,
        "is_local_date": is_local_date,
        "is_iso_time": is_iso_time,
        "is_iso_date": is_iso_date,
        "KNOWN": check.known,
        "foreign_problem": foreign_problem,
    }
    lines = ["def passes(record):", "    get = record.get"]
    for i, (name, spec) in enumerate(check.fields.items()):
        if name in check.skip:
            continue
        ident = f"f{i}"
        if spec.codes:
            names[f"A_{ident}"] = frozenset(spec.codes)
        if spec.kind == OBJECTS:
            names[f"P_{ident}"] = dict(check.lists)[name].passes
        bad = _condition(spec, ident, check.empty_is_missing)
        lines.append(f"    v = get({name!r})")
        if spec.required:
            lines.append(f"    if v is None or (type(v) is str and not v.strip()) or {bad}: return False")
        else:
            lines.append(f"    if v is not None and ({bad}): return False")
    lines.append("    if not KNOWN.issuperset(record):")
    lines.append("        for name, v in record.items():")
    lines.append("            if name not in KNOWN and foreign_problem(v): return False")
    lines.append("    return True")
    exec("\n".join(lines), names)  # noqa: S102 - source built above from the contract tables only
    return names["passes"]


def forget_compiled() -> None:
    """Drop the compiled checkers (after CONTRACTS changed in this process)."""
    _CHECKERS.clear()
