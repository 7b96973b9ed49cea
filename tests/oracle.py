"""Independent hand computations of the 766 metrics from contract-shaped source records.

Written from docs/spec/working-time.md, docs/spec/timeliness.md and docs/metrics.md (§4, §5, §6a)
in plain Python, sharing no code with the dbt models
(not even the working-time arithmetic: only the holiday seed, the one calendar the project
has), so a test can check the marts against a second reading of the rules. Inputs are the
records exactly as the two source APIs serve them (the simulator's ground truth), never the
warehouse.

    truth = oracle.Truth.from_world(world, clock)
    counts = oracle.metrics(truth, date(2025, 7, 1), date(2025, 8, 1))   # {(unit, metric): (num, den)}
    today = oracle.act_today(truth, datetime(2025, 7, 16, 10, 20, tzinfo=oracle.LOCAL))   # §11 at T

Section 11 (act_today, metrics_at) reads the records as they stood at T; how it reads what §11
leaves open is written at the top of its section below, and the dbt models are checked against
those readings (tests/dbt/test_actions_oracle.py).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from pathlib import Path

LOCAL = timezone(timedelta(hours=7))
HOLIDAYS_CSV = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "vn_public_holidays.csv"
# §4: working windows 07:00-11:30 and 13:30-17:00, as seconds since local midnight
WINDOWS = ((7 * 3600, 11 * 3600 + 1800), (13 * 3600 + 1800, 17 * 3600))
METRICS = (
    "1.1",
    "1.2",
    "1.3",
    "1.4",
    "2.1",
    "2.2",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "3.5",
    "3.6",
    "4.1",
    "4.2",
    "4.3",
    "4.4",
    "4.5",
    "4.6",
    "4.7",
    "5.1",
    "5.2",
    "5.3",
)
PROVINCE_ONLY = ("1.1", "1.2", "1.3")
CATALOGUE_METRICS = ("1.1", "1.2", "1.3", "3.1", "3.2", "3.5", "3.6", "4.7")  # count (unit, TTHC) pairs
CERTIFICATION_FIELD = "CT"


# -- parsing ------------------------------------------------------------------------------------
def ts(text: str | None) -> datetime | None:
    """One-stop local 'yyyyMMddHHmmss' / 'yyyyMMdd' -> aware datetime (+07:00)."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    fmt = "%Y%m%d%H%M%S" if len(text) == 14 else "%Y%m%d"
    return datetime.strptime(text, fmt).replace(tzinfo=LOCAL)


def day(text: str | None) -> date | None:
    moment = ts(text)
    return moment.date() if moment else None


def iso(text: str | None) -> datetime | None:
    """Portal ISO 8601 with offset -> aware datetime (+07:00)."""
    if text is None or not str(text).strip():
        return None
    return datetime.fromisoformat(str(text).strip()).astimezone(LOCAL)


def iso_day(text: str | None) -> date | None:
    if text is None or not str(text).strip():
        return None
    return date.fromisoformat(str(text).strip()[:10])


def code(value) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def midnight(d: date) -> datetime:
    return datetime.combine(d, time.min, LOCAL)


# -- working time (§4) -------------------------------------------------------------------------
class Calendar:
    """Working days from the holiday seed: Mon-Fri unless HOLIDAY / DAY_OFF, plus WORKDAY rows."""

    def __init__(self, path: Path = HOLIDAYS_CSV):
        with path.open(encoding="utf-8") as f:
            self.kinds = {date.fromisoformat(r["calendar_date"]): r["kind"] for r in csv.DictReader(f)}

    def is_working_day(self, d: date) -> bool:
        kind = self.kinds.get(d)
        if kind == "WORKDAY":
            return True
        if kind in ("HOLIDAY", "DAY_OFF"):
            return False
        return d.weekday() < 5

    def working_seconds(self, a: datetime, b: datetime) -> int:
        """Working seconds in [a, b) (0 when b <= a)."""
        a, b = a.astimezone(LOCAL), b.astimezone(LOCAL)
        total, d = 0, a.date()
        while d <= b.date():
            if self.is_working_day(d):
                lo = (a - midnight(d)).total_seconds() if d == a.date() else 0
                hi = (b - midnight(d)).total_seconds() if d == b.date() else 86400
                total += sum(max(0, min(hi, w1) - max(lo, w0)) for w0, w1 in WINDOWS)
            d += timedelta(days=1)
        return int(total)

    def shift_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (n > 0) or before it (n < 0)."""
        step = 1 if n > 0 else -1
        left = abs(n)
        while left:
            d += timedelta(days=step)
            left -= self.is_working_day(d)
        return d


# -- units --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    code: str
    parent: str | None
    valid_from: date
    valid_to: date | None
    successor: str | None
    level: str | None = None

    def valid_on(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or self.valid_to >= d)


def units_from(records: list[dict]) -> dict[str, Unit]:
    out = {}
    for r in records:
        c = r["MaDinhDanh"].strip()
        out[c] = Unit(
            c,
            code(r.get("MaDonViCha")),
            day(r["HieuLucTu"]),
            day(r.get("HieuLucDen")),
            code(r.get("MaDonViKeNhiem")),
            code(r.get("CapDonVi")),
        )
    return out


def unit_on(unit_code: str, d: date, units: dict[str, Unit]) -> str | None:
    """The unit a record of `unit_code` counts for on day d: itself, or its successor after a merger."""
    seen = set()
    while unit_code in units and not units[unit_code].valid_on(d) and unit_code not in seen:
        seen.add(unit_code)
        if not units[unit_code].successor:
            return None
        unit_code = units[unit_code].successor
    return unit_code if unit_code in units and units[unit_code].valid_on(d) else None


def ancestors_on(unit_code: str | None, d: date, units: dict[str, Unit]) -> list[str]:
    chain, seen = [], set()
    while unit_code and unit_code in units and units[unit_code].valid_on(d) and unit_code not in seen:
        seen.add(unit_code)
        chain.append(unit_code)
        unit_code = units[unit_code].parent
    return chain


# -- dossiers (§5) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dossier:
    code: str
    unit: str
    received: datetime
    due: datetime | None
    end: datetime | None  # end of processing for 766, supplement rule applied
    supplements: int


def _received(r: dict) -> bool:
    return not r.get("DaXoa") and int(r["TrangThaiHoSo"]) not in (1, 3) and ts(r.get("NgayTiepNhan")) is not None


def _judged_end(r: dict) -> datetime | None:
    """§5: one supplement request with the citizen not back yet ends processing at the request;
    otherwise NgayKetThucXuLy (9, 7, 8), else NgayTra (10)."""
    supplements = r.get("DanhSachHoSoBoSung") or []
    ended = ts(r.get("NgayKetThucXuLy")) or ts(r.get("NgayTra"))
    if len(supplements) == 1 and ts(supplements[0].get("NgayTiepNhanBoSung")) is None:
        requested = ts(supplements[0].get("NgayYeuCauBoSung"))
        return min(requested, ended) if ended else requested
    return ended


def dossiers_from(records: list[dict]) -> list[Dossier]:
    return [
        Dossier(
            r["MaHoSo"].strip(),
            r["MaDinhDanhDonVi"].strip(),
            ts(r["NgayTiepNhan"]),
            ts(r.get("NgayHenTra")),
            _judged_end(r),
            len(r.get("DanhSachHoSoBoSung") or []),
        )
        for r in records
        if _received(r)
    ]


def _in_scope_2_1(d: Dossier, t0: datetime, t1: datetime) -> bool | None:
    """None when out of 2.1's scope for [t0, t1), else whether it counts on time (§6a)."""
    received_in = t0 <= d.received < t1
    open_at_start = d.received < t0 and (d.end is None or d.end >= t0)
    if not (received_in or open_at_start):
        return None
    if d.due is None:
        raise AssertionError(f"{d.code}: no NgayHenTra; the oracle does not do working-time limits")
    if d.end is not None and d.end < t1:
        # closed in the period: §5's supplement rules apply (several requests make it late)
        return d.supplements <= 1 and d.end <= d.due
    # open at the period end: §6a asks only that NgayHenTra is not yet past
    return d.due >= t1


def metric_2_1(dossiers: list[Dossier], units: dict[str, Unit], start: date, end: date) -> dict[str, tuple[int, int]]:
    """{unit: (numerator, denominator)} for every unit valid on the period's last day."""
    t0, t1 = midnight(start), midnight(end)
    rows = []
    for d in dossiers:
        on_time = _in_scope_2_1(d, t0, t1)
        if on_time is not None:
            rows.append((d.unit, int(on_time), 1))
    return _pool(rows, units, end - timedelta(days=1))


def _pool(rows, units: dict[str, Unit], last: date, *, map_successor: bool = True) -> dict[str, tuple]:
    """Sum (unit, numerator, denominator) rows over each valid unit's subtree on day `last`.
    Dossier-side rows count for their unit's successor after a merger; (unit, TTHC) pairs of
    the catalogue side belong to the unit they name (map_successor False)."""
    counts: dict[str, list] = defaultdict(lambda: [0, 0])
    for unit, num, den in rows:
        home = unit_on(unit, last, units) if map_successor else unit
        for ancestor in ancestors_on(home, last, units):
            counts[ancestor][0] += num
            counts[ancestor][1] += den
    return {c: tuple(counts.get(c, (0, 0))) for c, u in units.items() if u.valid_on(last)}


def _has_result_file(r: dict) -> bool:
    return any((doc.get("DuongDanTepTinKetQua") or "").strip() for doc in r.get("DanhSachGiayToKetQua") or [])


def _end_of_processing(r: dict) -> datetime | None:
    """§5 without the supplement rule: NgayKetThucXuLy, else NgayTra."""
    return ts(r.get("NgayKetThucXuLy")) or ts(r.get("NgayTra"))


def _resolved_in(r: dict, t0: datetime, t1: datetime) -> bool:
    """§6a: status 9 or 10 with end of processing in the period."""
    end = _end_of_processing(r)
    return int(r["TrangThaiHoSo"]) in (9, 10) and end is not None and t0 <= end < t1


# -- every metric -------------------------------------------------------------------------------
@dataclass
class Truth:
    """Source records as served at one time, plus the portal's payments as of any time
    (§6a judges "paid online" by the payment's status at the period end)."""

    units: list[dict]
    procedures: list[dict]
    offerings: list[dict]
    dossiers: list[dict]
    syncs: list[dict]
    feedback: list[dict]
    ratings: list[dict]
    services: list[dict]
    payments_as_of: Callable[[datetime], list[dict]]
    calendar: Calendar = field(default_factory=Calendar)
    steps: list[dict] = field(default_factory=list)  # the process log (section 11's current step)

    @classmethod
    def from_world(cls, world, clock: datetime) -> Truth:
        one, portal = "one_stop", "dvc_portal"
        return cls(
            units=world.records(one, "don_vi", clock),
            procedures=world.records(one, "thu_tuc", clock),
            offerings=world.records(one, "thu_tuc_don_vi", clock),
            dossiers=world.records(one, "ho_so", clock),
            syncs=world.records(portal, "sync_status", clock),
            feedback=world.records(portal, "feedback", clock),
            ratings=world.records(portal, "ratings", clock),
            services=world.records(portal, "online_services", clock),
            payments_as_of=lambda t: world.records(portal, "payments", min(t, clock)),
            steps=world.records(one, "qua_trinh_xu_ly", clock),
        )


def _valid(valid_from: date | None, valid_to: date | None, d: date) -> bool:
    return (valid_from is None or valid_from <= d) and (valid_to is None or valid_to >= d)


@dataclass(frozen=True)
class Period:
    """[start, end) in local days; `moment` ends it at a time instead of at midnight of `end`
    (the month to date at T of section 11: end is then T's day + 1, for the dated fields)."""

    start: date
    end: date
    moment: datetime | None = None

    @property
    def t0(self) -> datetime:
        return midnight(self.start)

    @property
    def t1(self) -> datetime:
        return self.moment if self.moment is not None else midnight(self.end)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


Rows = dict[str, list]  # metric -> [(unit, numerator, denominator)] before pooling


def metrics(truth: Truth, start: date, end: date) -> dict[tuple[str, str], tuple]:
    """{(unit, metric): (numerator, denominator)} for every unit valid on the period's last day
    and every metric of §6a, pooled over the unit's subtree. 2.2's numerator is working hours
    (a Fraction); 5.3's is denominator x (1 - late share - complaint share), floored at 0."""
    return _metrics(truth, Period(start, end))


def _metrics(truth: Truth, period: Period) -> dict[tuple[str, str], tuple]:
    units = units_from(truth.units)
    rows: Rows = defaultdict(list)  # dossier side: counts for the unit's successor after a merger
    pairs: Rows = defaultdict(list)  # (unit, TTHC) pairs: count for the unit they name
    _catalogue(truth, period, units, pairs)
    online_pairs, vneid_pairs = _dossiers(truth, period, units, rows)
    _offerings(truth, period, units, online_pairs, vneid_pairs, pairs)
    _feedback(truth, period, rows)
    out: dict[tuple[str, str], tuple] = {}
    for metric in METRICS:
        pooled = (
            _pool(pairs[metric], units, period.last, map_successor=False)
            if metric in CATALOGUE_METRICS
            else _pool(rows[metric], units, period.last)
        )
        for unit, (num, den) in pooled.items():
            out[(unit, metric)] = (max(num, 0) if metric == "5.3" else num, den)
    return out


def _catalogue(truth: Truth, period: Period, units: dict[str, Unit], pairs: Rows) -> None:
    """1.1-1.3: the TTHC catalogue, counted for the province (provincial duties)."""
    cal, start, end = truth.calendar, period.start, period.end
    announced = [p for p in truth.procedures if day(p.get("NgayCongBo")) and start <= day(p["NgayCongBo"]) < end]
    in_time = [
        p
        for p in announced
        if day(p.get("NgayHieuLucVanBan"))
        and day(p["NgayCongBo"]) <= cal.shift_working_days(day(p["NgayHieuLucVanBan"]), -5)
    ]
    made_public = [
        p
        for p in announced
        if day(p.get("NgayCongKhai")) and day(p["NgayCongKhai"]) <= cal.shift_working_days(day(p["NgayCongBo"]), 5)
    ]
    public = [p for p in truth.procedures if day(p.get("NgayCongKhai")) and day(p["NgayCongKhai"]) < end]
    for u in units.values():
        if u.level == "TINH" and u.valid_on(period.last):
            pairs["1.1"].append((u.code, len(in_time), len(announced)))
            pairs["1.2"].append((u.code, len(made_public), len(announced)))
            pairs["1.3"].append((u.code, sum(bool(p.get("CongKhaiDayDu")) for p in public), len(public)))


def _paid_at_end(truth: Truth, period: Period) -> list[dict]:
    """Payments whose status at the period end was SUCCESS (the portal's history, not today's)."""
    return [p for p in truth.payments_as_of(period.t1) if p.get("status") == "SUCCESS"]


def _flag(record: dict, name: str) -> bool:
    return int(record.get(name) or 0) == 1


def _dossiers(truth: Truth, period: Period, units: dict[str, Unit], rows: Rows) -> tuple[set, set]:
    """1.4, 2.1, 2.2, 3.3, 3.4, 4.1-4.6, 5.3. Returns the (reporting unit, TTHC) pairs with an
    online dossier / a citizen VNeID dossier received in the period (for 3.2 and 4.7)."""
    t0, t1, last = period.t0, period.t1, period.last
    procs = {p["MaTTHC"].strip(): p for p in truth.procedures}
    synced = {code(s["dossierCode"]) for s in truth.syncs if s.get("syncResult") == "SUCCESS"}
    paid = {code(p["dossierCode"]) for p in _paid_at_end(truth, period)}
    complained = _complained(truth, t1)
    online_pairs, vneid_pairs = set(), set()
    for r in truth.dossiers:
        if not _received(r):
            continue
        unit, received, proc = r["MaDinhDanhDonVi"].strip(), ts(r["NgayTiepNhan"]), code(r["MaTTHC"])
        components = r.get("TaiLieuNop") or []
        is_document = bool(procs.get(proc, {}).get("KetQuaLaGiayTo"))
        if t0 <= received < t1:
            citizen, vneid = int(r.get("LoaiDoiTuong") or 0) == 1, _flag(r, "TaiKhoanDuocXacThucVoiVNeID")
            resolved_by_end = int(r["TrangThaiHoSo"]) in (9, 10) and (_end_of_processing(r) or t1) < t1
            rows["1.4"].append((unit, int(r["MaHoSo"].strip() in synced), 1))
            rows["3.3"].append((unit, int(int(r["KenhThucHien"]) == 2), 1))
            if sum(int(f.get("Gia") or 0) for f in r.get("DanhSachLePhi") or []) > 0:
                rows["3.4"].append((unit, int(r["MaHoSo"].strip() in paid), 1))
            digitized = any(_flag(c, "DuocSoHoa") for c in components)
            rows["4.2"].append(
                (unit, int(digitized and (_has_result_file(r) or not (resolved_by_end and is_document))), 1)
            )
            reused = _flag(r, "HoSoCoThanhPhanSoHoa") or any(_flag(c, "DuocTaiSuDung") for c in components)
            rows["4.4"].append((unit, int(reused), 1))
            rows["4.5"].append((unit, int(any(_flag(c, "DuocLayTuKhoDMQG") for c in components)), 1))
            if citizen:
                rows["4.6"].append((unit, int(vneid), 1))
            home = unit_on(unit, last, units)
            if home and int(r["KenhThucHien"]) == 2:
                online_pairs.add((home, proc))
            if home and citizen and vneid:
                vneid_pairs.add((home, proc))
        if _resolved_in(r, t0, t1):
            rows["2.2"].append(
                (unit, Fraction(truth.calendar.working_seconds(received, _end_of_processing(r)), 3600), 1)
            )
            if is_document:
                rows["4.1"].append((unit, int(_has_result_file(r)), 1))
            if code(r.get("MaLinhVuc")) == CERTIFICATION_FIELD:
                rows["4.3"].append((unit, int(_has_result_file(r)), 1))
    for d in dossiers_from(truth.dossiers):
        on_time = _in_scope_2_1(d, t0, t1)
        if on_time is not None:
            rows["2.1"].append((d.unit, int(on_time), 1))
            rows["5.3"].append((d.unit, 1 - (not on_time) - (d.code in complained), 1))
    return online_pairs, vneid_pairs


def _complained(truth: Truth, t1: datetime) -> set[str]:
    """5.3's complaints: dossiers with a rating of level 3 or a linked feedback item before t1."""
    return {
        code(r["dossierCode"])
        for r in truth.ratings
        if int(r["level"]) == 3 and iso(r.get("ratedAt")) and iso(r["ratedAt"]) < t1
    } | {
        code(f["dossierCode"])
        for f in truth.feedback
        if code(f.get("dossierCode")) and iso(f.get("receivedAt")) and iso(f["receivedAt"]) < t1
    }


def _offerings(
    truth: Truth, period: Period, units: dict[str, Unit], online_pairs: set, vneid_pairs: set, pairs: Rows
) -> None:
    """3.1, 3.2, 3.5, 3.6, 4.7: offered TTHC and online services valid on the last day."""
    last = period.last
    procs = {p["MaTTHC"].strip(): p for p in truth.procedures}
    offered = {
        (o["MaDinhDanh"].strip(), o["MaTTHC"].strip())
        for o in truth.offerings
        if _valid(day(o.get("HieuLucTu")), day(o.get("HieuLucDen")), last)
    }
    services = [
        s
        for s in truth.services
        if s.get("publishedOnPortal") and _valid(iso_day(s.get("validFrom")), iso_day(s.get("validTo")), last)
    ]
    service_pairs = {(s["departmentCode"].strip(), s["procedureCode"].strip()) for s in services}
    integrated = {
        (s["departmentCode"].strip(), s["procedureCode"].strip()) for s in services if s.get("paymentIntegrated")
    }
    paid_pairs = set()
    for p in _paid_at_end(truth, period):
        paid, home = iso(p.get("paidAt")), unit_on(code(p["departmentCode"]), last, units)
        if paid and period.t0 <= paid < period.t1 and home:
            paid_pairs.add((home, code(p["procedureCode"])))
    for pair in offered:
        p = procs.get(pair[1], {})
        pairs["3.1"].append((pair[0], int(pair in service_pairs), 1))
        if p.get("CoPhiLePhi"):
            pairs["3.5"].append((pair[0], int(pair in paid_pairs), 1))
            pairs["3.6"].append((pair[0], int(pair in integrated), 1))
        if "CONG_DAN" in (p.get("DoiTuongThucHien") or []):
            pairs["4.7"].append((pair[0], int(pair in vneid_pairs), 1))
    for pair in service_pairs:
        pairs["3.2"].append((pair[0], int(pair in online_pairs), 1))


def _feedback(truth: Truth, period: Period, rows: Rows) -> None:
    """5.1, 5.2: feedback (PAKN); handled = HANDLED or REJECTED."""
    t0, t1 = period.t0, period.t1
    for f in truth.feedback:
        received, due = iso(f.get("receivedAt")), iso(f.get("dueAt"))
        if received is None or received >= t1:
            continue
        handled = iso(f.get("handledAt")) if f.get("status") in ("HANDLED", "REJECTED") else None
        open_at_end = handled is None or handled >= t1
        unit = code(f["departmentCode"])
        if received >= t0 or handled is None or handled >= t0:
            on_time = (handled is not None and t0 <= handled < t1 and due is not None and handled <= due) or (
                open_at_end and due is not None and due >= t1
            )
            rows["5.1"].append((unit, int(on_time), 1))
        if received >= t0:
            unhappy = (
                int(f.get("dislikes") or 0) > int(f.get("likes") or 0)
                or bool(f.get("reraised"))
                or (handled is not None and handled < t1 and due is not None and handled > due)
                or (open_at_end and due is not None and due < t1)
            )
            rows["5.2"].append((unit, int(not unhappy), 1))


# -- points (§6, §6a; the seed's default rules written out independently) -----------------------------
# metric: (max points, "L" linear slope | "C" capped at a target rate, slope or target)
RULES = {
    "1.1": (6, "L", 6),
    "1.2": (4, "L", 4),
    "1.3": (2, "L", 2),
    "1.4": (6, "L", 6),
    "2.1": (20, "L", 20),
    "2.2": (0, "L", 0),
    "3.1": (2, "C", Fraction(8, 10)),
    "3.2": (4, "L", 4),
    "3.3": (6, "C", Fraction(5, 10)),
    "3.4": (6, "L", 6),
    "3.5": (2, "C", Fraction(8, 10)),
    "3.6": (2, "L", 2),
    "4.1": (6, "L", 6),
    "4.2": (4, "L", 4),
    "4.3": (2, "L", 2),
    "4.4": (2, "C", Fraction(8, 10)),
    "4.5": (4, "L", 4),
    "4.6": (2, "L", 2),
    "4.7": (2, "L", 2),
    "5.1": (6, "L", 6),
    "5.2": (6, "L", 6),
    "5.3": (6, "C", Fraction(9, 10)),
}


def points(metric: str, unit_level: str | None, num, den) -> tuple[Fraction, bool]:
    """(points, applies): full marks where the metric is not the unit's duty or has nothing to
    count, except 5.3 (0 without dossiers); 2.2 is monitoring only (0 of 0)."""
    top, kind, k = RULES[metric]
    if metric in PROVINCE_ONLY and unit_level != "TINH":
        return Fraction(top), False
    if den == 0:
        return (Fraction(0) if metric == "5.3" else Fraction(top)), False
    if metric == "2.2":
        return Fraction(0), True
    rate = Fraction(num) / Fraction(den)
    return min(Fraction(top), k * rate if kind == "L" else top * rate / k), True


# -- acting before the period ends (§11) ---------------------------------------------------------
# Section 11 recomputed from the same source records, for a moment T and every unit valid on
# T's local day. How this oracle reads the places where §11 leaves room (the dbt models are
# checked against these readings; where they differ, the letter of §11 decides):
#
#  * "As of T" is applied by rewriting each record as it stood at T (`dossier_at`): end of
#    processing and return dated after T are blanked, supplement requests made after T dropped,
#    completions after T undone (with their NgayHenTraMoi), NgayHenTra set to the due time in
#    force at T (the NgayHenTraTruoc of the first request not completed by T, else NgayHenTra),
#    apology letters dated after T dropped, refusals after T blanked; sync records count only
#    when SUCCESS with syncedAt <= T (or no syncedAt: undated); the TTHC catalogue's NgayCongBo / NgayCongKhai after T's
#    day are blanked (a TTHC made public after T was not public at T, so 1.2 and 1.3 at a past
#    T do not count it). Undated facts are read as they are now: status, DaXoa, result files,
#    LyDo, component flags, likes/dislikes, an apology letter or a supplement with no date.
#  * Status is not dated, so "waiting on the citizen" at T is read from the dated supplements:
#    open at T with exactly one request made by T and not completed by T (that pending request
#    is what puts a dossier in status 5). The current status is not consulted: a dossier that
#    waited at T and is back in processing now was still waiting at T.
#  * "Open at T" is §5's end of processing without the supplement rule (NgayKetThucXuLy, else
#    NgayTra) not at or before T; the waiting dossiers are a part of the open ones (§11).
#  * Every list and the projection count events at or before T (§11 "at or before T", "<= T");
#    the metrics month to date count [period start, T) as §6a does for [start, end) (the
#    actions contract's reading). The two differ only for an event exactly at T; the dbt test
#    picks moments with no dated event on them, so both readings give the same numbers there.
#  * Dated day fields (the catalogue's) against a moment T: a day has begun at T, so "in the
#    period up to T" is start <= day <= T's day (T is never a midnight in the tests).
#  * Deleted dossiers (DaXoa now) are on no list, like every count of §6a.
#  * L7 dates a refusal by NgayTuChoi, a withdrawal or stop by NgayKetThucXuLy, else NgayTra; a
#    dossier without that date is on no list (the simulator always dates them).
#  * Gains: a linear metric at n = d (rate 1) gains 0 from "one more" (no dossier can be added;
#    §11's w/d is read for n < d). A metric that does not apply (denominator 0, or a provincial
#    metric below the province) and 2.2 (max 0) gain 0 and need 0 dossiers to the cap. 5.3's
#    numerator is the floored count the metric uses.
#  * Three things, (4.2, L5): only the L5 rows that count in 4.2 (received in the period and
#    digitized) are counted and moved; a pair whose counted rows are 0 is left out.
#  * L1's row gain is the loss of 2.1 (points now - points with one fewer in the numerator).
#  * The projection's "all" is 2.1's denominator at T; decided = 2.1's closed-by-T set (incl.
#    waiting on the citizen, judged at the request), then open with > 1 request (late), due <=
#    T (late), due >= period end (safe), else undecided. 5.3's two ends keep its complaints and
#    take 2.1's late count from the projection's ends.
H_DUE_SOON, R_NOT_RETURNED, S_UNSYNCED = 8, 16, 24
LIST_NAMES = (
    "sap_den_han",
    "qua_han",
    "buoc_qua_han",
    "chua_tra_ket_qua",
    "thieu_ket_qua_dien_tu",
    "chua_dong_bo",
    "thieu_ly_do",
)
PAIRS = (
    ("2.1", "sap_den_han"),
    ("4.1", "thieu_ket_qua_dien_tu"),
    ("4.2", "thieu_ket_qua_dien_tu"),
    ("1.4", "chua_dong_bo"),
)


def _until(text: str | None, t: datetime) -> str | None:
    """A one-stop time field as it stood at t: itself when at or before t, else blank."""
    moment = ts(text)
    return text if moment is not None and moment <= t else None


def _by_request(supplements: list[dict]) -> list[dict]:
    return sorted(supplements, key=lambda s: ts(s.get("NgayYeuCauBoSung")) or datetime.max.replace(tzinfo=LOCAL))


def _due_text_at(r: dict, t: datetime) -> str | None:
    """NgayHenTra in force at t: a completion after t has not moved it yet (§11)."""
    for s in _by_request(r.get("DanhSachHoSoBoSung") or []):
        done = ts(s.get("NgayTiepNhanBoSung"))
        if done is None or done > t:
            return s.get("NgayHenTraTruoc") or r.get("NgayHenTra")
    return r.get("NgayHenTra")


def dossier_at(r: dict, t: datetime) -> dict:
    """The one-stop record `r` as it stood at t (see the readings above)."""
    supplements = []
    for s in _by_request(r.get("DanhSachHoSoBoSung") or []):
        requested = ts(s.get("NgayYeuCauBoSung"))
        if requested is not None and requested > t:
            continue
        done = ts(s.get("NgayTiepNhanBoSung"))
        supplements.append(s if done is None or done <= t else {**s, "NgayTiepNhanBoSung": None, "NgayHenTraMoi": None})
    letters = [p for p in r.get("PhieuXinLoi") or [] if ts(p.get("NgayXinLoi")) is None or ts(p["NgayXinLoi"]) <= t]
    return {
        **r,
        "NgayKetThucXuLy": _until(r.get("NgayKetThucXuLy"), t),
        "NgayTra": _until(r.get("NgayTra"), t),
        "NgayTuChoi": _until(r.get("NgayTuChoi"), t),
        "NgayHenTra": _due_text_at(r, t),
        "DanhSachHoSoBoSung": supplements,
        "PhieuXinLoi": letters,
    }


def _known_at(r: dict, t: datetime) -> bool:
    """Received or refused by t: the records section 11 can see at t."""
    return any(ts(r.get(f)) is not None and ts(r[f]) <= t for f in ("NgayTiepNhan", "NgayTuChoi"))


def truth_at(truth: Truth, t: datetime) -> Truth:
    """The truth as section 11 reads it at a past T: dated facts after T undone."""
    from dataclasses import replace

    day_t = t.astimezone(LOCAL).date()
    procedures = [
        {
            **p,
            **{f: (p.get(f) if day(p.get(f)) and day(p[f]) <= day_t else None) for f in ("NgayCongBo", "NgayCongKhai")},
        }
        for p in truth.procedures
    ]
    syncs = [
        s
        for s in truth.syncs
        if s.get("syncResult") == "SUCCESS" and (iso(s.get("syncedAt")) is None or iso(s["syncedAt"]) <= t)
    ]
    return replace(
        truth,
        dossiers=[dossier_at(r, t) for r in truth.dossiers if _known_at(r, t)],
        syncs=syncs,
        procedures=procedures,
    )


def period_of(t: datetime) -> tuple[datetime, datetime]:
    """The current period at T: local midnights of the first of T's month and of the next."""
    d = t.astimezone(LOCAL).date().replace(day=1)
    return midnight(d), midnight((d + timedelta(days=32)).replace(day=1))


def metrics_at(truth: Truth, t: datetime) -> dict[tuple[str, str], tuple]:
    """{(unit, metric): (numerator, denominator)}: §6a on [period start, T), open dossiers judged
    at T as at a period end, every unit valid on T's local day (metrics() for a moment)."""
    t = t.astimezone(LOCAL)
    period = Period(t.date().replace(day=1), t.date() + timedelta(days=1), moment=t)
    return _metrics(truth_at(truth, t), period)


def gain_one_more(metric: str, applies: bool, num, den) -> Fraction:
    """§11: the points one more numerator dossier brings (readings above)."""
    top, kind, k = RULES[metric]
    if not applies or den == 0 or top == 0:
        return Fraction(0)
    n, d = Fraction(num), Fraction(den)
    if kind == "L":
        return Fraction(top) / d if n < d else Fraction(0)
    if n / d >= k:
        return Fraction(0)
    if (n + 1) / d <= k:
        return Fraction(top) / (k * d)
    return top - top * n / (k * d)


def dossiers_to_cap(metric: str, applies: bool, num, den) -> int:
    """§11: the fewest numerator dossiers that bring the metric to its max."""
    top, kind, k = RULES[metric]
    if not applies or den == 0 or top == 0:
        return 0
    if kind == "L":
        return max(0, int(den - num))
    need = -((-k * den).numerator // (k * den).denominator)  # ceil(c d)
    return max(0, need - int(num))


@dataclass(frozen=True)
class MetricAt:
    num: object
    den: int
    applies: bool
    max_points: int
    points: Fraction
    lost: Fraction
    gain: Fraction
    to_cap: int


@dataclass(frozen=True)
class ListRow:
    unit: str  # the viewing unit U (the row appears once per ancestor of its row unit)
    list_name: str
    dossier: str
    row_unit: str  # the dossier's unit at T; the step's unit for buoc_qua_han
    figure: Fraction | None
    apology: bool | None  # qua_han only
    gain: Fraction | None  # sap_den_han (2.1's loss), thieu_ket_qua_dien_tu (4.1 + 4.2), chua_dong_bo (1.4)
    handling_unit: str = ""  # the dossier's unit at T (also for buoc_qua_han)
    due: datetime | None = None  # the due time in force at T


@dataclass(frozen=True)
class Thing:
    rank: int
    metric: str
    list_name: str
    points_at_stake: Fraction
    rows: int


@dataclass(frozen=True)
class Projection:
    dossiers_all: int
    decided_on_time: int
    decided_late: int
    safe: int
    undecided: int
    rate_min: Fraction | None
    rate_max: Fraction | None
    points_2_1_min: Fraction
    points_2_1_max: Fraction
    points_5_3_min: Fraction
    points_5_3_max: Fraction
    total_now: Fraction
    total_min: Fraction
    total_max: Fraction


@dataclass
class ActToday:
    at: datetime
    rows: list[ListRow]
    metrics: dict[tuple[str, str], MetricAt]
    three_things: dict[str, list[Thing]]
    projection: dict[str, Projection]
    undecided: dict[str, list[tuple[str, str, datetime, int]]]  # unit -> (dossier, row unit, due, rank)


def _current_step(steps: list[dict], t: datetime) -> dict | None:
    """§11: the process-log row with the highest STT among those with NgayBatDau <= T."""
    started = [s for s in steps if ts(s.get("NgayBatDau")) is not None and ts(s["NgayBatDau"]) <= t]
    return max(started, key=lambda s: int(s["STT"])) if started else None


def _hours(cal: Calendar, a: datetime, b: datetime) -> Fraction:
    return Fraction(cal.working_seconds(a, b), 3600)


def act_today(
    truth: Truth,
    t: datetime,
    due_soon: int = H_DUE_SOON,
    not_returned: int = R_NOT_RETURNED,
    unsynced: int = S_UNSYNCED,
) -> ActToday:
    """Section 11 at the moment t: the seven lists of every unit valid on t's local day, its
    metrics month to date with lost points and gains, its three things to do and the month-end
    projection of 2.1 (with the undecided dossiers, soonest due first)."""
    t = t.astimezone(LOCAL)
    cal, today = truth.calendar, t.date()
    t0, t_end = period_of(t)
    units = units_from(truth.units)
    valid = {c for c, u in units.items() if u.valid_on(today)}
    procs = {p["MaTTHC"].strip(): p for p in truth.procedures}
    seen = truth_at(truth, t)
    synced = {code(s["dossierCode"]) for s in seen.syncs}
    steps: dict[str, list[dict]] = defaultdict(list)
    for s in truth.steps:
        steps[s["MaHoSo"].strip()].append(s)

    counts = metrics_at(truth, t)
    metric_at = {}
    for (unit, metric), (num, den) in counts.items():
        pts, applies = points(metric, units[unit].level, num, den)
        top = RULES[metric][0]
        metric_at[(unit, metric)] = MetricAt(
            num,
            den,
            applies,
            top,
            pts,
            top - pts,
            gain_one_more(metric, applies, num, den),
            dossiers_to_cap(metric, applies, num, den),
        )

    def home(unit_code: str | None) -> str | None:
        return unit_on(unit_code, today, units) if unit_code else None

    # one (row unit, list, dossier, figure, apology, counts in 4.2, dossier's unit, due) per dossier and list
    limits = (due_soon, not_returned, unsynced)
    base = [
        row
        for now in truth.dossiers
        if not now.get("DaXoa") and _known_at(now, t)
        for row in _dossier_lists(dossier_at(now, t), t, t0, cal, procs, synced, steps, home, limits)
    ]

    rows, stake_rows = [], defaultdict(lambda: defaultdict(int))
    for unit, name, c, figure, apology, in_4_2, handling, due in base:
        for viewer in ancestors_on(unit, today, units):
            gain = None
            if name == "sap_den_han":
                m = metric_at[(viewer, "2.1")]
                gain = m.points - points("2.1", units[viewer].level, m.num - 1, m.den)[0]
            elif name == "thieu_ket_qua_dien_tu":
                gain = metric_at[(viewer, "4.1")].gain + (metric_at[(viewer, "4.2")].gain if in_4_2 else 0)
                stake_rows[viewer]["4.2"] += in_4_2
            elif name == "chua_dong_bo":
                gain = metric_at[(viewer, "1.4")].gain
            if name in ("thieu_ket_qua_dien_tu", "chua_dong_bo"):
                figure = gain
            for metric, paired in PAIRS:
                if paired == name and metric != "4.2":
                    stake_rows[viewer][metric] += 1
            rows.append(ListRow(viewer, name, c, unit, figure, apology, gain, handling, due))

    three = {}
    for viewer in valid:
        things = []
        for metric, name in PAIRS:
            k = stake_rows[viewer][metric]
            if not k:
                continue
            m, level = metric_at[(viewer, metric)], units[viewer].level
            moved = points(metric, level, m.num + (-k if metric == "2.1" else k), m.den)[0]
            things.append((abs(moved - m.points), metric, name, k))
        things.sort(key=lambda x: (-x[0], tuple(int(p) for p in x[1].split("."))))
        three[viewer] = [Thing(i + 1, m, n, s, k) for i, (s, m, n, k) in enumerate(things[:3])]

    projection, undecided = _projection(seen, t, t0, t_end, units, metric_at, today)
    return ActToday(t, rows, metric_at, three, projection, undecided)


def _dossier_lists(
    r: dict,
    t: datetime,
    t0: datetime,
    cal: Calendar,
    procs: dict,
    synced: set,
    steps: dict,
    home: Callable,
    limits: tuple[int, int, int],
) -> list[tuple]:
    """The lists one dossier (`r` as it stood at t) is on, before pooling to viewing units."""
    due_soon, not_returned, unsynced = limits
    c, status, unit = r["MaHoSo"].strip(), int(r["TrangThaiHoSo"]), home(code(r["MaDinhDanhDonVi"]))
    if unit is None:
        return []
    due, out = ts(r.get("NgayHenTra")), []
    if status in (3, 7, 8) and not (r.get("LyDo") or "").strip():
        decided = ts(r.get("NgayTuChoi")) if status == 3 else _end_of_processing(r)
        if decided is not None and t0 <= decided <= t:
            out.append((unit, "thieu_ly_do", c, None, None, False))
    if not _received(r):
        return [(*row, unit, due) for row in out]
    received, ended = ts(r["NgayTiepNhan"]), _end_of_processing(r)
    supplements = r["DanhSachHoSoBoSung"]
    waiting = ended is None and len(supplements) == 1 and ts(supplements[0].get("NgayTiepNhanBoSung")) is None
    if ended is None and not waiting:
        if due is None:
            raise AssertionError(f"{c}: no NgayHenTra; the oracle does not derive due times")
        if len(supplements) <= 1 and due > t and _hours(cal, t, due) <= due_soon:
            out.append((unit, "sap_den_han", c, _hours(cal, t, due), None, False))
        if due <= t or len(supplements) > 1:
            out.append(
                (unit, "qua_han", c, _hours(cal, due, t) if due <= t else Fraction(0), bool(r["PhieuXinLoi"]), False)
            )
        step = _current_step(steps.get(c, []), t)
        deadline = ts(step.get("NgayKetThucTheoQuyDinh")) if step else None
        step_unit = home(code(step.get("MaDinhDanhDonVi"))) if step else None
        if deadline is not None and deadline < t and step_unit is not None:
            out.append((step_unit, "buoc_qua_han", c, _hours(cal, deadline, t), None, False))
    ready = ts(r.get("NgayKetThucXuLy"))
    if status in (9, 10) and ready is not None and ready <= t and r.get("NgayTra") is None:
        hours = _hours(cal, ready, t)
        if hours >= not_returned:
            out.append((unit, "chua_tra_ket_qua", c, hours, None, False))
    document = bool(procs.get(code(r["MaTTHC"]), {}).get("KetQuaLaGiayTo"))
    if status in (9, 10) and ended is not None and t0 <= ended <= t and document and not _has_result_file(r):
        digitized = any(_flag(x, "DuocSoHoa") for x in r.get("TaiLieuNop") or [])
        out.append((unit, "thieu_ket_qua_dien_tu", c, None, None, t0 <= received <= t and digitized))
    if t0 <= received and t - received > timedelta(hours=unsynced) and c not in synced:
        out.append((unit, "chua_dong_bo", c, None, None, False))
    return [(*row, unit, due) for row in out]


def _projection(
    seen: Truth,
    t: datetime,
    t0: datetime,
    t_end: datetime,
    units: dict[str, Unit],
    metric_at: dict[tuple[str, str], MetricAt],
    today: date,
):
    """§11's month-end projection of 2.1 over the dossiers known at T (records as they stood at T)."""
    complained = _complained(seen, t)
    tally: dict[str, list[int]] = defaultdict(lambda: [0] * 6)  # all, on time, late, safe, undecided, complaints
    open_ones: dict[str, list[tuple]] = defaultdict(list)
    for d in dossiers_from(seen.dossiers):
        if _in_scope_2_1(d, t0, t) is None:
            continue
        if d.end is not None and d.end <= t:  # closed by T, or waiting (judged at the request)
            kind = 1 if d.supplements <= 1 and d.end <= d.due else 2
        elif d.supplements > 1 or d.due <= t:
            kind = 2
        elif d.due >= t_end:
            kind = 3
        else:
            kind = 4
        unit = unit_on(d.unit, today, units)
        for viewer in ancestors_on(unit, today, units):
            row = tally[viewer]
            row[0] += 1
            row[kind] += 1
            row[5] += d.code in complained
            if kind == 4:
                open_ones[viewer].append((d.code, unit, d.due))
    projection, undecided = {}, {}
    for viewer, u in units.items():
        if not u.valid_on(today):
            continue
        n_all, on_time, late, safe, open_, compl = tally[viewer]
        ends = []
        for decided_ok in (on_time + safe, on_time + safe + open_):
            ends.append(
                (
                    Fraction(decided_ok, n_all) if n_all else None,
                    points("2.1", u.level, decided_ok, n_all)[0],
                    points("5.3", u.level, max(0, decided_ok - compl), n_all)[0],
                )
            )
        now = sum(metric_at[(viewer, m)].points for m in METRICS)
        base = now - metric_at[(viewer, "2.1")].points - metric_at[(viewer, "5.3")].points
        projection[viewer] = Projection(
            n_all,
            on_time,
            late,
            safe,
            open_,
            ends[0][0],
            ends[1][0],
            ends[0][1],
            ends[1][1],
            ends[0][2],
            ends[1][2],
            now,
            base + ends[0][1] + ends[0][2],
            base + ends[1][1] + ends[1][2],
        )
        ordered = sorted(open_ones[viewer], key=lambda x: (x[2], x[0]))
        undecided[viewer] = [(c, unit, due, i + 1) for i, (c, unit, due) in enumerate(ordered)]
    return projection, undecided
