"""Which §11 cases a set of source records holds at a moment T, read from the raw records alone.

A second reading of docs/acting-today.md (§11), written for the simulator's tests: it shares nothing with the
dbt models and only the holiday calendar (tests/oracle.py's `Calendar`) with the oracle. Inputs
are records exactly as the sources serve them as of some time A ≥ T (what a warehouse loaded
then); everything dated is read as it stood at T (§11 "as of a past T"), what the sources do not
date (result files, reasons) as served at A.

    cases = find_cases(ActionInputs.from_world(world, as_of=A), T)
    cases.by_unit["000.30.41.H56"]["sap_den_han_1h"]    # dossier codes
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.oracle import LOCAL, Calendar, iso, ts

H_DUE_SOON, R_NOT_RETURNED, S_UNSYNCED = 8, 16, 24  # §11's defaults, in hours

CASES = (
    "sap_den_han_1h",  # L1, due within the hour
    "sap_den_han",  # L1, due within H
    "qua_han_co_xin_loi",  # L2 with an apology letter
    "qua_han_chua_xin_loi",  # L2 without one
    "qua_han_bo_sung",  # L2 only by the supplements rule (two requests, due time not yet past)
    "cho_cong_dan",  # waiting on the citizen (one request pending)
    "buoc_qua_han_don_vi_khac",  # L3, the current step held by another unit (liên thông)
    "chua_tra_duoi_R",  # result ready, just under R working hours (not on L4)
    "chua_tra_ket_qua",  # L4, just over R
    "thieu_ket_qua_dien_tu",  # L5
    "chua_dong_bo",  # L6
    "thieu_ly_do",  # L7
)
# cases §11 cannot hold at 01:00 on the 1st of a month: the current period is an hour old
PERIOD_CASES = ("thieu_ket_qua_dien_tu", "chua_dong_bo", "thieu_ly_do")
# "just" under and over R: within this many working hours of it
R_MARGIN = 2


@dataclass
class ActionInputs:
    dossiers: list[dict]
    steps: list[dict]
    syncs: list[dict]
    document_procedures: set[str]

    @classmethod
    def from_world(cls, world, as_of: datetime) -> ActionInputs:
        procedures = world.records("one_stop", "thu_tuc", as_of)
        return cls(
            world.records("one_stop", "ho_so", as_of),
            world.records("one_stop", "qua_trinh_xu_ly", as_of),
            world.records("dvc_portal", "sync_status", as_of),
            {p["MaTTHC"] for p in procedures if p.get("KetQuaLaGiayTo")},
        )


@dataclass
class Cases:
    by_unit: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))

    def add(self, unit: str, case: str, dossier: str) -> None:
        self.by_unit[unit][case].add(dossier)

    def missing(self, unit: str, wanted=CASES) -> list[str]:
        have = self.by_unit.get(unit, {})
        return [c for c in wanted if not have.get(c)]


def working_hours(cal: Calendar, a: datetime, b: datetime) -> float:
    return cal.working_seconds(a, b) / 3600


def _blank(text) -> bool:
    return text is None or not str(text).strip()


def find_cases(inputs: ActionInputs, at: datetime, cal: Calendar | None = None) -> Cases:
    """Every case of CASES at T, per the dossier's handling unit (or, for L3, the step's unit)."""
    cal = cal or Calendar()
    period_start = at.astimezone(LOCAL).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    current_step = _current_steps(inputs.steps, at)
    synced = {
        s["dossierCode"]
        for s in inputs.syncs
        if s.get("syncResult") == "SUCCESS" and iso(s.get("syncedAt")) and iso(s["syncedAt"]) <= at
    }
    out = Cases()
    for r in inputs.dossiers:
        code, unit, status = r["MaHoSo"], r["MaDinhDanhDonVi"], int(r["TrangThaiHoSo"])
        if r.get("DaXoa"):
            continue
        refused = ts(r.get("NgayTuChoi"))
        if status == 3 and refused and period_start <= refused <= at and _blank(r.get("LyDo")):
            out.add(unit, "thieu_ly_do", code)
        received = ts(r.get("NgayTiepNhan"))
        if status in (1, 3) or received is None or received > at:
            continue
        ended = ts(r.get("NgayKetThucXuLy")) or ts(r.get("NgayTra"))
        returned = ts(r.get("NgayTra"))
        end_at = ended if ended and ended <= at else None
        if end_at and status in (7, 8) and period_start <= end_at and _blank(r.get("LyDo")):
            out.add(unit, "thieu_ly_do", code)
        if end_at and status in (9, 10) and ts(r.get("NgayKetThucXuLy")):
            ready = ts(r["NgayKetThucXuLy"])
            if returned is None or returned > at:
                hours = working_hours(cal, ready, at)
                if R_NOT_RETURNED - R_MARGIN <= hours < R_NOT_RETURNED:
                    out.add(unit, "chua_tra_duoi_R", code)
                elif R_NOT_RETURNED <= hours <= R_NOT_RETURNED + R_MARGIN:
                    out.add(unit, "chua_tra_ket_qua", code)
            files = [g for g in r.get("DanhSachGiayToKetQua") or [] if not _blank(g.get("DuongDanTepTinKetQua"))]
            if period_start <= ready and r["MaTTHC"] in inputs.document_procedures and not files:
                out.add(unit, "thieu_ket_qua_dien_tu", code)
        if period_start <= received <= at - timedelta(hours=S_UNSYNCED) and code not in synced:
            out.add(unit, "chua_dong_bo", code)
        if end_at is not None:
            continue
        # open at T: supplements as they stood then
        supplements = [s for s in r.get("DanhSachHoSoBoSung") or [] if ts(s["NgayYeuCauBoSung"]) <= at]
        pending = [s for s in supplements if not ts(s.get("NgayTiepNhanBoSung")) or ts(s["NgayTiepNhanBoSung"]) > at]
        if len(supplements) == 1 and pending:
            out.add(unit, "cho_cong_dan", code)
            continue
        due = _due_in_force(r, at)
        if len(supplements) > 1 or due <= at:
            letters = [p for p in r.get("PhieuXinLoi") or [] if ts(p.get("NgayXinLoi")) and ts(p["NgayXinLoi"]) <= at]
            out.add(unit, "qua_han_co_xin_loi" if letters else "qua_han_chua_xin_loi", code)
            if due > at:
                out.add(unit, "qua_han_bo_sung", code)
        else:
            left = working_hours(cal, at, due)
            if left <= H_DUE_SOON:
                out.add(unit, "sap_den_han", code)
            if left <= 1:
                out.add(unit, "sap_den_han_1h", code)
        step = current_step.get(code)
        if (
            step
            and step["MaDinhDanhDonVi"] != unit
            and ts(step.get("NgayKetThucTheoQuyDinh"))
            and ts(step["NgayKetThucTheoQuyDinh"]) < at
        ):
            out.add(step["MaDinhDanhDonVi"], "buoc_qua_han_don_vi_khac", code)
    return out


def _due_in_force(r: dict, at: datetime) -> datetime:
    """§11: a completion after T has not yet moved the due time: the first request not completed
    by T gives it (its NgayHenTraTruoc); with every request completed, NgayHenTra."""
    for s in r.get("DanhSachHoSoBoSung") or []:
        done = ts(s.get("NgayTiepNhanBoSung"))
        if ts(s["NgayYeuCauBoSung"]) > at or done is None or done > at:
            return ts(s["NgayHenTraTruoc"])
    return ts(r["NgayHenTra"])


def _current_steps(steps: list[dict], at: datetime) -> dict[str, dict]:
    """§11: the process-log row with the highest STT among those with NgayBatDau ≤ T."""
    out: dict[str, dict] = {}
    for s in steps:
        start = ts(s.get("NgayBatDau"))
        if start is None or start > at:
            continue
        best = out.get(s["MaHoSo"])
        if best is None or s["STT"] > best["STT"]:
            out[s["MaHoSo"]] = s
    return out
