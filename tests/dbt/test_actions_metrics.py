"""Metrics at a moment T (int_action_metric_counts, docs/acting-today.md (§11) "points at stake") against the
monthly mart, on a simulated province: raw records as the sources served them at CLOCK (just
after July 2025 closed) -> one real dbt run -> at T = 31/7/2025 23:59:59 local, the last second
of July, every unit's every metric (numerator, denominator, points, applies) equals
mart_metric_monthly's July row: the same rules (macros/metric_rules.sql) over [1/7, T].

At the end of June (T = 30/6 23:59:59) §11 reads what happened after T as it stood at T, where the
monthly mart reads it as it is now. The test names each metric that differs and checks the
difference against the dossiers whose dated records moved after T (syncs for 1.4; supplement
completions for 2.1 and 5.3).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction as F

import psycopg
import pytest

from simulator import World, WorldConfig
from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import LOCAL, load_raw

pytestmark = pytest.mark.slow

CLOCK = datetime(2025, 8, 1, 0, 0, 0, tzinfo=LOCAL)
END_OF_JULY = "2025-07-31T23:59:59+07:00"
END_OF_JUNE = "2025-06-30T23:59:59+07:00"
MID_JULY = "2025-07-15T10:30:00+07:00"
ENTITIES = {
    "one_stop": ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly"),
    "dvc_portal": ("payments", "sync_status", "feedback", "ratings", "online_services"),
}


@pytest.fixture(scope="module")
def built(module_db, dbt_work):
    world = World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))
    with psycopg.connect(module_db.conninfo()) as conn:
        for source, names in ENTITIES.items():
            for name in names:
                load_raw(conn, source, name, world.records(source, name, CLOCK))
    run_dbt(module_db, dbt_work, "seed")
    moments = {"actions_at": [END_OF_JULY, END_OF_JUNE, MID_JULY]}
    run_dbt(
        module_db,
        dbt_work,
        "run",
        "--select",
        "+mart_metric_monthly",
        "+tag:actions",
        as_of="2025-07-31",
        variables=moments,
    )
    run_dbt(module_db, dbt_work, "test", "--select", "tag:actions", as_of="2025-07-31", variables=moments)
    return module_db


def query(db, sql, *params):
    with psycopg.connect(db.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def at_t(db, t):
    return {
        (r[0], r[1]): r[2:]
        for r in query(
            db,
            "SELECT unit_code, metric_code, numerator, denominator, points, applies"
            " FROM intermediate.int_action_metric_counts WHERE at_ts = %s",
            datetime.fromisoformat(t),
        )
    }


def month(db, key):
    return {
        (r[0], r[1]): r[2:]
        for r in query(
            db,
            "SELECT unit_code, metric_code, numerator, denominator, points, applies"
            " FROM marts.mart_metric_monthly WHERE period_type = 'month' AND period_key = %s",
            key,
        )
    }


def test_last_second_of_july_equals_the_july_row(built):
    got, want = at_t(built, END_OF_JULY), month(built, "2025-07")
    # the one reading that would differ at a month's last second: 1.2 at T leaves out a TTHC
    # announced in the month and made public only after it (§11: as it stood at T), which the
    # monthly mart counts when within 5 working days; this catalogue has none
    assert query(
        built,
        "select count(*) from core.dim_procedure where announced_on between"
        " '2025-07-01' and '2025-07-31' and published_on > '2025-07-31'",
    ) == [(0,)]
    assert len(want) > 22 * 10 and set(got) == set(want)
    differ = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not differ, differ
    # the data exercises the metrics (not a comparison of zeros)
    exercised = {m for (_, m), (num, den, *_) in want.items() if 0 < num < den}
    assert {"1.4", "2.1", "3.2", "3.3", "3.4", "3.5", "4.1", "4.2", "5.3"} <= exercised, sorted(exercised)
    assert any(den > 0 for (_, m), (num, den, *_) in want.items() if m == "5.1")


def test_end_of_june_differs_only_by_the_syncs_dated_after_t(built):
    """§11 reads a sync record as it stood at T (SUCCESS with syncedAt <= T); the monthly mart
    counts a SUCCESS record whatever its date. Everything else read at T equals June's row here
    (no supplement completed after T moved a June due time in this province)."""
    got, want = at_t(built, END_OF_JUNE), month(built, "2025-06")
    assert set(got) == set(want)
    assert {k[1] for k in want if got[k] != want[k]} == {"1.4"}
    synced_later = dict(
        query(
            built,
            """
        select closure.ancestor_unit_code, count(*)
        from core.fct_dossier d
        join core.fct_sync s on s.dossier_code = d.dossier_code and s.is_synced and s.synced_at > %s
        join intermediate.int_period_unit_mappings m
          on m.period_type = 'month' and m.period_key = '2025-06' and m.unit_code = d.unit_code
        join intermediate.int_unit_closure closure
          on closure.descendant_unit_code = m.reporting_unit_code
         and closure.valid_from <= date '2025-06-30'
         and (closure.valid_to is null or closure.valid_to >= date '2025-06-30')
        where d.received_at >= '2025-06-01T00:00:00+07:00' and d.received_at < '2025-07-01T00:00:00+07:00'
        group by 1""",
            datetime.fromisoformat(END_OF_JUNE),
        )
    )
    assert sum(synced_later.values()) > 0
    for (unit, metric), (num, den, _points, applies) in want.items():
        if metric == "1.4":
            at_num, at_den, at_points, at_applies = got[(unit, metric)]
            assert (at_num, at_den, at_applies) == (num - synced_later.get(unit, 0), den, applies), unit
            assert abs(at_points - (6 * at_num / at_den if at_den else 6)) < Decimal("1e-15"), unit


def pts(row, n):
    """§6a's points at numerator n (the row's denominator and rule), in exact fractions."""
    d, w = F(row["denominator"]), F(row["max_points"])
    if not row["level_applies"]:
        return w if row["not_applicable_points"] != "ZERO" else F(0)
    if d == 0:
        return w if row["empty_points"] != "ZERO" else F(0)
    if row["metric_code"] == "2.2":
        return F(0)
    if row["rule_kind"] == "CAPPED":
        return min(w, w * F(n) / d / F(row["target_rate"]))
    return min(w, F(row["points_per_unit_rate"]) * F(n) / d)


def metric_rows(db):
    with psycopg.connect(db.conninfo()) as conn:
        cur = conn.execute("SELECT * FROM intermediate.int_action_metric_counts")
        names = [c.name for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def close(a, b):
    return abs(F(a) - F(b)) < F(1, 10**15)


def test_gains_below_at_and_past_the_cap(built):
    """§11's words, case by case, on every row at the three moments: linear w/d; capped w/(c·d)
    while (n+1)/d <= c, the rest up to the cap when one more crosses c, 0 at or past it; dossiers
    to the cap d - n and ceil(c·d) - n (at least 0); one fewer: what 2.1 loses per late dossier."""
    seen = set()
    for row in metric_rows(built):
        n, d, w = F(row["numerator"]), F(row["denominator"]), F(row["max_points"])
        key = (row["unit_code"], row["metric_code"], row["at_ts"])
        assert close(row["points"], pts(row, n)), key
        assert close(row["lost_points"], w - pts(row, n)), key
        if not row["applies"] or row["metric_code"] == "2.2":
            assert (close(row["gain_one_more"], 0), row["dossiers_to_cap"]) == (True, 0), key
            continue
        if row["rule_kind"] == "CAPPED":
            c = F(row["target_rate"])
            if (n + 1) / d <= c:
                case, gain = "below", w / (c * d)
            elif n / d < c:
                case, gain = "crossing", w - pts(row, n)
            else:
                case, gain = "at or past", F(0)
            to_cap = max(-(-c * d // 1) - n, 0)
        else:
            case, gain = ("linear", w / d) if n < d else ("linear full", F(0))
            to_cap = d - n
        seen.add(case)
        assert close(row["gain_one_more"], gain), (key, case, row["gain_one_more"], gain)
        assert row["dossiers_to_cap"] == to_cap, (key, case, row["dossiers_to_cap"], to_cap)
        # the cap really is reached with that many more, and not with one fewer
        assert pts(row, n + to_cap) == w and (to_cap == 0 or pts(row, n + to_cap - 1) < w), key
        if row["metric_code"] == "2.1" and n > 0:
            assert close(row["loss_one_fewer"], w / d), key
    assert {"below", "crossing", "at or past", "linear", "linear full"} <= seen, seen


def test_list_gains_and_three_things_follow_the_metrics(built):
    """A list row's gain is its viewing unit's metric's (L5: 4.1, and 4.2 where it counts; L6:
    1.4; L1: 2.1's loss); the (4.1, L5) pair moves exactly 4.1's lost points (L5 is 4.1's
    denominator less its numerator), each pair's points are the rows fixed one after another."""
    rows = {(r["at_ts"], r["unit_code"], r["metric_code"]): r for r in metric_rows(built)}
    listed = query(
        built,
        """
        select l.at_ts, l.unit_code, l.list_name, l.points_gain, s.is_received_in_period and s.is_digitized
        from actions.act_list_rows l
        join intermediate.int_action_dossier_states s on s.at_ts = l.at_ts and s.dossier_code = l.dossier_code
        where l.list_name in ('sap_den_han', 'thieu_ket_qua_dien_tu', 'chua_dong_bo')""",
    )
    counts = {}
    for at_ts, unit, name, gain, in_4_2 in listed:
        m = lambda code: rows[(at_ts, unit, code)]  # noqa: E731
        if name == "thieu_ket_qua_dien_tu":
            want = pts(m("4.1"), m("4.1")["numerator"] + 1) - pts(m("4.1"), m("4.1")["numerator"])
            if in_4_2:
                want += pts(m("4.2"), m("4.2")["numerator"] + 1) - pts(m("4.2"), m("4.2")["numerator"])
        elif name == "chua_dong_bo":
            want = pts(m("1.4"), m("1.4")["numerator"] + 1) - pts(m("1.4"), m("1.4")["numerator"])
        else:
            want = pts(m("2.1"), m("2.1")["numerator"]) - pts(m("2.1"), m("2.1")["numerator"] - 1)
        assert close(gain, want), (at_ts, unit, name, gain, want)
        for pair in {
            "sap_den_han": ["2.1"],
            "chua_dong_bo": ["1.4"],
            "thieu_ket_qua_dien_tu": ["4.1", "4.2"] if in_4_2 else ["4.1"],
        }[name]:
            counts[(at_ts, unit, pair)] = counts.get((at_ts, unit, pair), 0) + 1
    assert {name for *_, name, _, _ in listed} == {"sap_den_han", "thieu_ket_qua_dien_tu", "chua_dong_bo"}
    things = query(
        built, "select at_ts, unit_code, rank, metric_code, points_at_stake, row_count from actions.act_three_things"
    )
    stake = {}
    for (at_ts, unit, metric), k in counts.items():
        r = rows[(at_ts, unit, metric)]
        n, d = r["numerator"], r["denominator"]
        stake[(at_ts, unit, metric)] = (
            pts(r, n) - pts(r, max(n - k, 0)) if metric == "2.1" else pts(r, min(n + k, d)) - pts(r, n),
            k,
        )
        if metric == "4.1":
            assert k == d - n and close(stake[(at_ts, unit, metric)][0], r["lost_points"])
    by_unit = {}
    for key, (points, k) in stake.items():
        by_unit.setdefault(key[:2], []).append((-points, tuple(int(x) for x in key[2].split(".")), key[2], points, k))
    assert by_unit and {(a, u) for a, u, *_ in things} == set(by_unit)
    for (at_ts, unit), pairs in by_unit.items():
        want = [(i + 1, code, points, k) for i, (_, _, code, points, k) in enumerate(sorted(pairs)[:3])]
        got = sorted((rank, code, F(p), k) for a, u, rank, code, p, k in things if (a, u) == (at_ts, unit))
        assert [(r, c, k) for r, c, _, k in got] == [(r, c, k) for r, c, _, k in want], (unit, got, want)
        assert all(close(g[2], w[2]) for g, w in zip(got, want)), (unit, got, want)
