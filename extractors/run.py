"""Extract one entity into the raw layer: the unit of work a DAG task or a CLI call runs.

Window: from the stored watermark minus a lookback, to an upper bound fixed when the run
starts. The sources take no snapshot while we page, so a record can be missed within a
pass; the lookback re-reads the tail of the previous window on the next run, and versions
already stored are skipped, so re-reading costs little. Each page commits on its own; the
watermark moves only after the last page committed, in the same transaction as the run
record. A crash anywhere leaves committed pages (harmless duplicates of a later rerun) and
the old watermark, so the next run reads the same window again and ends in the same place.
A run whose pages cannot account for the source's total (a response without its paging
block, an empty page before the last, fewer distinct records than the final total) fails the
same way, and its record says why (extractors/completeness.py). One run per entity at a time
(an advisory lock); a run that finds a 'running' record left by a killed process marks it
'abandoned'. The closing log line is the run's summary: pages,
records, new, already stored, quarantined, retries (by reason), seconds, records/s.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import psycopg

from extractors.completeness import PassTally
from extractors.entities import Entity
from extractors.loader import RawLoader
from extractors.paging import PagedClient, Window
from extractors.raw.schema import analyze_if_grown, ensure_raw_schema, summarize_new_loads
from extractors.records import RawRow, Rejected, parse_record
from extractors.state import RunRecord, new_batch_id, read_watermark, write_watermark

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK = timedelta(days=1)
PROGRESS_EVERY_SECONDS = 5.0


def plan_window(watermark: datetime | None, upper: datetime, lookback: timedelta, initial_from: datetime) -> Window:
    start = (watermark - lookback) if watermark else initial_from
    return Window(start=min(start, upper), end=upper)


def extract_entity(
    conninfo: str,
    client: PagedClient,
    entity: Entity,
    upper: datetime,
    *,
    initial_from: datetime,
    lookback: timedelta = DEFAULT_LOOKBACK,
    window: Window | None = None,
    run_id: str | None = None,
) -> RunRecord:
    """Pull one entity up to `upper` (or an explicit backfill `window`) into raw."""
    if upper.tzinfo is None:
        raise ValueError("upper bound must be timezone-aware")
    from tthc.warehouse.stages import as_stage_conninfo

    conninfo = as_stage_conninfo(conninfo, "loader")  # an admin's URL: load as the loader all the same
    started = time.monotonic()
    retries_before = client.http.retries
    reasons_before = client.http.retry_reasons.copy()
    rewinds_before = client.rewinds
    with psycopg.connect(conninfo) as conn:
        ensure_raw_schema(conn)
        claim_entity(conn, entity)
        if entity.incremental:
            if window is None:
                window = plan_window(read_watermark(conn, entity), upper, lookback, initial_from)
        else:
            window = None  # full list: a snapshot each run
        record = RunRecord(
            batch_id=new_batch_id(conn),
            run_id=run_id,
            source=entity.source,
            entity=entity.name,
            window_from=window.start if window else None,
            window_to=window.end if window else upper,
        )
        record.save(conn)
        conn.commit()
        span = f"[{window.start.isoformat()} .. {window.end.isoformat()})" if window else "full list"
        log.info("%s/%s batch %d: extracting %s", entity.source, entity.name, record.batch_id, span)

        loader = RawLoader(conn)
        tally = PassTally()
        last_report = time.monotonic()
        try:
            for page in client.iter_pages(entity, window):
                good: list[RawRow] = []
                bad: list[Rejected] = []
                for item in page.records:
                    parsed = parse_record(entity, item)
                    if isinstance(parsed, RawRow):
                        good.append(parsed)
                        tally.add(parsed.key)
                    else:
                        bad.append(parsed)
                        tally.add(parsed.key if parsed.key is not None else parsed.raw_text)
                with conn.transaction():
                    inserted = loader.load(entity, record.batch_id, good)
                    loader.quarantine(entity, record.batch_id, bad)
                record.pages += 1
                record.fetched += len(page.records)
                record.loaded += inserted
                record.duplicates += len(good) - inserted
                record.quarantined += len(bad)
                record.source_total = page.total if page.total is not None else record.source_total
                for rejected in bad:
                    log.warning(
                        "%s/%s: quarantined %s: %s",
                        entity.source,
                        entity.name,
                        rejected.key or "(no key)",
                        rejected.reason,
                    )
                now = time.monotonic()
                if now - last_report >= PROGRESS_EVERY_SECONDS:
                    last_report = now
                    rate = record.fetched / max(now - started, 1e-9)
                    log.info(
                        "%s/%s: page %d/%d, %d records (%.0f/s), %d new, %d quarantined",
                        entity.source,
                        entity.name,
                        page.number,
                        page.total_pages,
                        record.fetched,
                        rate,
                        record.loaded,
                        record.quarantined,
                    )
            # a pass that read fewer distinct records than the source's final total missed some
            tally.check(
                entity,
                record.source_total,
                pages=record.pages,
                fetched=record.fetched,
                rewinds=client.rewinds - rewinds_before,
            )
        except BaseException as exc:
            conn.rollback()
            record.status = "failed"
            record.error = f"{type(exc).__name__}: {exc}"[:2000]
            record.retries = client.http.retries - retries_before
            record.seconds = round(time.monotonic() - started, 3)
            record.save(conn, finished=True)
            conn.commit()
            log.error(
                "%s/%s batch %d failed after %d pages: %s",
                entity.source,
                entity.name,
                record.batch_id,
                record.pages,
                record.error,
            )
            raise

        record.status = "success"
        record.retries = client.http.retries - retries_before
        record.seconds = round(time.monotonic() - started, 3)
        with conn.transaction():
            # Backfills of an old window never move the nightly position (GREATEST in SQL).
            write_watermark(conn, entity, window.end if window else upper, run_id)
            record.save(conn, finished=True)
        summarize_new_loads(conn, entity.table)
        analyze_if_grown(conn, entity.table, record.loaded)
    reasons = client.http.retry_reasons - reasons_before
    log.info(
        "%s/%s batch %d done: %d pages, %d records, %d new, %d already stored, %d quarantined, "
        "%d retries%s, %.1fs, %.0f records/s%s",
        entity.source,
        entity.name,
        record.batch_id,
        record.pages,
        record.fetched,
        record.loaded,
        record.duplicates,
        record.quarantined,
        record.retries,
        f" ({', '.join(f'{k} ×{v}' for k, v in sorted(reasons.items()))})" if reasons else "",
        record.seconds,
        record.fetched / max(record.seconds, 1e-3),
        f", {client.rewinds - rewinds_before} page rewinds (rows moved while paging)"
        if client.rewinds > rewinds_before
        else "",
    )
    return record


def claim_entity(conn: psycopg.Connection, entity: Entity) -> None:
    """One extract per entity at a time; runs a killed process left 'running' become 'abandoned'.

    A session advisory lock, so it is released when the connection ends, however the process
    ends. Holding it proves no other live run of the entity exists.
    """
    got = conn.execute(
        "SELECT pg_try_advisory_lock(hashtext('tthc-extract'), hashtext(%s))", (entity.table,)
    ).fetchone()[0]
    if not got:
        conn.rollback()
        raise RuntimeError(f"another extract of {entity.source}/{entity.name} is running; try again when it ends")
    stale = conn.execute(
        "UPDATE meta.extract_runs SET status = 'abandoned', finished_at = now(), "
        "error = coalesce(error, 'the run ended without finishing (process killed or lost)') "
        "WHERE source = %s AND entity = %s AND status = 'running' RETURNING batch_id",
        (entity.source, entity.name),
    ).fetchall()
    conn.commit()
    if stale:
        log.warning(
            "%s/%s: batches %s never finished (killed?); marked abandoned, their pages are kept "
            "and this run reads their window again",
            entity.source,
            entity.name,
            ", ".join(str(b) for (b,) in stale),
        )
