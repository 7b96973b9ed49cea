"""The seeds load and pass their own tests, and the metric registry names every scored metric and
metric_groups every group (checked in the warehouse here; the registry's own rules are
tests/tthc/metrics/test_registry.py)."""

from __future__ import annotations

import psycopg

from tests.dbt.dbt_runner import run_dbt


def test_seeds_build_with_their_tests(module_db, dbt_work):
    result = run_dbt(module_db, dbt_work, "build", "--select", "resource_type:seed")
    assert "PASS" in result.stdout and "ERROR=0" in result.stdout
    with psycopg.connect(module_db.conninfo()) as conn:
        unnamed = conn.execute(
            "select r.metric_code from core.metric_scoring_rules r "
            "left join core.metric_registry m using (metric_code) "
            "left join core.metric_groups g using (group_code) "
            "where m.metric_code is null or g.group_name_vi is null"
        ).fetchall()
        registered = conn.execute("select count(*) from core.metric_registry").fetchone()[0]
    assert unnamed == []
    assert registered == 22
