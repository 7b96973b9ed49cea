"""The simulated clock: records appear and change as it moves; windows select on NgayCapNhat."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import requests

from simulator.timefmt import VN, stamp, to_aware
from tests.simulator.conftest import fetch_all, token

KEYS = {
    "don_vi": ("MaDinhDanh",),
    "thu_tuc": ("MaTTHC",),
    "thu_tuc_don_vi": ("MaDinhDanh", "MaTTHC", "HieuLucTu"),
    "ho_so": ("MaHoSo",),
    "qua_trinh_xu_ly": ("MaHoSo", "STT"),
}


def key(entity, row):
    return tuple(row[k] for k in KEYS[entity])


def test_records_appear_and_change_as_the_clock_moves(world):
    t1, t2 = datetime(2024, 5, 1, tzinfo=VN), datetime(2024, 8, 1, tzinfo=VN)
    early = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", t1)}
    late = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", t2)}
    assert set(early) < set(late), "records never disappear; new ones arrive"
    changed = [k for k in early if early[k] != late[k]]
    assert changed, "some dossiers changed after first served"
    for k in changed:
        assert late[k]["NgayCapNhat"] > early[k]["NgayCapNhat"]
    assert all(r["NgayCapNhat"] <= stamp_of(t1) for r in early.values())


def stamp_of(dt: datetime) -> str:
    return dt.astimezone(VN).strftime("%Y%m%d%H%M%S")


def test_record_exists_from_its_first_version(world):
    index = world.index("one_stop", "ho_so")
    first = index.first_seen()
    rec = int(np.argsort(first)[len(first) // 2])
    t = int(first[rec])
    code = world.plan.code[rec]
    before = {r["MaHoSo"] for r in world.records("one_stop", "ho_so", to_aware(t - 1))}
    at = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", to_aware(t))}
    assert code not in before and code in at
    assert at[code]["NgayCapNhat"] == stamp(t)


@pytest.mark.slow
@pytest.mark.parametrize(
    "entity,path",
    [
        ("ho_so", "/api/v1/ho-so"),
        ("qua_trinh_xu_ly", "/api/v1/qua-trinh-xu-ly"),
        ("thu_tuc_don_vi", "/api/v1/thu-tuc-don-vi"),
    ],
)
def test_window_returns_exactly_the_records_updated_in_it(world, server, entity, path):
    clock = datetime(2025, 2, 10, 15, 30, tzinfo=VN)
    server.set_clock(clock)
    truth = world.records("one_stop", entity, clock)
    tok = token(server.url)
    with requests.Session() as s:
        for lo, hi in [
            (datetime(2025, 1, 1, tzinfo=VN), datetime(2025, 1, 8, tzinfo=VN)),
            (datetime(2024, 6, 3, 8, tzinfo=VN), datetime(2024, 6, 3, 11, tzinfo=VN)),
            (datetime(2025, 2, 9, tzinfo=VN), datetime(2025, 3, 1, tzinfo=VN)),
        ]:  # beyond the clock
            a, b = stamp_of(lo), stamp_of(hi)
            got = fetch_all(s, server.url, path, tok, page_size=50, tu_ngay=a, den_ngay=b)
            want = sorted(
                (r for r in truth if a <= r["NgayCapNhat"] < b), key=lambda r: (r["NgayCapNhat"], key(entity, r))
            )
            assert got == want
            assert len(got) > 0 or entity == "thu_tuc_don_vi"


@pytest.mark.slow
def test_moving_the_clock_over_http_shows_new_versions(world, server):
    tok = token(server.url)
    h = {"Authorization": f"Bearer {tok}"}
    r = requests.post(f"{server.url}/_sim/clock", json={"as_of": "2024-03-01T00:00:00+07:00"}, timeout=10)
    assert r.json()["as_of"] == "2024-03-01T00:00:00+07:00"
    n1 = requests.get(f"{server.url}/api/v1/ho-so", headers=h, timeout=10).json()["pagination"]["total"]
    requests.post(f"{server.url}/_sim/clock", json={"advance_seconds": 30 * 86400}, timeout=10)
    assert server.clock == datetime(2024, 3, 31, tzinfo=VN)
    n2 = requests.get(f"{server.url}/api/v1/ho-so", headers=h, timeout=10).json()["pagination"]["total"]
    assert n1 == len(world.records("one_stop", "ho_so", datetime(2024, 3, 1, tzinfo=VN)))
    assert n2 == len(world.records("one_stop", "ho_so", datetime(2024, 3, 31, tzinfo=VN))) > n1
    # an incremental pass over (old clock, new clock] sees every dossier that is new or changed
    old = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", datetime(2024, 3, 1, tzinfo=VN))}
    new = world.records("one_stop", "ho_so", datetime(2024, 3, 31, tzinfo=VN))
    with requests.Session() as s:
        got = fetch_all(s, server.url, "/api/v1/ho-so", tok, tu_ngay="20240301000001", den_ngay="20240331000001")
    assert {r["MaHoSo"] for r in got} == {r["MaHoSo"] for r in new if old.get(r["MaHoSo"]) != r}


def test_stamp_matches_strftime_across_days_and_seconds():
    rng = np.random.default_rng(3)
    # local seconds from 2023 to 2027, plus the edges of a day
    moments = list(rng.integers(1_672_531_200, 1_830_297_600, 2000)) + [1_735_689_600, 1_735_689_600 + 86_399]
    for t in moments:
        expected = (datetime(1970, 1, 1) + timedelta(seconds=int(t))).strftime("%Y%m%d%H%M%S")
        assert stamp(int(t)) == expected
    assert stamp(None) is None


def test_a_window_is_reused_while_paging_and_recomputed_when_anything_moves(world):
    index = world.index("one_stop", "qua_trinh_xu_ly")
    as_of = int(index.t.max())
    lo = int(index.t[len(index) // 3])
    first = index.window(as_of, lo, None)
    assert index.window(as_of, lo, None) is first, "the same window is not recomputed page after page"
    assert not first.flags.writeable, "callers cannot alter the kept window"
    earlier = index.window(as_of - 86_400 * 30, lo, None)
    expected = lo <= index.t
    expected &= index.t <= as_of - 86_400 * 30
    expected &= index.nxt > as_of - 86_400 * 30
    assert np.array_equal(earlier, np.flatnonzero(expected)), "a new clock gives that clock's window"
    assert earlier.size < first.size
