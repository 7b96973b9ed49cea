"""The gate against real tables: passes on good data, fails with samples on bad, keeps results."""
import psycopg
import pytest

from expectations.runner import run_gate
from expectations.suites import GATE_SUITES

pytestmark = pytest.mark.slow

SCHEMA = """
create schema core;
create table core.dim_unit (unit_code text);
insert into core.dim_unit values ('U1'), ('U2');
create table core.fct_dossier (
    dossier_code text, unit_code text, status int, channel int,
    received_at timestamptz, end_of_processing_at timestamptz, returned_at timestamptz);
insert into core.fct_dossier values
    ('D1', 'U1', 10, 2, '2025-01-02 08:00+07', '2025-01-05 08:00+07', '2025-01-06 08:00+07'),
    ('D2', 'U2', 4, 1, '2025-01-03 08:00+07', null, null),
    ('D3', 'U1', 9, 3, '2025-01-03 09:00+07', '2025-01-04 10:00+07', null);
"""


def setup(dsn, extra=""):
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(SCHEMA + extra)


def test_clean_data_passes_and_results_are_kept(fresh_db):
    setup(fresh_db)
    gate = run_gate(fresh_db, GATE_SUITES, "run-1")
    assert gate.passed and not gate.warnings, gate.summary()
    with psycopg.connect(fresh_db.conninfo()) as conn:
        rows = conn.execute("select count(*), bool_and(success) from meta.quality_results where run_id = 'run-1'").fetchone()
    assert rows == (len(GATE_SUITES[0].checks), True)


def test_a_failing_check_fails_the_gate_with_samples(fresh_db):
    setup(fresh_db, """
        insert into core.fct_dossier values ('D1', 'U1', 10, 2, '2025-01-02 08:00+07', null, null);  -- duplicate key
        insert into core.fct_dossier values ('D4', 'U9', 3, 2, '2025-01-02 08:00+07', null, null);   -- unknown unit, refused status
    """)
    gate = run_gate(fresh_db, GATE_SUITES, "run-2")
    assert not gate.passed
    failed = {r.check: r for r in gate.failures}
    assert set(failed) == {"dossier_code_unique", "unit_known", "received_statuses_only"}
    assert failed["dossier_code_unique"].sample == ["D1", "D1"]
    assert failed["unit_known"].sample == [{"dossier_code": "D4", "unit_code": "U9"}]
    # the closed-without-end row is a warning, not a failure
    assert {r.check for r in gate.warnings} == {"end_date_exactly_when_closed"}
    assert "FAIL" in gate.summary() and "dossier_code_unique" in gate.summary()


def test_warnings_alone_let_the_gate_pass(fresh_db):
    setup(fresh_db, "update core.fct_dossier set end_of_processing_at = received_at - interval '1 hour' where dossier_code = 'D3';")
    gate = run_gate(fresh_db, GATE_SUITES, "run-3")
    assert gate.passed
    assert [r.check for r in gate.warnings] == ["end_not_before_receipt"]
