"""The portal's official scores (POST service-results) over real HTTP: shape, determinism,
sync gaps, month vs quarter vs year, the clock, and bad requests."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from simulator import SimulatorServer, World
from simulator.timefmt import VN
from tests import oracle
from tests.simulator.conftest import SMALL

pytestmark = pytest.mark.slow
PATH = "/api/v1/reporting/evaluation/service-results"
KEY = {"X-API-Key": "demo-api-key"}
GROUP_MAX = {"CKMB": 18, "TDGQ": 20, "CLGQ": 12, "TTTT": 10, "MDHL": 18, "MDSH": 22}
CODES = list(oracle.METRICS)  # the 22 metrics of the index
LATER = datetime(2026, 6, 1, tzinfo=VN)


def scores(server, root, **body):
    r = requests.post(server.url + PATH, json={"rootDepartmentCode": root, **body}, headers=KEY, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["code"] == "OK"
    return r


def metric(unit: dict, code: str) -> dict:
    return next(m for m in unit["metrics"] if m["code"] == code)


def test_shape_and_determinism(world, server):
    root = world.units.province.code
    server.set_clock(LATER)
    first = scores(server, root, timeType="month", year=2024, month=5)
    data = first.json()["data"]
    units = [data["overview"], *data["children"]]
    assert data["overview"]["departmentCode"] == root and len(data["children"]) > 10
    for u in units:
        assert set(u["groupScores"]) == set(GROUP_MAX) and u["totalMaxScore"] == 100
        assert [m["code"] for m in u["metrics"]] == CODES
        assert abs(sum(u["groupScores"].values()) - u["totalScore"]) < 0.05
        for m in u["metrics"]:
            assert set(m) == {"code", "numerator", "denominator", "ratio", "score", "maxScore"}
            assert 0 <= m["score"] <= m["maxScore"] + 1e-9
            if m["ratio"] is not None and m["code"] != "5.3":
                assert m["ratio"] == pytest.approx(m["numerator"] / m["denominator"], abs=1e-4)
        for g, top in GROUP_MAX.items():
            assert 0 <= u["groupScores"][g] <= top
    assert 0 < data["overview"]["totalScore"] < 100
    # pooled, not averaged: the overview's dossier counts are the children's sums
    for code in ("1.4", "2.1", "3.3"):
        assert metric(data["overview"], code)["denominator"] == sum(
            metric(c, code)["denominator"] for c in data["children"]
        )
    assert len({c["totalScore"] for c in data["children"]}) > 3, "units differ"
    assert scores(server, root, timeType="month", year=2024, month=5).content == first.content
    with SimulatorServer(World(SMALL), port=0, clock=LATER) as other:  # a fresh world, same seed
        assert scores(other, root, timeType="month", year=2024, month=5).content == first.content


def _score_by_child(server, root, **body) -> dict[str, dict]:
    return {c["departmentCode"]: c for c in scores(server, root, **body).json()["data"]["children"]}


def test_sync_gaps_lower_the_portal_score(world, server):
    """1.4 is what the portal synced of what was received; a unit with sync gaps loses points a
    gap-free unit keeps, and the same unit without its gaps scores higher."""
    root = world.units.province.code
    server.set_clock(LATER)
    got = _score_by_child(server, root, timeType="year", year=2024)
    # independently, from the served records
    units = {u["MaDinhDanh"]: u for u in world.records("one_stop", "don_vi", LATER)}

    def child_of(code):
        while units[code]["MaDonViCha"] != root:
            code = units[code]["MaDonViCha"]
        return code

    synced, errors, reported = {}, {}, {}
    for s in world.records("dvc_portal", "sync_status", LATER):
        if s["receivedAt"].startswith("2024"):
            c = child_of(s["departmentCode"])
            if s["syncResult"] == "SUCCESS":
                synced[c] = synced.get(c, 0) + 1
            else:
                errors[c] = errors.get(c, 0) + 1
    for d in world.records("one_stop", "ho_so", LATER):
        if d["NgayTiepNhan"] and d["NgayTiepNhan"].startswith("2024") and not d["DaXoa"]:
            c = child_of(d["MaDinhDanhDonVi"])
            reported[c] = reported.get(c, 0) + 1
    for code, child in got.items():
        m = metric(child, "1.4")
        assert m["numerator"] == synced.get(code, 0)
        assert m["denominator"] == max(synced.get(code, 0), reported.get(code, 0))
    # a gap costs points once the synced dossiers fall short of the reported ones
    # (deleted dossiers stay synced, so a few ERROR rows can be hidden by them)
    gaps = [c for c in got if synced.get(c, 0) < reported.get(c, 0)]
    clean = [c for c in got if reported.get(c) and not errors.get(c)]
    assert gaps and clean and all(errors.get(c) for c in gaps)
    assert all(metric(got[c], "1.4")["score"] < 6 and got[c]["groupScores"]["CKMB"] < 18 for c in gaps)
    assert all(metric(got[c], "1.4")["score"] == 6 and got[c]["groupScores"]["CKMB"] == 18 for c in clean)

    # the same world with every sync succeeding: the units with gaps gain exactly there
    healed = World(SMALL)
    healed.portal.sync_error[:] = 0.0
    with SimulatorServer(healed, port=0, clock=LATER) as srv:
        fixed = _score_by_child(srv, root, timeType="year", year=2024)
    for c in gaps:
        assert metric(fixed[c], "1.4")["score"] == 6
        assert fixed[c]["groupScores"]["CKMB"] > got[c]["groupScores"]["CKMB"]
    for c in clean:
        assert fixed[c] == got[c], "a unit without gaps is unaffected"


ADDITIVE = ("1.4", "3.3", "4.4", "4.5", "4.6")  # counts of dossiers received in the period


def test_month_quarter_year(world, server):
    root = world.units.province.code
    server.set_clock(LATER)

    def counts(**body):
        o = scores(server, root, **body).json()["data"]["overview"]
        # 1.4's denominator is max(reported, synced) per unit: not additive, so its numerator only
        return {c: (metric(o, c)["numerator"], metric(o, c)["denominator"] if c != "1.4" else 1) for c in ADDITIVE}

    def add(parts):
        return {c: tuple(sum(p[c][k] for p in parts) for k in (0, 1)) for c in ADDITIVE}

    months = [counts(timeType="month", year=2024, month=m) for m in range(1, 13)]
    quarters = [counts(timeType="quarter", year=2024, quarter=q) for q in range(1, 5)]
    year = counts(timeType="year", year=2024)
    assert all(months[k][c][1] > 0 for k in range(12) for c in ADDITIVE)
    for q in range(4):
        assert {c: v[0] for c, v in quarters[q].items()} == {c: v[0] for c, v in add(months[3 * q : 3 * q + 3]).items()}
        assert all(quarters[q][c][1] == add(months[3 * q : 3 * q + 3])[c][1] for c in ADDITIVE if c != "1.4")
    assert all(year[c][0] == add(quarters)[c][0] for c in ADDITIVE)
    assert all(year[c][1] == add(quarters)[c][1] for c in ADDITIVE if c != "1.4")
    # a year is not the average of its months: its scores come from the pooled counts
    y = scores(server, root, timeType="year", year=2024).json()["data"]["overview"]
    assert metric(y, "3.3")["ratio"] == pytest.approx(year["3.3"][0] / year["3.3"][1], abs=1e-4)


def test_an_open_period_moves_with_the_clock(world, server):
    root = world.units.province.code
    body = {"timeType": "month", "year": 2025, "month": 3}
    server.set_clock(datetime(2025, 3, 12, tzinfo=VN))
    early = scores(server, root, **body).json()["data"]
    server.set_clock(datetime(2025, 3, 26, tzinfo=VN))
    late = scores(server, root, **body).json()["data"]
    assert early != late
    assert metric(late["overview"], "3.3")["denominator"] > metric(early["overview"], "3.3")["denominator"]
    assert scores(server, root, **body).json()["data"] == late


@pytest.mark.parametrize(
    "body",
    [
        {"timeType": "quarter", "year": 2024},
        {"timeType": "week", "year": 2024},
        {"timeType": "month", "year": 2024, "month": 13},
        {"timeType": "year", "year": "2024"},
        {"timeType": "year", "year": 2024, "rootDepartmentCode": "000.00.00.X99"},
    ],
)
def test_bad_requests(world, server, body):
    body = {"rootDepartmentCode": world.units.province.code, **body}
    r = requests.post(server.url + PATH, json=body, headers=KEY, timeout=10)
    assert r.status_code == 400 and r.json()["code"] != "OK" and r.json()["message"]


def test_auth_and_method(world, server):
    body = {"timeType": "year", "year": 2024, "rootDepartmentCode": world.units.province.code}
    assert requests.post(server.url + PATH, json=body, timeout=10).status_code == 403
    assert requests.post(server.url + PATH, json=body, headers={"X-API-Key": "x"}, timeout=10).status_code == 403
    assert requests.get(server.url + PATH, headers=KEY, timeout=10).status_code == 405
    assert requests.post(server.url + PATH, data=b"not json", headers=KEY, timeout=10).status_code == 400


def test_a_district_root_lists_its_communes(world, server):
    server.set_clock(LATER)
    district = world.units.districts[0]
    data = scores(server, district.code, timeType="quarter", year=2024, quarter=2).json()["data"]
    assert data["overview"]["departmentCode"] == district.code
    want = sorted(u.code for u in world.units.old_communes if u.parent == district.code)
    assert [c["departmentCode"] for c in data["children"]] == want
    # a commune is not scored on the province's publishing duties
    assert all(metric(c, "1.1")["score"] == 6 and metric(c, "1.1")["ratio"] is None for c in data["children"])
