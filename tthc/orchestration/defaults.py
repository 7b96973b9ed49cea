"""Defaults every DAG shares: local timezone, retries with backoff, no catch-up storms."""

import os
from datetime import timedelta

import pendulum

from tthc.orchestration.alerts import notify_failure

TIMEZONE = "Asia/Ho_Chi_Minh"
START = pendulum.datetime(2024, 1, 1, tz=TIMEZONE)

DEFAULT_ARGS = {
    "owner": "tthc-data",
    # TTHC_TASK_RETRIES=0 makes local runs (demo, tests) fail fast instead of waiting out backoff.
    "retries": int(os.environ.get("TTHC_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": notify_failure,
}
