"""Run-time settings read from the environment, with their defaults in one place."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from extractors.timefmt import LOCAL


def initial_from() -> datetime:
    """Where the very first incremental run starts (no watermark yet)."""
    text = os.environ.get("TTHC_INITIAL_FROM", "2020-01-01")
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL)


def lookback() -> timedelta:
    """How far each incremental run re-reads before the watermark (late and moved records)."""
    return timedelta(hours=float(os.environ.get("TTHC_LOOKBACK_HOURS", "24")))
