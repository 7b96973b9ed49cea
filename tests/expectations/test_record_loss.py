"""Loss is loud in the gate: nights of real extracts (a scripted one-stop source over HTTP) into
the gate's hand-made warehouse, then the real gate, the marts step and the alert webhook.

The warehouse's own nights end on 2025-08-01 01:00 with 40 dossiers; each night here brings 40
more dossiers of 1 August, some of them malformed (a status outside the contract's list), each
carrying an applicant's name, ID number and phone that no message may repeat.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest

from expectations.runner import QualityGateFailed, run_gate
from expectations.suites import GATE_SUITES
from extractors.paging import Window
from tests.expectations import warehouse
from tests.extractors.fake_sources import OneStopScript
from tests.extractors.scripted_server import ScriptedServer
from tests.extractors.test_run import dossier, run
from tthc.orchestration.alerts import notify_failure
from tthc.pipeline.marts import publish_marts
from tthc.warehouse.summary import latest_night

pytestmark = pytest.mark.slow

NIGHT_1 = datetime.fromisoformat("2025-08-02T01:00:00+07:00")
NIGHT_2 = NIGHT_1 + timedelta(days=1)
PERSONAL = {"ChuHoSo": "Nguyễn Thị Bích Ngọc", "SoGiayToChuHoSo": "038090001234", "SoDienThoai": "0912345678"}


def key(i: int) -> str:
    return f"000.17.22.H56-250801-{i:04d}"


def dossiers(bad: set[int], fixed: set[int] = frozenset()) -> list[dict]:
    """40 dossiers updated on 1 August; those in `bad` with status 42, those in `fixed` updated
    again (a good version) on the 2nd."""
    rows = []
    for i in range(1, 41):
        row = (
            dossier(i, status=42 if i in bad else 2, updated="20250802100000" if i in fixed else "20250801100000")
            | PERSONAL
        )
        rows.append(row | {"MaHoSo": key(i)})
    return rows


def night(dsn, rows: list[dict], upper: datetime, days: int = 2) -> None:
    """One night's dossier extract; its window reaches back `days` (1 August from either night)."""
    with ScriptedServer(OneStopScript(rows)) as srv:
        record = run(srv.url, dsn, upper=upper, window=Window(upper - timedelta(days=days), upper))
    assert record.status == "success"


def outcome(gate):
    return ({f"{r.suite}.{r.check}" for r in gate.failures}, {f"{r.suite}.{r.check}" for r in gate.warnings})


def published(conninfo: str) -> dict[str, str]:
    """Every published mart's rows, hashed, with the table's identity (a swap makes new tables)."""
    with psycopg.connect(conninfo) as conn:
        tables = [r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'marts' order by 1")]
        return {
            t: conn.execute(
                f"select 'marts.{t}'::regclass::oid::text || ':' || "
                f"coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from marts.{t} x"
            ).fetchone()[0]
            for t in tables
        }


@pytest.fixture
def built(fresh_db):
    warehouse.build(fresh_db.conninfo())
    with psycopg.connect(fresh_db.conninfo()) as conn:  # past the hand-made runs' batch ids
        conn.execute("select setval('meta.batch_id_seq', 1000)")
    return fresh_db


def test_a_night_with_every_dossier_malformed_fails_the_gate_keeps_the_marts_and_alerts_with_keys(built, monkeypatch):
    night(built, dossiers(bad=set(range(1, 41))), NIGHT_1)
    gate = run_gate(built, GATE_SUITES, "all-bad", docs_dir=None)
    failures, warnings = outcome(gate)
    assert failures == {"record_loss.quarantine_within_thresholds"}, gate.summary()
    assert "record_loss.quarantine_open" in warnings
    [lost] = gate.loss
    assert (lost.source, lost.entity, lost.quarantined_open, lost.fetched, lost.missing) == (
        "one_stop",
        "ho_so",
        40,
        40,
        0,
    )
    assert (
        lost.first_records.startswith(f"{key(1)}: ")
        and key(5) in lost.first_records
        and key(6) not in lost.first_records
    )
    assert "TrangThaiHoSo" in lost.first_records  # the reason says which field

    # the night stops at the gate: the marts step refuses and the published marts stay as they were
    before = published(built.conninfo())
    assert before
    with pytest.raises(QualityGateFailed, match="failed 1 check"):
        publish_marts(built)
    assert published(built.conninfo()) == before

    # the alert names the entity, the counts and the first keys with their reasons, nothing personal
    received = []

    def webhook(seen):
        received.append(json.loads(seen.body))
        return 204, {}, b""

    with pytest.raises(QualityGateFailed) as failed:
        gate.raise_if_failed()
    assert "one_stop/ho_so: 40 open quarantined (last run fetched 40)" in str(failed.value)
    with ScriptedServer(webhook) as hook:
        monkeypatch.setenv("TTHC_ALERT_WEBHOOK", hook.url + "/alerts")
        notify_failure(
            {
                "exception": failed.value,
                "dag_run": SimpleNamespace(run_id="nightly-2025-08-02"),
                "task_instance": SimpleNamespace(
                    dag_id="build_warehouse", task_id="quality_gate", try_number=1, log_url=None
                ),
            }
        )
    [alert] = received
    assert alert["kind"] == "quality_gate"
    assert alert["text"].startswith(
        "tthc-warehouse: quality gate failed on lost records (one_stop/ho_so: "
        f"40 quarantined, 0 missing, first {key(1)}: "
    )
    assert [(x["entity"], x["quarantined_open"], x["missing"]) for x in alert["loss"]] == [("ho_so", 40, 0)]
    assert alert["loss"][0]["first_records"] == lost.first_records
    text = json.dumps(alert, ensure_ascii=False)
    for value in PERSONAL.values():
        assert value not in text and value not in gate.summary()


def test_one_bad_dossier_below_the_thresholds_is_a_warning_shown_in_the_summary(built):
    night(built, dossiers(bad={7}), NIGHT_1)
    gate = run_gate(built, GATE_SUITES, "one-bad", docs_dir=None)
    failures, warnings = outcome(gate)
    assert not failures and gate.loss == [], gate.summary()
    assert "record_loss.quarantine_open" in warnings
    summary = latest_night(built.conninfo())
    assert "records lost: 1 open quarantined, 0 missing; within the thresholds (a warning)" in summary
    assert (
        "one_stop/ho_so: 1 open quarantined (last run fetched 40), 0 missing (source total 40) "
        "[within thresholds: " in summary
    )
    assert f"first: {key(7)}: " in summary and PERSONAL["ChuHoSo"] not in summary


def test_a_dossier_quarantined_two_nights_in_a_row_fails_until_replayed(built):
    night(built, dossiers(bad={7}), NIGHT_1)
    assert run_gate(built, GATE_SUITES, "night-1", docs_dir=None).passed
    night(built, dossiers(bad={7}), NIGHT_2)  # the source sends it malformed again
    gate = run_gate(built, GATE_SUITES, "night-2", docs_dir=None)
    failures, _ = outcome(gate)
    assert failures == {"record_loss.quarantine_resolved_in_time"}, gate.summary()
    [lost] = gate.loss
    assert (lost.entity, lost.quarantined_open, lost.open_too_long) == ("ho_so", 1, 1)
    assert lost.first_records.startswith(f"{key(7)}: ")
    assert "OVER THRESHOLDS" in latest_night(built.conninfo())

    # replayed (P1's `tthc quarantine replay` sets replayed_at): resolved, no longer counted
    with psycopg.connect(built.conninfo()) as conn:
        conn.execute("update raw.quarantine set replayed_at = now()")
    gate = run_gate(built, GATE_SUITES, "replayed", docs_dir=None)
    failures, warnings = outcome(gate)
    assert not failures and "record_loss.quarantine_open" not in warnings, gate.summary()


def test_a_dossier_the_source_fixed_the_next_night_is_no_longer_lost(built):
    night(built, dossiers(bad={7}), NIGHT_1)
    night(built, dossiers(bad=set(), fixed={7}), NIGHT_2)  # a good version of it comes
    gate = run_gate(built, GATE_SUITES, "fixed", docs_dir=None)
    failures, warnings = outcome(gate)
    assert not failures and "record_loss.quarantine_open" not in warnings, gate.summary()


def test_missing_records_past_the_operators_threshold_fail_and_below_it_warn(built, monkeypatch, tmp_path):
    limits = tmp_path / "limits.yml"
    limits.write_text(
        "default: {max_quarantined: 100, max_quarantined_pct: 5, max_missing: 10, "
        "max_missing_pct: 5, fail_after_nights: null}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TTHC_LOSS_THRESHOLDS", str(limits))
    night(built, dossiers(bad=set()), NIGHT_1, days=1)
    with psycopg.connect(built.conninfo()) as conn:  # raw lost one of the 40 the source counted
        conn.execute(f"delete from raw.one_stop__ho_so where record_key = '{key(1)}'")
    gate = run_gate(built, GATE_SUITES, "one-missing", docs_dir=None)
    failures, warnings = outcome(gate)
    assert not failures and "extract_runs.loaded_counts_match_source_total" in warnings, gate.summary()
    with psycopg.connect(built.conninfo()) as conn:  # 3 of 40: 7.5 %, over the operator's 5 %
        conn.execute(f"delete from raw.one_stop__ho_so where record_key in ('{key(2)}', '{key(3)}')")
    gate = run_gate(built, GATE_SUITES, "three-missing", docs_dir=None)
    failures, _ = outcome(gate)
    assert failures == {"record_loss.missing_within_thresholds"}, gate.summary()
    [lost] = gate.loss
    assert (lost.entity, lost.missing, lost.source_total, lost.quarantined_open) == ("ho_so", 3, 40, 0)
    assert "missing > 10 or > 5 % of the source's total" in lost.thresholds


def test_thresholds_that_cannot_be_read_fail_the_loss_checks_not_pass_them(built, monkeypatch, tmp_path):
    monkeypatch.setenv("TTHC_LOSS_THRESHOLDS", str(tmp_path / "missing.yml"))
    gate = run_gate(built, GATE_SUITES, "no-thresholds", docs_dir=None)
    failures, _ = outcome(gate)
    assert failures == {
        "record_loss.quarantine_within_thresholds",
        "record_loss.quarantine_resolved_in_time",
        "record_loss.missing_within_thresholds",
    }, gate.summary()
    assert all("missing.yml: cannot be read" in r.observed for r in gate.failures)
