"""Independent hand computations of the 766 metrics from contract-shaped source records.

Written from domain.md §5 and §6a in plain Python, sharing no code with the dbt models, so a
test can check the marts against a second reading of the rules.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

LOCAL = timezone(timedelta(hours=7))


def ts(text: str | None) -> datetime | None:
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    fmt = "%Y%m%d%H%M%S" if len(text) == 14 else "%Y%m%d"
    return datetime.strptime(text, fmt).replace(tzinfo=LOCAL)


def day(text: str | None) -> date | None:
    moment = ts(text)
    return moment.date() if moment else None


@dataclass(frozen=True)
class Unit:
    code: str
    parent: str | None
    valid_from: date
    valid_to: date | None
    successor: str | None

    def valid_on(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or self.valid_to >= d)


def units_from(records: list[dict]) -> dict[str, Unit]:
    out = {}
    for r in records:
        code = r["MaDinhDanh"].strip()
        parent = (r.get("MaDonViCha") or "").strip() or None
        successor = (r.get("MaDonViKeNhiem") or "").strip() or None
        out[code] = Unit(code, parent, day(r["HieuLucTu"]), day(r.get("HieuLucDen")), successor)
    return out


def unit_on(code: str, d: date, units: dict[str, Unit]) -> str | None:
    """The unit a dossier of `code` counts for on day d: itself, or its successor after a merger."""
    seen = set()
    while code in units and not units[code].valid_on(d) and code not in seen:
        seen.add(code)
        if not units[code].successor:
            return None
        code = units[code].successor
    return code if code in units and units[code].valid_on(d) else None


def ancestors_on(code: str, d: date, units: dict[str, Unit]) -> list[str]:
    chain, seen = [], set()
    while code and code in units and units[code].valid_on(d) and code not in seen:
        seen.add(code)
        chain.append(code)
        code = units[code].parent
    return chain


@dataclass(frozen=True)
class Dossier:
    code: str
    unit: str
    received: datetime
    due: datetime | None
    end: datetime | None          # end of processing for 766, supplement rule applied
    supplements: int


def dossiers_from(records: list[dict]) -> list[Dossier]:
    out = []
    for r in records:
        if r.get("DaXoa") or int(r["TrangThaiHoSo"]) in (1, 3) or ts(r.get("NgayTiepNhan")) is None:
            continue
        supplements = r.get("DanhSachHoSoBoSung") or []
        if len(supplements) == 1 and ts(supplements[0].get("NgayTiepNhanBoSung")) is None:
            end = ts(supplements[0].get("NgayYeuCauBoSung"))
        else:
            end = ts(r.get("NgayKetThucXuLy")) or ts(r.get("NgayTra"))
        out.append(Dossier(r["MaHoSo"].strip(), r["MaDinhDanhDonVi"].strip(), ts(r["NgayTiepNhan"]),
                           ts(r.get("NgayHenTra")), end, len(supplements)))
    return out


def metric_2_1(dossiers: list[Dossier], units: dict[str, Unit], start: date, end: date) -> dict[str, tuple[int, int]]:
    """{unit: (numerator, denominator)} for every unit valid on the period's last day."""
    t0 = datetime.combine(start, datetime.min.time(), LOCAL)
    t1 = datetime.combine(end, datetime.min.time(), LOCAL)
    last = end - timedelta(days=1)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in dossiers:
        received_in = t0 <= d.received < t1
        open_at_start = d.received < t0 and (d.end is None or d.end >= t0)
        if not (received_in or open_at_start):
            continue
        if d.due is None:
            raise AssertionError(f"{d.code}: no NgayHenTra; the oracle does not do working-time limits")
        if d.end is not None and d.end < t1:
            # closed in the period: §5's supplement rules apply (several requests make it late)
            on_time = d.supplements <= 1 and d.end <= d.due
        else:
            # open at the period end: §6a asks only that NgayHenTra is not yet past
            on_time = d.due >= t1
        home = unit_on(d.unit, last, units)
        for ancestor in ancestors_on(home, last, units) if home else []:
            counts[ancestor][0] += on_time
            counts[ancestor][1] += 1
    return {code: tuple(counts.get(code, (0, 0))) for code, u in units.items() if u.valid_on(last)}


def _pool(per_dossier: list[tuple[str, int, int]], units: dict[str, Unit], last: date) -> dict[str, tuple[int, int]]:
    """Sum (numerator, denominator) contributions of dossiers over each unit's subtree."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for unit, num, den in per_dossier:
        home = unit_on(unit, last, units)
        for ancestor in ancestors_on(home, last, units) if home else []:
            counts[ancestor][0] += num
            counts[ancestor][1] += den
    return {code: tuple(counts.get(code, (0, 0))) for code, u in units.items() if u.valid_on(last)}


def _received(r: dict) -> bool:
    return not r.get("DaXoa") and int(r["TrangThaiHoSo"]) not in (1, 3) and ts(r.get("NgayTiepNhan")) is not None


def metric_3_3(records: list[dict], units: dict[str, Unit], start: date, end: date) -> dict[str, tuple[int, int]]:
    """Dossiers received online (KenhThucHien 2) in the period / dossiers received in the period."""
    t0 = datetime.combine(start, datetime.min.time(), LOCAL)
    t1 = datetime.combine(end, datetime.min.time(), LOCAL)
    rows = [(r["MaDinhDanhDonVi"].strip(), int(int(r["KenhThucHien"]) == 2), 1)
            for r in records if _received(r) and t0 <= ts(r["NgayTiepNhan"]) < t1]
    return _pool(rows, units, end - timedelta(days=1))


def metric_4_1(records: list[dict], procedures: list[dict], units: dict[str, Unit], start: date,
               end: date) -> dict[str, tuple[int, int]]:
    """Dossiers resolved in the period (status 9/10, end in the period) whose TTHC's result is a
    document, with ≥ 1 result file / those dossiers."""
    t0 = datetime.combine(start, datetime.min.time(), LOCAL)
    t1 = datetime.combine(end, datetime.min.time(), LOCAL)
    paper = {p["MaTTHC"].strip() for p in procedures if p.get("KetQuaLaGiayTo")}
    rows = []
    for r in records:
        if not _received(r) or int(r["TrangThaiHoSo"]) not in (9, 10) or r["MaTTHC"].strip() not in paper:
            continue
        finished = ts(r.get("NgayKetThucXuLy")) or ts(r.get("NgayTra"))
        if finished is None or not (t0 <= finished < t1):
            continue
        has_file = any((doc.get("DuongDanTepTinKetQua") or "").strip() for doc in r.get("DanhSachGiayToKetQua") or [])
        rows.append((r["MaDinhDanhDonVi"].strip(), int(has_file), 1))
    return _pool(rows, units, end - timedelta(days=1))
