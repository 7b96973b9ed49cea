"""Ingest what the lists need and changed since the last run: the one-stop system's dossiers and
process steps and the portal's sync records, through the nightly extract (extractors/run.py), so
the same watermarks move and a night after a day of refreshes reads on from where they left off.

The window is [watermark − lookback, T). The intraday lookback is short (TTHC_INTRADAY_LOOKBACK_HOURS,
default 2): the night re-reads the whole day anyway (its window starts the nightly lookback before
the last watermark), so what an hourly run misses while paging is caught that night at the latest.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from extractors.entities import Entity, entity
from extractors.run import extract_entity
from extractors.sources import make_client
from tthc import settings
from tthc.orchestration.connections import source_settings
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

INTRADAY_ENTITIES: tuple[Entity, ...] = (
    entity("one_stop", "ho_so"),
    entity("one_stop", "qua_trinh_xu_ly"),
    entity("dvc_portal", "sync_status"),
)


def intraday_lookback() -> timedelta:
    return timedelta(hours=float(os.environ.get("TTHC_INTRADAY_LOOKBACK_HOURS", "2")))


def ingest_changes(dsn: Dsn, upper: datetime, run_id: str | None = None) -> dict[str, int]:
    """Each intraday entity up to `upper`; returns new versions loaded per raw table. A failed
    extract raises (its watermark stays): the refresh stops and the published lists stay."""
    conninfo = as_stage(dsn, "loader").conninfo()
    loaded: dict[str, int] = {}
    for target in INTRADAY_ENTITIES:
        client = make_client(target.source, source_settings(target.source))
        try:
            record = extract_entity(
                conninfo,
                client,
                target,
                upper,
                initial_from=settings.initial_from(),
                lookback=intraday_lookback(),
                run_id=run_id,
            )
        finally:
            client.close()
        loaded[target.table] = record.loaded
    log.info(
        "actions refresh: ingested up to %s: %s",
        upper.isoformat(),
        ", ".join(f"{t} {n} new" for t, n in loaded.items()),
    )
    return loaded
