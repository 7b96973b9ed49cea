"""World generation: determinism, units and the merger, the catalogue, dossier lifecycles."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime

import orjson
import pytest

from simulator import World, WorldConfig
from simulator.timefmt import VN
from simulator.worktime import WorkCalendar, local_seconds
from tests.simulator.conftest import FAR_FUTURE, SMALL

CAL = WorkCalendar()
ENTITIES = ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly")


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, "%Y%m%d%H%M%S")


def work_secs(a: datetime, b: datetime) -> int:
    return int(CAL.work_between(local_seconds(a), local_seconds(b)))


@pytest.fixture(scope="module")
def final(world):
    return world.records("one_stop", "ho_so", FAR_FUTURE)


@pytest.fixture(scope="module")
def mid(world):
    return world.records("one_stop", "ho_so", datetime(2025, 3, 5, 10, 0, tzinfo=VN))


# -- determinism -----------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(world):
    other = World(SMALL)
    as_of = datetime(2025, 2, 1, 12, tzinfo=VN)
    for e in ENTITIES:
        assert orjson.dumps(world.records("one_stop", e, as_of)) == orjson.dumps(other.records("one_stop", e, as_of)), e


def test_other_seed_gives_another_world(world):
    other = World(WorldConfig(seed=12, dossiers_per_year=3000, start=SMALL.start, end=SMALL.end))
    as_of = datetime(2025, 2, 1, tzinfo=VN)
    assert world.records("one_stop", "ho_so", as_of) != other.records("one_stop", "ho_so", as_of)


def test_scale_knob(world):
    small = World(WorldConfig(seed=3, dossiers_per_year=300, start=date(2024, 1, 1), end=date(2024, 12, 31)))
    n = len(small.records("one_stop", "ho_so", FAR_FUTURE))
    assert 290 <= n <= 310
    assert len(world.records("one_stop", "ho_so", FAR_FUTURE)) == SMALL.total_dossiers


# -- units and the merger --------------------------------------------------------------------------
def test_units_and_merger(world):
    units = {u["MaDinhDanh"]: u for u in world.records("one_stop", "don_vi", FAR_FUTURE)}
    levels = Counter(u["CapDonVi"] for u in units.values())
    assert (
        levels["TINH"] == 1
        and levels["SO"] >= 5
        and levels["HUYEN"] >= 3
        and levels["XA"] >= 20
        and levels["CHI_NHANH"] >= 1
    )
    province = next(u for u in units.values() if u["CapDonVi"] == "TINH")
    assert province["MaDonViCha"] is None
    pattern = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.H56$")
    assert all(pattern.match(code) for code in units)
    for u in units.values():
        assert "UBND" in u["TenDonVi"] or u["CapDonVi"] in ("SO", "CHI_NHANH")
        if u["MaDonViCha"] is not None:
            assert u["MaDonViCha"] in units
    districts = [u for u in units.values() if u["CapDonVi"] == "HUYEN"]
    assert all(u["HieuLucDen"] == "20250630" for u in districts)
    old = [u for u in units.values() if u["CapDonVi"] == "XA" and u["HieuLucTu"] < "20250701"]
    new = [u for u in units.values() if u["CapDonVi"] == "XA" and u["HieuLucTu"] == "20250701"]
    assert old and new and len(new) < len(old)
    for u in old:
        assert u["HieuLucDen"] == "20250630"
        successor = units[u["MaDonViKeNhiem"]]
        assert successor in new
    for u in new:
        assert u["HieuLucDen"] is None and u["MaDonViCha"] == province["MaDinhDanh"]
    assert {u["MaDonViKeNhiem"] for u in old} == {u["MaDinhDanh"] for u in new}


def test_units_before_the_merger_was_announced(world):
    before = world.records("one_stop", "don_vi", datetime(2025, 1, 1, tzinfo=VN))
    assert all(u["HieuLucTu"] < "20250701" and u["HieuLucDen"] is None for u in before)


def test_dossiers_follow_the_merger(world, final):
    units = {u["MaDinhDanh"]: u for u in world.records("one_stop", "don_vi", FAR_FUTURE)}
    for d in final:
        unit = units[d["MaDinhDanhDonVi"]]
        day = d["MaHoSo"].split("-")[1]
        submitted = "20" + day
        assert unit["HieuLucTu"] <= submitted, d["MaHoSo"]
        if unit["HieuLucDen"]:
            assert submitted <= unit["HieuLucDen"], d["MaHoSo"]


# -- catalogue ---------------------------------------------------------------------------------------
def test_catalogue(world):
    procs = world.records("one_stop", "thu_tuc", FAR_FUTURE)
    assert 250 <= len(procs) <= 300
    fields = Counter(p["MaLinhVuc"] for p in procs)
    assert {"DD", "HT", "XD", "DT", "KD", "CT"} <= set(fields)
    assert {p["DonViThoiHan"] for p in procs} == {"NGAY_LAM_VIEC", "NGAY", "GIO"}
    assert {p["CoPhiLePhi"] for p in procs} == {True, False}
    assert {p["KetQuaLaGiayTo"] for p in procs} == {True, False}
    assert any(p["NgayCongKhai"] is None for p in procs) and any(not p["CongKhaiDayDu"] for p in procs)
    assert any(p["NgayCongBo"] >= "20240101" for p in procs), "some TTHC are published during the world"
    assert len({p["MaTTHC"] for p in procs}) == len(procs)
    assert all(re.match(r"^[12]\.\d{6}$", p["MaTTHC"]) for p in procs)
    offerings = world.records("one_stop", "thu_tuc_don_vi", FAR_FUTURE)
    assert {o["MucDoDVC"] for o in offerings} == {"TOAN_TRINH", "MOT_PHAN", "KHONG"}
    codes = {p["MaTTHC"] for p in procs}
    assert all(o["MaTTHC"] in codes for o in offerings)
    # an upgraded offering: the old row ends the day before the new one starts
    by_pair = defaultdict(list)
    for o in offerings:
        by_pair[(o["MaDinhDanh"], o["MaTTHC"])].append(o)
    upgraded = [v for v in by_pair.values() if len(v) == 2]
    assert upgraded
    for a, b in (sorted(v, key=lambda o: o["HieuLucTu"]) for v in upgraded):
        assert a["HieuLucDen"] is not None and a["HieuLucDen"] < b["HieuLucTu"]


# -- dossiers ----------------------------------------------------------------------------------------
def test_every_status_and_path_exists(final, mid):
    statuses = Counter(d["TrangThaiHoSo"] for d in final) + Counter(d["TrangThaiHoSo"] for d in mid)
    assert set(statuses) == set(range(1, 11)), statuses
    assert any(d["DaXoa"] for d in final)
    closing = [d for d in final if d["TrangThaiHoSo"] in (3, 7, 8)]
    assert any(d["LyDo"] is None for d in closing) and any(d["LyDo"] == " " for d in closing), "reasons left out"
    assert sum(bool(d["LyDo"] and d["LyDo"].strip()) for d in closing) > 0.7 * len(closing), "most reasons written"
    assert any(d["LienThong"] for d in final)
    assert {d["KenhThucHien"] for d in final} == {1, 2, 3}
    assert {d["LoaiDoiTuong"] for d in final} >= {1, 2, 3}
    supp = Counter(len(d["DanhSachHoSoBoSung"]) for d in final)
    assert supp[1] and supp[2], supp
    assert any(s["NgayTiepNhanBoSung"] is None for d in final for s in d["DanhSachHoSoBoSung"])
    late = [d for d in final if d["NgayKetThucXuLy"] and d["NgayKetThucXuLy"] > d["NgayHenTra"]]
    assert any(d["PhieuXinLoi"] for d in late) and any(not d["PhieuXinLoi"] for d in late)
    results = [r for d in final for r in d["DanhSachGiayToKetQua"]]
    assert any(r["DuongDanTepTinKetQua"] for r in results) and any(r["DuongDanTepTinKetQua"] is None for r in results)
    parts = [p for d in final for p in d["TaiLieuNop"]]
    for flag in ("DuocSoHoa", "DuocTaiSuDung", "DuocLayTuKhoDMQG"):
        assert {p[flag] for p in parts} == {0, 1}, flag
    assert {d["HoSoCoThanhPhanSoHoa"] for d in final} == {0, 1}
    assert {d["TaiKhoanDuocXacThucVoiVNeID"] for d in final} == {0, 1}
    assert {d["DuocThanhToanTrucTuyen"] for d in final} == {0, 1, 2}
    fees = [f["Gia"] for d in final for f in d["DanhSachLePhi"]]
    assert 0 in fees and max(fees) > 0
    # result ready but handed back days later, or never
    slow_return = [d for d in final if d["NgayTra"] and (ts(d["NgayTra"]) - ts(d["NgayKetThucXuLy"])).days >= 3]
    assert slow_return and any(d["TrangThaiHoSo"] == 9 for d in final)


def test_dossier_dates_are_consistent(final, mid):
    for d in final + mid:
        s = d["TrangThaiHoSo"]
        code = d["MaHoSo"]
        assert re.match(rf"^{re.escape(d['MaDinhDanhDonVi'])}-\d{{6}}-\d{{4}}$", code), code
        assert code.split("-")[1] == d["NgayNopHoSo"][2:8], code
        end, ret, recv = ts(d["NgayKetThucXuLy"]), ts(d["NgayTra"]), ts(d["NgayTiepNhan"])
        assert (end is not None) == (s in (7, 8, 9, 10)), (code, s)
        assert (ret is not None) == (s == 10), (code, s)
        assert (d["NgayTuChoi"] is not None) == (s == 3), (code, s)
        assert (recv is None) == (s in (1, 3)), (code, s)
        if s not in (3, 7, 8):
            assert d["LyDo"] is None, (code, s)  # 3, 7, 8 carry one, unless it was left out (null or blank)
        if s == 1:
            assert d["KenhThucHien"] in (2, 3)
        if recv is not None:
            assert ts(d["NgayNopHoSo"]) <= recv
            assert d["NgayHenTra"] is not None and ts(d["NgayHenTra"]) > recv
        if end is not None:
            assert recv <= end
        if ret is not None:
            assert end <= ret
        if s == 5:
            assert d["DanhSachHoSoBoSung"][-1]["NgayTiepNhanBoSung"] is None
        if s in (7, 8, 3, 1):
            assert not d["DanhSachGiayToKetQua"]
        assert ts(d["NgayCapNhat"]) >= max(
            ts(x)
            for x in (d["NgayNopHoSo"], d["NgayTiepNhan"], d["NgayKetThucXuLy"], d["NgayTra"], d["NgayTuChoi"])
            if x
        )


def test_supplement_bookkeeping_moves_the_deadline(final):
    checked = 0
    for d in final:
        supp = d["DanhSachHoSoBoSung"]
        if not supp:
            continue
        for prev, nxt in zip(supp, supp[1:]):
            assert prev["NgayTiepNhanBoSung"] is not None, "only the last request can be open"
            assert nxt["NgayHenTraTruoc"] == prev["NgayHenTraMoi"]
        for s in supp:
            assert ts(s["NgayYeuCauBoSung"]) >= ts(d["NgayTiepNhan"])
            if s["NgayTiepNhanBoSung"] is None:
                assert s["NgayHenTraMoi"] is None
                continue
            citizen = work_secs(ts(s["NgayYeuCauBoSung"]), ts(s["NgayTiepNhanBoSung"]))
            assert work_secs(ts(s["NgayHenTraTruoc"]), ts(s["NgayHenTraMoi"])) == citizen, d["MaHoSo"]
            checked += 1
        last = supp[-1]
        assert d["NgayHenTra"] == (last["NgayHenTraMoi"] or last["NgayHenTraTruoc"])
    assert checked >= 10


def test_deadline_is_in_working_time(world, final):
    procs = {p["MaTTHC"]: p for p in world.records("one_stop", "thu_tuc", FAR_FUTURE)}
    checked = Counter()
    for d in final:
        if d["NgayTiepNhan"] is None or d["DanhSachHoSoBoSung"]:
            continue
        p = procs[d["MaTTHC"]]
        recv, due = ts(d["NgayTiepNhan"]), ts(d["NgayHenTra"])
        if p["DonViThoiHan"] == "NGAY_LAM_VIEC":
            assert work_secs(recv, due) == p["ThoiHanGiaiQuyet"] * 8 * 3600, d["MaHoSo"]
        elif p["DonViThoiHan"] == "GIO":
            assert work_secs(recv, due) == p["ThoiHanGiaiQuyet"] * 3600, d["MaHoSo"]
        else:
            assert CAL.is_work_day((due.date() - date(1970, 1, 1)).days)
            assert (due.date() - recv.date()).days >= p["ThoiHanGiaiQuyet"]
        checked[p["DonViThoiHan"]] += 1
        # a deadline spanning a weekend or holiday is longer in calendar time than in working time
    assert set(checked) == {"NGAY_LAM_VIEC", "GIO", "NGAY"}


def test_liên_thông_steps_span_several_units(world, final):
    steps = world.records("one_stop", "qua_trinh_xu_ly", FAR_FUTURE)
    by_dossier = defaultdict(list)
    for s in steps:
        by_dossier[s["MaHoSo"]].append(s)
    lt = [d for d in final if d["LienThong"] and d["TrangThaiHoSo"] in (9, 10)]
    assert lt
    late_partner = 0
    for d in lt:
        mine = by_dossier[d["MaHoSo"]]
        assert len({s["MaDinhDanhDonVi"] for s in mine}) >= 2
        for s in mine:
            if s["MaDinhDanhDonVi"] != d["MaDinhDanhDonVi"] and s["NgayKetThucTheoQuyDinh"]:
                late_partner += s["ThoiDiemXuLy"] > s["NgayKetThucTheoQuyDinh"]
    assert late_partner >= 1, "some liên thông delays are caused by the partner's step"
    # steps: numbered 1..n in time order, last step's status equals the dossier's
    for d in final:
        mine = sorted(by_dossier[d["MaHoSo"]], key=lambda s: s["STT"])
        assert [s["STT"] for s in mine] == list(range(1, len(mine) + 1))
        assert [s["ThoiDiemXuLy"] for s in mine] == sorted(s["ThoiDiemXuLy"] for s in mine)
        if not d["DaXoa"]:
            assert mine[-1]["TrangThai"] == d["TrangThaiHoSo"], d["MaHoSo"]


def test_units_differ_in_propensities():
    w = World(WorldConfig(seed=5, dossiers_per_year=30000, start=date(2024, 1, 1), end=date(2024, 12, 31)))
    rows = w.records("one_stop", "ho_so", FAR_FUTURE)
    per = defaultdict(Counter)
    for d in rows:
        c = per[d["MaDinhDanhDonVi"]]
        if d["TrangThaiHoSo"] in (1, 3):
            continue
        c["received"] += 1
        c["online"] += d["KenhThucHien"] == 2
        if d["TrangThaiHoSo"] in (9, 10):
            c["resolved"] += 1
            c["late"] += d["NgayKetThucXuLy"] > d["NgayHenTra"]
        for r in d["DanhSachGiayToKetQua"]:
            c["docs"] += 1
            c["files"] += r["DuongDanTepTinKetQua"] is not None
    busy = [c for c in per.values() if c["received"] >= 150 and c["docs"] >= 80]
    assert len(busy) >= 10
    digit = [c["files"] / c["docs"] for c in busy]
    online = [c["online"] / c["received"] for c in busy]
    late = [c["late"] / c["resolved"] for c in busy]
    assert min(digit) < 0.4 and max(digit) > 0.8, digit
    assert min(online) < 0.15 and max(online) > 0.6, online
    assert min(late) < 0.03 and max(late) > 0.09, late
