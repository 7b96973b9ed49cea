"""The intraday refresh end to end on the simulator: the night's warehouse, then the hour's changes
ingested over HTTP, the incremental models merged, the actions models built into the shadow,
checked and swapped in with the history.

- a refresh publishes T's lists and one history row per unit; the same T again gives the same
  rows and keeps that one row;
- a refresh killed midway (in dbt's build of the shadow) leaves the published lists and the
  history exactly as they were (killed inside the swap's transaction: test_publish.py);
- the CSV and the projection JSON are the published tables' numbers; another T is built into a
  scratch schema, read, dropped, and equals a refresh at that T;
- a night after an intraday refresh builds every layer and the marts as a night without it.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests.failure import fingerprint
from tests.failure.night import (
    Night,
    create_database,
    drop_database,
    environment,
    output_shows,
    run_night,
    start_cli,
    wait_for,
)
from tthc.actions.refresh import refresh_actions
from tthc.cli import main

pytestmark = pytest.mark.slow

WORLD = WorldConfig(
    seed=31,
    dossiers_per_year=1000,
    start=date(2025, 5, 1),
    end=date(2025, 9, 30),
    departments=3,
    districts=2,
    communes_per_district=3,
    procedures=40,
)
NIGHT1 = datetime(2025, 7, 21, 1, 0, tzinfo=LOCAL)  # a Monday's night build
T1 = datetime(2025, 7, 21, 10, 0, tzinfo=LOCAL)  # that morning's refresh
T2 = datetime(2025, 7, 21, 14, 0, tzinfo=LOCAL)  # the afternoon's
NIGHT2 = datetime(2025, 7, 22, 1, 0, tzinfo=LOCAL)  # the next night
BUILT = ("staging", "restricted", "intermediate", "core", "marts")


@pytest.fixture(scope="module")
def simulator():
    with SimulatorServer(World(WORLD), port=0, clock=NIGHT1) as server:
        yield server


@pytest.fixture(scope="module")
def databases(pg_cluster, simulator, tmp_path_factory):
    """'night': the first night's warehouse (ingest, build, gate, marts); 'refreshed': a copy with
    the refresh of T1 published. Tests copy them (make) before changing anything."""
    admin = pg_cluster.admin_dsn()
    tag = uuid.uuid4().hex[:6]
    outbox = tmp_path_factory.mktemp("outbox")
    made = []

    def make(template: str | None = None) -> Night:
        dsn = create_database(admin, f"act_{tag}_{len(made)}", template)
        made.append(dsn.dbname)
        return Night(dsn, simulator.url, outbox, clock=NIGHT1)

    night = make()
    simulator.set_clock(NIGHT1)
    report = run_night(night, until="marts")
    assert not report.failed_extracts, report.failed_extracts
    refreshed = make(night.dsn.dbname)
    simulator.set_clock(T1)
    with environment(refreshed.env()):
        result = refresh_actions(refreshed.dsn, T1, run_id="test-t1")
    assert result.history_rows > 0 and result.ingested
    yield {"night": night, "refreshed": refreshed, "make": make}
    for name in made:
        drop_database(admin, name)


def rows(dsn, query: str, params=None) -> list[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(query, params).fetchall()


def published(dsn) -> dict[str, str]:
    """Every table of the published lists and the history, row for row, with the relation's identity
    (a swap replaces the relations: an unchanged oid means nothing was swapped in)."""
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        tables = conn.execute(
            "select schemaname, tablename from pg_tables "
            "where schemaname in ('actions', 'actions_history') order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": conn.execute(
                f"select '{s}.{t}'::regclass::oid::text || ':' || "
                f"coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from \"{s}\".\"{t}\" x"
            ).fetchone()[0]
            for s, t in tables
        }


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_refresh_publishes_the_lists_of_t_and_one_history_row_per_unit(databases):
    dsn = databases["refreshed"].dsn
    assert rows(dsn, "select at_ts from actions.act_refresh") == [(T1,)]
    units = rows(dsn, "select unit_code from actions.act_unit_summary order by 1")
    assert (
        units
        and rows(dsn, "select unit_code from actions_history.unit_summary where at_ts = %s order by 1", (T1,)) == units
    )
    by_list = dict(rows(dsn, "select list_name, count(*) from actions.act_list_rows group by 1"))
    assert sum(by_list.values()) > 0, "the simulated province has nothing to act on at T1"
    # the hour's changes came in: the dossiers' watermark is T1 (the night left it at NIGHT1)
    marks = dict(rows(dsn, "select entity, high_watermark from meta.watermarks"))
    assert marks["ho_so"] == T1 and marks["qua_trinh_xu_ly"] == T1 and marks["sync_status"] == T1
    assert marks["payments"] == NIGHT1  # not an entity of the lists: left to the night
    assert not rows(dsn, "select nspname from pg_namespace where nspname in ('actions__next', 'actions__prev')")


def test_the_same_t_twice_gives_the_same_rows_and_keeps_one_history_row(databases, simulator):
    night = databases["make"](databases["refreshed"].dsn.dbname)
    keep = ("staging", "intermediate", "core")
    before_lists = fingerprint.take(night.dsn.conninfo(), schemas=("actions",))
    before_built = fingerprint.take(night.dsn.conninfo(), schemas=keep)
    history = rows(night.dsn, "select * from actions_history.unit_summary order by at_ts, unit_code")
    simulator.set_clock(T1)
    with environment(night.env()):
        result = refresh_actions(night.dsn, T1, run_id="test-t1-again")
    assert result.history_rows == 0
    assert not before_lists.diff(fingerprint.take(night.dsn.conninfo(), schemas=("actions",)))
    assert not before_built.diff(fingerprint.take(night.dsn.conninfo(), schemas=keep))
    assert rows(night.dsn, "select * from actions_history.unit_summary order by at_ts, unit_code") == history


@pytest.fixture(scope="module")
def killed_then_t2(databases, tmp_path_factory):
    """A copy of the refreshed warehouse whose refresh of T2 is killed while dbt builds the
    shadow, then run again to the end: (night, the published lists before, after the kill)."""
    night = databases["make"](databases["refreshed"].dsn.dbname)
    before = published(night.dsn)
    run = start_cli(
        night, ["actions", "refresh", "--at", T2.isoformat(), "--no-ingest"], tmp_path_factory.mktemp("cli-logs")
    )
    wait_for(
        output_shows(run, r"START sql table model actions__next\."),
        run,
        "dbt to build the shadow",
        timeout=300,
        every=0.02,
    )
    assert run.kill() == -signal.SIGKILL
    killed = published(night.dsn)
    with environment(night.env()):
        refresh_actions(night.dsn, T2, ingest=False)
    return night, before, killed


def test_a_refresh_killed_midway_leaves_the_last_good_lists(killed_then_t2):
    """SIGKILL of `tthc actions refresh` and its dbt while dbt builds the shadow: the published
    lists and the history are exactly T1's (a kill inside the swap's transaction: test_publish.py).
    The next refresh publishes T2."""
    night, before, killed = killed_then_t2
    assert killed == before, "a refresh killed in dbt's build changed the published lists or the history"
    assert rows(night.dsn, "select at_ts from actions.act_refresh") == [(T2,)]
    assert rows(night.dsn, "select distinct at_ts from actions_history.unit_summary order by 1") == [(T1,), (T2,)]


def _cents(value) -> str:
    return "" if value is None else str(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _busiest_unit(dsn) -> str:
    return rows(dsn, "select unit_code from actions.act_list_rows group by 1 order by count(*) desc, 1 limit 1")[0][0]


def test_csv_and_projection_json_are_the_published_numbers(databases, capsys, monkeypatch):
    night = databases["refreshed"]
    unit = _busiest_unit(night.dsn)
    monkeypatch.setenv("WAREHOUSE_DSN", night.dsn.url())
    code, out, err = cli(capsys, "actions", "show", "--unit", unit, "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0] == "danh_sach,ma_ho_so,ma_don_vi,gia_tri,co_van_ban_xin_loi"
    expected = [
        (
            name,
            dossier,
            row_unit,
            ""
            if name == "thieu_ly_do"
            else _cents(gain if name in ("thieu_ket_qua_dien_tu", "chua_dong_bo") else value),
            ("1" if apology else "0") if name == "qua_han" else "",
        )
        for name, dossier, row_unit, value, gain, apology in rows(
            night.dsn,
            """
            select list_name, dossier_code, row_unit_code, list_value, points_gain, has_apology_letter
            from actions.act_list_rows where at_ts = %s and unit_code = %s
            order by list_name collate "C", dossier_code collate "C" """,
            (T1, unit),
        )
    ]
    assert [tuple(r) for r in csv.reader(io.StringIO(out))][1:] == expected

    code, out, err = cli(capsys, "actions", "projection", "--unit", unit, "--format", "json")
    assert code == 0, err
    got = json.loads(out, parse_float=Decimal)
    [(rate_min, rate_max, total_min, total_max, undecided)] = rows(
        night.dsn,
        """
        select round(rate_2_1_min, 4), round(rate_2_1_max, 4), round(total_points_min, 2),
               round(total_points_max, 2), undecided
        from actions.act_projection where at_ts = %s and unit_code = %s""",
        (T1, unit),
    )
    assert (
        got["ty_le_2_1_thap_nhat"],
        got["ty_le_2_1_cao_nhat"],
        got["tong_diem_thap_nhat"],
        got["tong_diem_cao_nhat"],
        got["so_ho_so_chua_quyet_dinh"],
    ) == (rate_min, rate_max, total_min, total_max, undecided)  # PostgreSQL's round() is half away from zero
    things = rows(
        night.dsn,
        """select metric_code, list_name, round(points_at_stake, 2), row_count
                                from actions.act_three_things where at_ts = %s and unit_code = %s order by rank""",
        (T1, unit),
    )
    assert [(t["ma_chi_so"], t["danh_sach"], t["diem_co_the_tang"], t["so_ho_so"]) for t in got["ba_viec"]] == things

    code, out, err = cli(capsys, "actions", "show", "--unit", unit, "--list", "qua_han")
    assert code == 0 and "Ba việc cần làm ngay" in out and "Dự báo" in out


def test_another_moment_is_built_aside_and_equals_a_refresh_at_it(databases, killed_then_t2, capsys, monkeypatch):
    """`--at T2` on the warehouse published at T1 builds T2 into a scratch schema, reads it and
    drops it: the same CSV as a warehouse whose refresh of T2 was published."""
    night = databases["refreshed"]
    unit = _busiest_unit(night.dsn)
    monkeypatch.setenv("WAREHOUSE_DSN", night.dsn.url())
    before = published(night.dsn)
    code, aside, err = cli(capsys, "actions", "show", "--unit", unit, "--at", T2.isoformat(), "--format", "csv")
    assert code == 0, err
    assert published(night.dsn) == before, "reading another moment changed the published lists"
    assert not rows(night.dsn, "select nspname from pg_namespace where nspname like 'actions\\_\\_at\\_%%'")
    monkeypatch.setenv("WAREHOUSE_DSN", killed_then_t2[0].dsn.url())
    assert cli(capsys, "actions", "show", "--unit", unit, "--format", "csv")[1] == aside
    # and T1, the published moment, is read from the published tables
    monkeypatch.setenv("WAREHOUSE_DSN", night.dsn.url())
    assert (
        cli(capsys, "actions", "show", "--unit", unit, "--at", T1.isoformat(), "--format", "csv")[1]
        == cli(capsys, "actions", "show", "--unit", unit, "--format", "csv")[1]
    )


def test_clear_errors(databases, capsys, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", databases["night"].dsn.url())
    code, _, err = cli(capsys, "actions", "show", "--unit", _busiest_unit(databases["refreshed"].dsn))
    assert code == 2 and "not been refreshed" in err
    monkeypatch.setenv("WAREHOUSE_DSN", databases["refreshed"].dsn.url())
    code, _, err = cli(capsys, "actions", "projection", "--unit", "NO-SUCH-UNIT")
    assert code == 2 and "unknown unit 'NO-SUCH-UNIT'" in err
    code, _, err = cli(
        capsys, "actions", "show", "--unit", _busiest_unit(databases["refreshed"].dsn), "--list", "qua_han_lam"
    )
    assert code == 2 and "unknown list 'qua_han_lam'" in err


def test_a_night_after_an_intraday_refresh_builds_what_a_night_without_it_builds(databases, simulator):
    """The intraday refresh merged the morning's changes into the incremental models and moved
    their bookkeeping (and the watermarks); the night after must still merge everything else of
    the day: every built layer and the marts equal those of a night that had no refresh (rows
    compared without load times; the actions' own intermediates exist on one side only)."""
    with_refresh = databases["make"](databases["refreshed"].dsn.dbname)
    without = databases["make"](databases["night"].dsn.dbname)
    simulator.set_clock(NIGHT2)
    for night in (with_refresh, without):
        night.clock = NIGHT2
        report = run_night(night, until="marts")
        assert not report.failed_extracts, report.failed_extracts
    a = fingerprint.take(with_refresh.dsn.conninfo(), schemas=BUILT)
    b = fingerprint.take(without.dsn.conninfo(), schemas=BUILT)
    a.warehouse = {n: f for n, f in a.warehouse.items() if not n.startswith("intermediate.int_action_")}
    assert any(n.startswith("marts.") for n in b.warehouse)
    assert not (differences := a.diff(b)), "the night after a refresh differs:\n  " + "\n  ".join(differences)


def test_the_days_workbooks_hold_the_published_numbers(databases, tmp_path, monkeypatch):
    """The daily workbooks (tthc/actions/daily.py) on the refreshed warehouse, read as the
    publisher: one per unit with rows, each list's sheet holding the unit's rows, the overview's
    counts and three things those of act_unit_summary and act_three_things."""
    from openpyxl import load_workbook

    from tthc.actions.daily import publish_daily
    from tthc.actions.labels import LIST_TITLES
    from tthc.actions.unit_day import LISTS
    from tthc.actions.workbook import OVERVIEW_SHEET

    monkeypatch.delenv("TTHC_ACTION_RECIPIENTS", raising=False)
    dsn = databases["refreshed"].dsn
    result = publish_daily(dsn, T1, tmp_path)
    assert sorted(w.unit_code for w in result.workbooks) == sorted(
        u for (u,) in rows(dsn, "select distinct unit_code from actions.act_list_rows")
    )
    unit = _busiest_unit(dsn)
    book = load_workbook(next(w.path for w in result.workbooks if w.unit_code == unit))
    [summary] = rows(
        dsn,
        "select " + ", ".join(f"n_{n}" for n in LISTS) + ", n_qua_han_chua_xin_loi "
        "from actions.act_unit_summary where at_ts = %s and unit_code = %s",
        (T1, unit),
    )
    listed = dict(
        rows(
            dsn,
            "select list_name, array_agg(dossier_code::text order by dossier_code) "
            "from actions.act_list_rows where at_ts = %s and unit_code = %s group by 1",
            (T1, unit),
        )
    )
    overview = {r[0]: r[1] for r in book[OVERVIEW_SHEET].iter_rows(values_only=True) if r and r[0]}
    for name, count in zip(LISTS, summary):
        sheet = book[LIST_TITLES[name]]
        assert sorted(r[1] for r in sheet.iter_rows(min_row=2, values_only=True)) == sorted(listed.get(name, []))
        assert overview[LIST_TITLES[name]] == count
    assert overview["Quá hạn chưa có văn bản xin lỗi"] == summary[-1]
    things = rows(
        dsn,
        "select rank, row_count from actions.act_three_things where at_ts = %s and unit_code = %s order by rank",
        (T1, unit),
    )
    overview_rows = list(book[OVERVIEW_SHEET].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(overview_rows) if r[0] == "Thứ tự")
    assert [(r[0], r[4]) for r in overview_rows[start + 1 : start + 1 + len(things)]] == things
