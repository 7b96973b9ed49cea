"""Every case of docs/acting-today.md (§11) is in the demo's province at the demo's moments.

The demo's world (tthc/demo/pipeline.py DemoPlan: its nights at 01:00 and its working-hour refresh) is
read from the raw records the sources serve, through tests/simulator/action_cases.py (a reading
of §11 that shares nothing with the warehouse): at each night as that night loaded it, and at the
working hour both as an hourly refresh then would read it and as the demo reads it (what the
last night loaded, judged as of T). The showcase (simulator/showcase.py) must not disturb the
rest of the world, and its dossiers must obey the same bookkeeping as generated ones.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from simulator import World
from simulator.config import WorldConfig
from simulator.timefmt import VN
from tests.oracle import unit_on, units_from
from tests.simulator import test_world
from tests.simulator.action_cases import CASES, PERIOD_CASES, ActionInputs, Cases, find_cases
from tests.simulator.conftest import FAR_FUTURE
from tthc.demo.pipeline import DemoPlan

PLAN = DemoPlan()
NIGHTS = PLAN.night_moments()
LAST_NIGHT = max(NIGHTS)


@pytest.fixture(scope="module")
def demo_world() -> World:
    return World(PLAN.world_config())


@pytest.fixture(scope="module")
def units(demo_world):
    return units_from(demo_world.records("one_stop", "don_vi", FAR_FUTURE))


def showcase_unit(world: World, at: datetime) -> str:
    communes = [u for u in world.units.units if u.level == "XA" and u.active_on(at.date())]
    return max(communes, key=lambda u: (world.units.weight[u.index], u.code)).code


def cases_of(cases: Cases, unit: str, at: datetime, units) -> dict[str, set[str]]:
    """The cases whose unit is `unit` on T's date (a merged commune's rows count for its successor)."""
    out: dict[str, set[str]] = {}
    for code, by_case in cases.by_unit.items():
        if unit_on(code, at.date(), units) == unit:
            for case, dossiers in by_case.items():
                out.setdefault(case, set()).update(dossiers)
    return out


def test_the_demo_moments_are_where_the_demo_refreshes():
    assert PLAN.actions_at == datetime(2025, 7, 31, 9, 0, tzinfo=VN)
    assert PLAN.actions_at.weekday() == 3 and PLAN.actions_at.date() < LAST_NIGHT.date()
    assert set(PLAN.showcase_moments()) == set(NIGHTS) | {PLAN.actions_at}


@pytest.mark.parametrize("night", NIGHTS, ids=lambda n: n.date().isoformat())
def test_every_case_at_each_night(demo_world, units, night):
    unit = showcase_unit(demo_world, night)
    got = cases_of(find_cases(ActionInputs.from_world(demo_world, night), night), unit, night, units)
    # at 01:00 on the 1st the month is an hour old: nothing was resolved, received a day ago or closed in it
    assert not any(got.get(c) for c in PERIOD_CASES)
    missing = [c for c in CASES if c not in PERIOD_CASES and not got.get(c)]
    assert not missing, f"{unit} at {night}: no {missing}"


@pytest.mark.parametrize("loaded", ["at T", "the last night"])
def test_every_case_at_the_working_hour(demo_world, units, loaded):
    at = PLAN.actions_at
    as_of = at if loaded == "at T" else LAST_NIGHT
    unit = showcase_unit(demo_world, at)
    assert demo_world.units.by_code[unit].level == "XA" and demo_world.units.by_code[unit].valid_from == date(
        2025, 7, 1
    )
    got = cases_of(find_cases(ActionInputs.from_world(demo_world, as_of), at), unit, at, units)
    missing = [c for c in CASES if not got.get(c)]
    assert not missing, f"{unit} at {at} read from the sources as of {as_of}: no {missing}"
    # the lists are not only the showcase: the generator's own lifecycles fill them too
    assert len(got["thieu_ket_qua_dien_tu"]) >= 5 and len(got["cho_cong_dan"]) >= 5


def test_the_cases_are_what_they_say(demo_world, units):
    """A few cases read by hand from the showcase unit's raw dossiers at the working hour."""
    at, unit = PLAN.actions_at, showcase_unit(demo_world, PLAN.actions_at)
    got = cases_of(find_cases(ActionInputs.from_world(demo_world, LAST_NIGHT), at), unit, at, units)
    rows = {d["MaHoSo"]: d for d in demo_world.records("one_stop", "ho_so", LAST_NIGHT)}
    stamp = at.strftime("%Y%m%d%H%M%S")
    for code in got["qua_han_bo_sung"]:
        d = rows[code]
        assert len(d["DanhSachHoSoBoSung"]) >= 2 and d["NgayHenTra"] > stamp
    for code in got["cho_cong_dan"]:
        (request,) = [s for s in rows[code]["DanhSachHoSoBoSung"] if s["NgayYeuCauBoSung"] <= stamp]
        assert request["NgayTiepNhanBoSung"] is None or request["NgayTiepNhanBoSung"] > stamp
    assert any(rows[c]["PhieuXinLoi"] for c in got["qua_han_co_xin_loi"])
    for code in got["thieu_ly_do"]:
        assert rows[code]["TrangThaiHoSo"] in (3, 7, 8) and not (rows[code]["LyDo"] or "").strip()
    syncs = {s["dossierCode"]: s for s in demo_world.records("dvc_portal", "sync_status", LAST_NIGHT)}
    assert any(syncs.get(c, {}).get("syncResult") == "ERROR" for c in got["chua_dong_bo"])
    # liên thông: U's list holds a step of a dossier another unit handles
    other = [
        c for c in got["buoc_qua_han_don_vi_khac"] if unit_on(rows[c]["MaDinhDanhDonVi"], at.date(), units) != unit
    ]
    assert other and all(rows[c]["LienThong"] for c in other)


def test_showcase_dossiers_keep_the_books(demo_world):
    """The generator's bookkeeping tests hold over the showcase world too (dates, supplements,
    deadlines from the TTHC's limit, liên thông steps across units)."""
    final = demo_world.records("one_stop", "ho_so", FAR_FUTURE)
    mid = demo_world.records("one_stop", "ho_so", PLAN.actions_at)
    test_world.test_dossier_dates_are_consistent(final, mid)
    test_world.test_supplement_bookkeeping_moves_the_deadline(final)
    test_world.test_deadline_is_in_working_time(demo_world, final)
    test_world.test_liên_thông_steps_span_several_units(demo_world, final)
    codes = [d["MaHoSo"] for d in final]
    assert len(codes) == len(set(codes))


def test_the_showcase_leaves_the_rest_of_the_world_alone():
    config = WorldConfig(seed=5, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31))
    plain, shown = World(config), World(replace(config, showcase_at=(PLAN.actions_at,)))
    added = set(shown.plan.code[plain.plan.n :])
    assert 15 <= len(added) <= 30
    for entity in ("ho_so", "qua_trinh_xu_ly"):
        before = plain.records("one_stop", entity, LAST_NIGHT)
        after = [r for r in shown.records("one_stop", entity, LAST_NIGHT) if r["MaHoSo"] not in added]
        assert after == before, entity
    again = World(replace(config, showcase_at=(PLAN.actions_at,)))
    assert again.records("one_stop", "ho_so", LAST_NIGHT) == shown.records("one_stop", "ho_so", LAST_NIGHT)


def test_a_showcase_moment_outside_the_world_is_refused():
    config = WorldConfig(
        seed=5, dossiers_per_year=100, start=date(2025, 1, 1), end=date(2025, 3, 31), showcase_at=(PLAN.actions_at,)
    )
    with pytest.raises(ValueError, match="outside the world"):
        World(config)
