"""The gate against real tables: passes on good data, fails with samples on bad, keeps results."""

import psycopg
import pytest

from expectations.checks import FAIL, Lookup, Suite, rows
from expectations.runner import QualityGateFailed, run_gate
from expectations.suites.fct_dossier import FCT_DOSSIER
from tests.expectations import warehouse

pytestmark = pytest.mark.slow

SUITES = (FCT_DOSSIER,)


def setup(dsn, extra=""):
    warehouse.build(dsn.conninfo())
    if extra:
        with psycopg.connect(dsn.conninfo()) as conn:
            conn.execute(extra)


def test_clean_data_passes_and_results_are_kept(fresh_db):
    setup(fresh_db)
    gate = run_gate(fresh_db, SUITES, "run-1", docs_dir=None)
    assert gate.passed and not gate.warnings, gate.summary()
    gate.raise_if_failed()
    with psycopg.connect(fresh_db.conninfo()) as conn:
        rows = conn.execute(
            "select count(*), bool_and(success) from meta.quality_results where run_id = 'run-1'"
        ).fetchone()
    assert rows == (len(FCT_DOSSIER.checks), True)


def test_a_failing_check_fails_the_gate_with_samples(fresh_db):
    setup(
        fresh_db,
        """
        insert into core.fct_dossier (dossier_code, unit_code, status, channel, applicant_type, received_at)
        values ('D1', 'U1', 10, 2, 1, '2025-07-02 08:00+07'),   -- closed without an end
               ('D4', null, 4, 9, 7, '2025-07-02 08:00+07');    -- no unit, unknown channel (and applicant type: a dbt test's)
    """,
    )
    gate = run_gate(fresh_db, SUITES, "run-2", docs_dir=None)
    assert not gate.passed
    failed = {r.check: r for r in gate.failures}
    assert set(failed) == {"unit_present", "channel_known"}
    assert failed["channel_known"].sample == [9]
    # closed without an end, returned without NgayTra: warnings, not failures
    assert {r.check for r in gate.warnings} == {"end_date_exactly_when_closed", "returned_date_when_returned"}
    assert "FAIL" in gate.summary() and "channel_known" in gate.summary()
    with pytest.raises(QualityGateFailed, match="channel_known"):
        gate.raise_if_failed()


def test_warnings_alone_let_the_gate_pass(fresh_db):
    setup(
        fresh_db,
        "update core.fct_dossier set end_of_processing_at = received_at - interval '1 hour' where dossier_code = 'D3';",
    )
    gate = run_gate(fresh_db, SUITES, "run-3", docs_dir=None)
    assert gate.passed
    assert [r.check for r in gate.warnings] == ["end_not_before_receipt"]


def test_a_missing_table_fails_its_checks_with_the_error(fresh_db):
    gate = run_gate(fresh_db, SUITES, "run-4", docs_dir=None)
    assert not gate.passed
    assert any(r.observed.startswith("error") for r in gate.failures)


def test_a_night_checks_the_rows_it_merged_and_a_full_gate_every_row(fresh_db):
    setup(
        fresh_db,
        """
        alter table core.fct_dossier add column loaded_at timestamptz not null default now();
        update core.fct_dossier set channel = 9, loaded_at = now() - interval '10 days' where dossier_code = 'D1';
    """,
    )
    night = run_gate(fresh_db, SUITES, "night-1", docs_dir=None, night_only=True)
    full = run_gate(fresh_db, SUITES, "full-1", docs_dir=None)
    assert night.passed, night.summary()  # D1 was loaded (and checked) ten days ago
    assert [r.check for r in full.failures] == ["channel_known"]

    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute("update core.fct_dossier set channel = 9 where dossier_code = 'D2'")
    night = run_gate(fresh_db, SUITES, "night-2", docs_dir=None, night_only=True)
    assert [r.check for r in night.failures] == ["channel_known"]
    assert night.failures[0].sample == [9]


def test_the_gates_sessions_read_one_schema_without_jit(fresh_db):
    import sqlalchemy

    from expectations.runner import _schema_url

    engine = sqlalchemy.create_engine(_schema_url(fresh_db, "core"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("show jit").scalar() == "off"
            assert conn.exec_driver_sql("show search_path").scalar() == "core"
    finally:
        engine.dispose()


def _lookup_suite(lookup_query: str) -> Suite:
    """A suite whose one check reads a lookup: units in the lookup that core.fct_dossier lacks."""
    counted = Lookup("expected_units", lookup_query, (("calls", "bigint"), ("unit_code", "text")))
    missing = rows(
        "expected_units_present",
        FAIL,
        """
        select e.unit_code from ({expected_units}) e
        where not exists (select from {batch} where unit_code = e.unit_code)""",
        "every unit the lookup expects has dossiers",
        lookups=(counted,),
    )
    still_checked = rows("no_rows", FAIL, "select * from {batch} where false", "a check without a lookup")
    return Suite(name="lookups", schema="core", table="fct_dossier", checks=(missing, still_checked))


def test_a_lookup_runs_once_and_its_rows_reach_the_check(fresh_db):
    # the gate reads as tthc_transformer (tthc/warehouse/stages.py): the counter must be its to use
    setup(fresh_db, "create sequence public.lookup_calls; grant usage on sequence public.lookup_calls to public;")
    # nextval counts the lookup's executions; a brace in a value must survive GX's own formatting
    suite = _lookup_suite("select nextval('public.lookup_calls'), u from unnest(array['U1', 'U{{9}}']) u")
    gate = run_gate(fresh_db, (suite,), "lookup-1", docs_dir=None)
    assert [r.check for r in gate.failures] == ["expected_units_present"], gate.summary()
    assert gate.failures[0].sample == [{"unit_code": "U{9}"}]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("select last_value from public.lookup_calls").fetchone()[0] == 2  # two rows, one run


def test_checks_naming_the_same_lookup_share_one_run_of_it(fresh_db):
    """The record-loss checks and the load reconciliation all read the stored keys: counted once a gate."""
    setup(fresh_db, "create sequence public.lookup_calls; grant usage on sequence public.lookup_calls to public;")
    one = _lookup_suite("select nextval('public.lookup_calls'), u from unnest(array['U1', 'U9']) u")
    other = Suite(
        name="lookups_again", schema="core", table="fct_dossier", checks=tuple(c for c in one.checks if c.lookups)
    )
    gate = run_gate(fresh_db, (one, other), "lookup-shared", docs_dir=None)
    assert [r.suite for r in gate.failures] == ["lookups", "lookups_again"], gate.summary()
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("select last_value from public.lookup_calls").fetchone()[0] == 2  # not 4


def test_an_empty_lookup_and_a_failing_one(fresh_db):
    setup(fresh_db)
    empty = run_gate(fresh_db, (_lookup_suite("select 1, 'U1' where false"),), "lookup-2", docs_dir=None)
    assert empty.passed and not empty.warnings, empty.summary()
    broken = run_gate(fresh_db, (_lookup_suite("select 1, u from no_such_table u"),), "lookup-3", docs_dir=None)
    assert [r.check for r in broken.failures] == ["expected_units_present"]
    assert (
        broken.failures[0].observed.startswith("error: lookup failed")
        and "no_such_table" in broken.failures[0].observed
    )
