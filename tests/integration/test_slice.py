"""The thin slice end to end: simulator over HTTP → extractors → raw → dbt → gate → mart → extract.

Metric 2.1 in the mart and in chi_so_766.csv must equal an independent count from the
simulator's ground truth (tests/oracle.py), for every unit and month.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from expectations.runner import run_gate
from expectations.suites import GATE_SUITES
from extractors.entities import entity
from extractors.run import extract_entity
from extractors.sources import SourceSettings, make_client
from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests import oracle
from tests.paths import VALIDATOR
from tthc.pipeline import dbt
from tthc.publish.monthly import publish_month
from tthc.publish.periods import Month

pytestmark = pytest.mark.slow  # one module, one worker (make test uses --dist loadfile)

CLOCK = datetime(2025, 8, 1, 1, 0, tzinfo=LOCAL)
MONTHS = [Month(2025, m) for m in range(1, 8)]


@pytest.fixture(scope="module")
def world():
    return World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))


@pytest.fixture(scope="module")
def built(world, pg_cluster, tmp_path_factory):
    """Run the slice once for the module: returns (dsn, outbox)."""
    import psycopg as pg
    import uuid

    admin = pg_cluster.admin_dsn()
    name = f"slice_{uuid.uuid4().hex[:8]}"
    with pg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.with_database(name)
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        client = make_client("one_stop", SourceSettings(server.url, "tthc-demo", "demo-secret"), page_size=200)
        for name_ in ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so"):
            extract_entity(dsn.conninfo(), client, entity("one_stop", name_), CLOCK,
                           initial_from=datetime(2024, 12, 1, tzinfo=LOCAL))
        client.close()
    finally:
        server.stop()
    dbt.build_warehouse(dsn, CLOCK.date())
    gate = run_gate(dsn, GATE_SUITES, "slice-test")
    assert gate.passed, gate.summary()
    dbt.build_marts(dsn, CLOCK.date())
    outbox = tmp_path_factory.mktemp("outbox")
    return dsn, outbox


def truth(world):
    units = oracle.units_from(world.records("one_stop", "don_vi", CLOCK))
    dossiers = oracle.dossiers_from(world.records("one_stop", "ho_so", CLOCK))
    return units, dossiers


def test_raw_holds_exactly_the_source_records(world, built):
    dsn, _ = built
    with psycopg.connect(dsn.conninfo()) as conn:
        keys = {r[0] for r in conn.execute(
            "select distinct on (record_key) record_key from raw.one_stop__ho_so")}
    expected = {r["MaHoSo"].strip() for r in world.records("one_stop", "ho_so", CLOCK)}
    assert keys == expected


def test_mart_2_1_matches_an_independent_count(world, built):
    dsn, _ = built
    units, dossiers = truth(world)
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            "select period_key, unit_code, numerator, denominator, points, applies from marts.mart_metric_monthly "
            "where period_type = 'month' and metric_code = '2.1'").fetchall()
    mart = {(p, u): (int(n), int(d), pts, applies) for p, u, n, d, pts, applies in rows}
    checked = 0
    for month in MONTHS:
        expected = oracle.metric_2_1(dossiers, units, month.start, month.end)
        assert expected, f"no units valid in {month.key}"
        for unit, (num, den) in expected.items():
            got = mart.get((month.key, unit))
            assert got is not None, f"{month.key} {unit}: missing from the mart"
            assert got[:2] == (num, den), f"{month.key} {unit}: mart {got[:2]} != oracle {(num, den)}"
            expected_points = Decimal(20) * Decimal(num) / Decimal(den) if den else Decimal(20)
            assert abs(Decimal(got[2]) - expected_points) < Decimal("1e-9")
            assert got[3] == (den > 0)
            checked += 1
        assert {u for (p, u) in mart if p == month.key} == set(expected), month.key
    assert checked > 100
    # the data must exercise the rule: some late and some on time somewhere
    assert any(n < d for (n, d, *_ ) in mart.values()) and any(n > 0 for (n, *_ ) in mart.values())


def test_extract_file_matches_the_count_and_the_contract(world, built):
    dsn, outbox = built
    units, dossiers = truth(world)
    month = Month(2025, 7)
    roots = [u.code for u in units.values() if u.parent is None and u.valid_on(month.last_day)]
    assert len(roots) == 1
    result = publish_month(dsn, roots[0], month, CLOCK, outbox)
    check = subprocess.run([sys.executable, str(VALIDATOR), str(result.path), "--require", "chi_so_766.csv"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    expected = oracle.metric_2_1(dossiers, units, month.start, month.end)
    raw = (result.path / "chi_so_766.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw[3:].decode("utf-8").splitlines()))
    by_unit = {r["ma_don_vi"]: r for r in rows if r["ma_chi_so"] == "2.1"}
    assert set(by_unit) == set(expected)
    for unit, (num, den) in expected.items():
        row = by_unit[unit]
        assert (row["tu_so"], row["mau_so"]) == (str(num), str(den))
        if den:
            rate = Decimal(num) / Decimal(den)
            assert row["ty_le"] == str(rate.quantize(Decimal("0.0001"), ROUND_HALF_UP))
            assert row["diem"] == str((20 * rate).quantize(Decimal("0.01"), ROUND_HALF_UP))
            assert row["ap_dung"] == "1"
        else:
            assert (row["ty_le"], row["diem"], row["ap_dung"]) == ("", "20.00", "0")
    # a rerun with the same data writes no new version
    again = publish_month(dsn, roots[0], month, CLOCK, outbox)
    assert (again.created, again.version) == (False, result.version)


@pytest.mark.parametrize("metric", ["3.3", "4.1"])
def test_dossier_metrics_match_an_independent_count(world, built, metric):
    """Two more metrics of §6a recomputed by hand from the source records, for every unit and month."""
    dsn, _ = built
    units = oracle.units_from(world.records("one_stop", "don_vi", CLOCK))
    records = world.records("one_stop", "ho_so", CLOCK)
    procedures = world.records("one_stop", "thu_tuc", CLOCK)
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            "select period_key, unit_code, numerator, denominator from marts.mart_metric_monthly "
            "where period_type = 'month' and metric_code = %s", (metric,)).fetchall()
    mart = {(p, u): (int(n), int(d)) for p, u, n, d in rows}
    for month in MONTHS:
        if metric == "3.3":
            expected = oracle.metric_3_3(records, units, month.start, month.end)
        else:
            expected = oracle.metric_4_1(records, procedures, units, month.start, month.end)
        for unit, counts in expected.items():
            assert mart.get((month.key, unit)) == counts, f"{metric} {month.key} {unit}"
    assert any(d for (n, d) in mart.values())
