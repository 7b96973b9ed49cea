"""One refresh of the lists (docs/acting-today.md, §11) at a moment T, published atomically.

1. ingest what changed since the last run (tthc/actions/ingest.py: dossiers, process steps,
   sync records, through the nightly extract and its watermarks, up to T);
2. dbt: the incremental models between those entities and the actions models (the hour's
   changes merged; tthc/pipeline/dbt.py ACTIONS_UPSTREAM_SELECTION), then the actions models
   for T into the shadow schema `actions__next`, with their dbt tests;
3. check the shadow is T's, then swap it in, appending the per-unit summary to the history in
   the same transaction (tthc/actions/publish.py).

Any failure stops the refresh before the swap: the published lists and the history stay those
of the last good refresh. The nightly build runs the same refresh after the marts without the
ingest and the upstream build (the night has just done both).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from extractors.timefmt import LOCAL
from tthc.actions import publish
from tthc.actions.ingest import ingest_changes
from tthc.actions.lock import actions_build_lock
from tthc.pipeline import dbt
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    at: datetime
    run_id: str
    history_rows: int = 0  # units appended to the history
    ingested: dict[str, int] = field(default_factory=dict)  # raw table -> new versions
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "run_id": self.run_id,
            "history_rows": self.history_rows,
            "ingested": self.ingested,
            "seconds": self.seconds,
        }


def moment(at: datetime | None = None) -> datetime:
    """T in local time; now (to the minute) when not given."""
    if at is None:
        return datetime.now(LOCAL).replace(second=0, microsecond=0)
    if at.tzinfo is None:
        raise ValueError("the refresh's moment must be timezone-aware")
    return at.astimezone(LOCAL)


def refresh_actions(
    dsn: Dsn,
    at: datetime | None = None,
    ingest: bool = True,
    run_id: str | None = None,
    build_upstream: bool | None = None,
    loader: Dsn | None = None,
) -> RefreshResult:
    """Refresh and publish the lists as of `at` (default now). `dsn`: the admin's or the
    transformer's login; `loader`: the extracts' login (default: derived from an admin's `dsn`).
    `ingest`: extract the hour's changes first; `build_upstream` (default: as `ingest`) merges
    them into the incremental models the lists read. Raises on any failure, the published lists
    unchanged."""
    at = moment(at)
    run_id = run_id or f"actions-{at:%Y%m%dT%H%M}-{uuid.uuid4().hex[:6]}"
    build_upstream = ingest if build_upstream is None else build_upstream
    transformer = as_stage(dsn, "transformer")
    conninfo = transformer.conninfo()
    result = RefreshResult(at, run_id)
    log.info(
        "actions refresh %s at %s: started (ingest %s, upstream build %s)",
        run_id,
        at.isoformat(),
        "yes" if ingest else "no",
        "yes" if build_upstream else "no",
    )
    try:
        with actions_build_lock(conninfo):
            if ingest:
                result.ingested = _timed(result, "ingest", ingest_changes, loader or dsn, at, run_id)
            if build_upstream:
                _timed(result, "upstream", dbt.build_actions_upstream, transformer, at)
            _timed(result, "prepare", publish.ACTIONS.prepare_shadow, conninfo)
            _timed(result, "build", dbt.build_actions_into, transformer, publish.SHADOW, at)
            _timed(result, "check", publish.check_shadow, conninfo, at)
            result.history_rows = _timed(result, "swap", publish.publish, conninfo)
    except BaseException as exc:
        log.error(
            "actions refresh %s at %s failed (%s); the published lists are unchanged",
            run_id,
            at.isoformat(),
            type(exc).__name__,
        )
        raise
    log.info(
        "actions refresh %s at %s: published, %d unit(s) added to the history; seconds %s",
        run_id,
        at.isoformat(),
        result.history_rows,
        result.seconds,
    )
    return result


def _timed(result: RefreshResult, step: str, function, *args):
    started = time.monotonic()
    value = function(*args)
    result.seconds[step] = round(time.monotonic() - started, 2)
    log.info("actions refresh %s: %s done in %.1f s", result.run_id, step, result.seconds[step])
    return value
