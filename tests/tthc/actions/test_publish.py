"""Publishing a refresh: the shadow swapped in and the per-unit summary appended to the history
in one transaction, on hand-made actions tables (the dbt models are tested elsewhere).

A publish killed inside that transaction leaves the published lists and the history exactly as
they were; the same T published twice keeps one history row per unit."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime

import psycopg
import pytest

from extractors.timefmt import LOCAL
from tests.paths import REPO
from tthc.actions import history, publish
from tthc.warehouse import as_stage

T1 = datetime(2025, 7, 21, 9, 0, tzinfo=LOCAL)
T2 = datetime(2025, 7, 21, 10, 0, tzinfo=LOCAL)


def build_shadow(dsn, at: datetime, overdue: dict[str, int]) -> None:
    """What dbt would build into actions__next for T (a few of the contract's columns)."""
    publish.ACTIONS.prepare_shadow(dsn.conninfo())
    with psycopg.connect(as_stage(dsn, "transformer").conninfo()) as conn:
        conn.execute("create table actions__next.act_refresh as select %s::timestamptz as at_ts", (at,))
        conn.execute(
            "create table actions__next.act_unit_summary (at_ts timestamptz not null, unit_code text not null,"
            " n_qua_han bigint, total_points_now numeric)"
        )
        conn.execute(
            "create table actions__next.act_list_rows (at_ts timestamptz, unit_code text, list_name text,"
            " dossier_code text)"
        )
        for unit, n in overdue.items():
            conn.execute("insert into actions__next.act_unit_summary values (%s, %s, %s, 71.25)", (at, unit, n))
            conn.execute(
                "insert into actions__next.act_list_rows select %s, %s, 'qua_han', 'HS-' || g "
                "from generate_series(1, %s) g",
                (at, unit, n),
            )


def state(dsn) -> tuple[list, list]:
    with psycopg.connect(dsn.conninfo()) as conn:
        published = (
            conn.execute("select unit_code, count(*) from actions.act_list_rows group by 1 order by 1").fetchall()
            if conn.execute("select to_regclass('actions.act_list_rows') is not null").fetchone()[0]
            else []
        )
        kept = (
            conn.execute(
                f"select at_ts, unit_code, n_qua_han from {history.SCHEMA}.{history.TABLE} order by 1, 2"
            ).fetchall()
            if conn.execute(f"select to_regclass('{history.SCHEMA}.{history.TABLE}') is not null").fetchone()[0]
            else []
        )
    return published, kept


def test_publish_swaps_in_and_appends_the_history_once_per_moment(fresh_db):
    build_shadow(fresh_db, T1, {"U1": 2, "U2": 0})
    assert publish.publish(fresh_db.conninfo()) == 2
    published, kept = state(fresh_db)
    assert published == [("U1", 2)]
    assert kept == [(T1, "U1", 2), (T1, "U2", 0)]

    build_shadow(fresh_db, T1, {"U1": 2, "U2": 0})  # the same T again: no second row per unit
    assert publish.publish(fresh_db.conninfo()) == 0
    assert state(fresh_db)[1] == kept

    build_shadow(fresh_db, T2, {"U1": 3, "U2": 1})
    assert publish.publish(fresh_db.conninfo()) == 2
    published, kept = state(fresh_db)
    assert published == [("U1", 3), ("U2", 1)]
    assert kept == [(T1, "U1", 2), (T1, "U2", 0), (T2, "U1", 3), (T2, "U2", 1)]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname like 'actions%'")}
        key = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = 'actions_history.unit_summary'::regclass and contype = 'p'"
        ).fetchone()[0]
    assert schemas == {"actions", "actions_history"}
    assert key == "PRIMARY KEY (at_ts, unit_code)"


def test_history_gains_a_column_the_summary_gained(fresh_db):
    build_shadow(fresh_db, T1, {"U1": 1})
    publish.publish(fresh_db.conninfo())
    build_shadow(fresh_db, T2, {"U1": 4})
    with psycopg.connect(as_stage(fresh_db, "transformer").conninfo()) as conn:
        conn.execute("alter table actions__next.act_unit_summary add column n_chua_dong_bo bigint default 7")
    publish.publish(fresh_db.conninfo())
    with psycopg.connect(fresh_db.conninfo()) as conn:
        rows = conn.execute(
            "select at_ts, n_qua_han, n_chua_dong_bo from actions_history.unit_summary order by 1"
        ).fetchall()
    assert rows == [(T1, 1, None), (T2, 4, 7)]


def test_check_refuses_a_shadow_of_another_moment(fresh_db):
    build_shadow(fresh_db, T1, {"U1": 1})
    with pytest.raises(publish.ActionsCheckFailed, match="not the refresh of"):
        publish.check_shadow(as_stage(fresh_db, "transformer").conninfo(), T2)
    publish.check_shadow(as_stage(fresh_db, "transformer").conninfo(), T1)


KILL = """
import sys
from tests.failure.kill_at import arm
arm(sys.argv[1])
from tthc.actions.publish import publish
publish(sys.argv[2])
"""


@pytest.mark.parametrize("point", ["tthc.actions.history:append_history", "tthc.actions.publish:grant_readers"])
def test_a_publish_killed_inside_the_swap_changes_nothing(fresh_db, point):
    """SIGKILL after both renames (at the history append; at the grants, after it): the
    transaction never commits, so the last good lists and the history are exactly as they were."""
    build_shadow(fresh_db, T1, {"U1": 2})
    publish.publish(fresh_db.conninfo())
    before = state(fresh_db)
    build_shadow(fresh_db, T2, {"U1": 5, "U2": 1})
    proc = subprocess.run(
        [sys.executable, "-c", KILL, point, fresh_db.url()], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert f"kill_at {point}" in proc.stderr
    assert state(fresh_db) == before
    assert publish.publish(fresh_db.conninfo()) == 2  # the kept shadow publishes on the next try
    assert state(fresh_db)[0] == [("U1", 5), ("U2", 1)]
