"""The run summary reads the run records the extractors and the gate leave."""

import psycopg
import pytest

from tthc.warehouse.summary import ensure_views, latest_night

pytestmark = pytest.mark.slow


def test_summary_of_the_latest_night(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as conn:
        ensure_views(conn)
        conn.execute("""
            insert into meta.extract_runs (batch_id, source, entity, status, pages, fetched, loaded, duplicates,
                                           quarantined, retries, seconds, window_to, started_at)
            values (1, 'one_stop', 'ho_so', 'failed', 2, 1000, 1000, 0, 0, 3, 4.5, '2025-05-01 01:00+07', '2025-05-01 01:02+07'),
                   (2, 'one_stop', 'ho_so', 'success', 5, 2500, 1500, 1000, 2, 1, 9.0, '2025-05-01 01:00+07', '2025-05-01 01:30+07'),
                   (3, 'one_stop', 'ho_so', 'success', 1, 10, 10, 0, 0, 0, 0.5, '2025-04-30 01:00+07', '2025-04-30 01:02+07');
            insert into meta.quality_results (run_id, suite, check_name, severity, success, description)
            values ('r1', 'fct_dossier', 'a', 'fail', true, 'always right'),
                   ('r1', 'mart_portal_reconciliation', 'portal_total_for_the_published_month', 'warn', false,
                    'the portal''s official total exists');
            insert into meta.watermarks (source, entity, high_watermark) values ('one_stop', 'ho_so', '2025-05-01 01:00+07');
        """)
        row = conn.execute(
            "select runs, failed_runs, fetched, new_versions, quarantined, retries, seconds "
            "from meta.extract_summary where run_date = '2025-05-01'"
        ).fetchone()
    assert row == (2, 1, 3500, 2500, 2, 4, 13.5)
    text = latest_night(fresh_db.conninfo())
    assert "one_stop/ho_so" in text and "3500" in text
    assert "quality gate r1: 2 checks, 0 failing, 1 warnings" in text
    # a warning is named, so "the reconciliation has no official total" is not a bare count
    assert (
        "  warning mart_portal_reconciliation.portal_total_for_the_published_month: the portal's official "
        "total exists" in text.splitlines()
    )
    assert "always right" not in text
