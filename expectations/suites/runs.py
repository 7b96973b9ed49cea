"""meta.extract_runs: one row per extract run of an entity, with the source's reported `total`.

Checks about the loads rather than the records: volume against the trailing average,
freshness per source, and loaded counts reconciled with what the source said it had.
All are warnings: the next night's lookback re-reads a window, so none of them alone makes
the marts wrong; they tell an operator where to look. A shortfall past the loss thresholds
fails the gate: expectations/suites/loss.py (record_loss.missing_within_thresholds).
"""

from __future__ import annotations

from expectations.checks import FAIL, WARN, E, Lookup, Suite, column, rows
from extractors.entities import ENTITIES

TRAILING_RUNS = 14  # the nightly runs a volume is compared with
MIN_TRAILING_RUNS = 3  # fewer: no baseline yet, no verdict
NIGHTLY_WINDOW = "3 days"  # longer windows are first loads or backfills: not a night's volume
# shorter windows are the working hours' refreshes of the lists (tthc/actions/ingest.py: since the
# last run, 2 h of lookback), whose volumes are an hour's, not a night's: left out of the volume
# baseline (a night's window starts its 24 h lookback before the last watermark)
INTRADAY_WINDOW = "12 hours"
STALE_RUN = "36 hours"  # an entity whose last success is this far behind the newest run
STALE_DATA = "4 days"  # no update at all from a source over a long weekend is still plausible

_LATEST_SUCCESS = """
    select distinct on (source, entity) batch_id, source, entity, window_from, window_to,
           source_total, quarantined, fetched
    from {meta}.extract_runs
    where status = 'success'
    order by source, entity, started_at desc, batch_id desc
"""


def _keys_in_window(entity) -> str:
    """Distinct keys raw holds for the entity's run window (all keys for a full list).

    Rendered per entity, not with `window_from is null or …`: that OR hides the loaded_at
    bound from the planner, and each night then scanned the whole raw table.
    Counted as the rows of a DISTINCT subquery: PostgreSQL hashes those, while count(distinct)
    always sorts."""
    if not entity.incremental:
        keys = f'select count(*) from (select distinct r.record_key from {{raw}}."{entity.table}" r) k'
    else:
        keys = f"""
            select count(*) from (
                select distinct r.record_key from {{raw}}."{entity.table}" r
                where r.source_updated_at >= l.window_from and r.source_updated_at < l.window_to
                  -- a version is loaded after its update: prunes raw to the window's loads
                  -- (BRIN on loaded_at); a day of slack for a source clock ahead of ours
                  and r.loaded_at >= l.window_from - interval '1 day') k"""
    return f"""
        select l.batch_id, ({keys}) as keys_stored
        from latest l where l.source = '{entity.source}' and l.entity = '{entity.name}'"""


# Counted once per gate, outside GX (see Lookup): after a first load the windows are the whole
# history.
STORED_KEYS = Lookup(
    name="stored_keys",
    query=f"with latest as ({_LATEST_SUCCESS}) {' union all '.join(_keys_in_window(e) for e in ENTITIES)}",
    columns=(("batch_id", "bigint"), ("keys_stored", "bigint")),
)

RECONCILE = f"""
    with latest as ({_LATEST_SUCCESS}),
    stored as ({{{STORED_KEYS.name}}})
    select l.source, l.entity, l.batch_id, l.window_from, l.window_to, l.source_total,
           s.keys_stored, l.quarantined, l.fetched
    from latest l join stored s using (batch_id)
    where l.source_total is not null and s.keys_stored + l.quarantined < l.source_total
"""

VOLUME = f"""
    with runs as (
        select source, entity, batch_id, fetched,
               row_number() over (partition by source, entity order by started_at desc, batch_id desc) as recency
        from {{meta}}.extract_runs
        where status = 'success'
          and (window_from is null or window_to - window_from <= interval '{NIGHTLY_WINDOW}')
          and (window_from is null or window_to - window_from >= interval '{INTRADAY_WINDOW}')
    ), history as (
        select source, entity, avg(fetched) as trailing_avg, count(*) as trailing_runs
        from runs where recency between 2 and {TRAILING_RUNS + 1}
        group by source, entity
    )
    select r.source, r.entity, r.batch_id, r.fetched, round(t.trailing_avg, 1) as trailing_avg, t.trailing_runs
    from runs r join history t using (source, entity)
    where r.recency = 1 and t.trailing_runs >= {MIN_TRAILING_RUNS}
      and ((t.trailing_avg >= 20 and r.fetched < t.trailing_avg / 4) or r.fetched > 4 * t.trailing_avg + 50)
"""

_ENTITY_ROWS = " union all ".join(f"select '{e.source}'::text as source, '{e.name}'::text as entity" for e in ENTITIES)

RUNS_FRESH = f"""
    with expected as ({_ENTITY_ROWS}),
    last_success as (
        select source, entity, max(window_to) as last_success
        from {{meta}}.extract_runs where status = 'success' group by source, entity
    ),
    newest as (select max(last_success) as newest from last_success)
    select x.source, x.entity, l.last_success, n.newest as newest_run_of_any_entity
    from expected x cross join newest n left join last_success l using (source, entity)
    where n.newest is not null
      and (l.last_success is null or l.last_success < n.newest - interval '{STALE_RUN}')
"""


def _newest_update(source: str) -> str:
    tables = [e.table for e in ENTITIES if e.source == source and e.incremental]
    # only what was loaded within the staleness limit can be fresh: prunes raw by loaded_at
    return (
        "greatest("
        + ", ".join(
            f"(select max(source_updated_at) from {{raw}}.\"{t}\" where loaded_at > now() - interval '{STALE_DATA}')"
            for t in tables
        )
        + ")"
    )


DATA_FRESH = f"""
    with per_source as (
        select 'one_stop'::text as source, {_newest_update("one_stop")} as newest_update
        union all
        select 'dvc_portal'::text, {_newest_update("dvc_portal")}
    ),
    last_success as (
        select source, max(window_to) as last_success from {{meta}}.extract_runs
        where status = 'success' and window_from is not null group by source
    )
    select p.source, p.newest_update, l.last_success
    from per_source p join last_success l using (source)
    where p.newest_update is null or p.newest_update < l.last_success - interval '{STALE_DATA}'
"""

LAST_RUN_FAILED = """
    select source, entity, batch_id, status, started_at, left(error, 300) as error
    from (
        select distinct on (source, entity) * from {batch}
        where status <> 'running'
        order by source, entity, started_at desc, batch_id desc
    ) last_run
    where status <> 'success'
"""

EXTRACT_RUNS = Suite(
    name="extract_runs",
    schema="meta",
    table="extract_runs",
    checks=(
        column(
            "status_known",
            FAIL,
            lambda: E.ExpectColumnValuesToBeInSet(
                column="status", value_set=["running", "success", "failed", "abandoned", "replayed"]
            ),
            "the run states the extractors write",
        ),
        rows(
            "loaded_counts_match_source_total",
            WARN,
            RECONCILE,
            "the last successful run of each entity: keys stored for its window plus the quarantined "
            "cover the source's reported total (a shortfall = rows missed while paging; the next "
            "night's lookback re-reads them)",
            lookups=(STORED_KEYS,),
        ),
        rows(
            "volume_near_trailing_average",
            WARN,
            VOLUME,
            f"rows fetched by the last nightly run of each entity within 1/4 to 4x (+50) of the "
            f"average of its previous {TRAILING_RUNS} nightly runs (needs {MIN_TRAILING_RUNS})",
        ),
        rows(
            "runs_fresh_per_entity",
            WARN,
            RUNS_FRESH,
            f"every entity of both sources loaded successfully within {STALE_RUN} of the newest run",
        ),
        rows(
            "source_data_fresh",
            WARN,
            DATA_FRESH,
            f"each source's newest update time is within {STALE_DATA} of its last successful window",
        ),
        rows(
            "last_run_succeeded",
            WARN,
            LAST_RUN_FAILED,
            "the latest finished run of each entity succeeded (else its data is as of an older run)",
        ),
    ),
)
