"""Weekly: clear raw's personal fields (applicant identity, feedback text, quarantined texts) of
records closed longer than TTHC_PII_RETENTION_DAYS (default 365), and their restricted copies.

Sundays 04:00, after the night's build (it reads staging to know what closed when), outside the
nightly budget. Incremental: only what closed past the cutoff, or got a version, since the last
run (tthc/privacy/retention.py, docs/decisions/007).
"""

from airflow.sdk import dag, task

from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule="0 4 * * 0",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["privacy", "retention"],
    doc_md=__doc__,
)
def retain_pii():
    @task
    def clear_closed_personal_data() -> dict:
        from tthc.privacy.retention import run_in_airflow

        return run_in_airflow()

    clear_closed_personal_data()


retain_pii()
