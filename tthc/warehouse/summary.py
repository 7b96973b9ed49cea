"""The nightly run summary: what each night loaded, quarantined and checked, in one place.

Kept as views over the run records (meta.extract_runs, meta.quality_results, meta.watermarks),
so it is always current and costs nothing to maintain; `tthc summary` prints the latest night,
with the records the last gate counted as lost (meta.loss_status, expectations/loss.py).
"""

from __future__ import annotations

import psycopg

from expectations.loss import last_status

VIEWS = """
CREATE OR REPLACE VIEW meta.extract_summary AS
SELECT (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS run_date,
       source, entity,
       count(*)                                  AS runs,
       count(*) FILTER (WHERE status = 'failed') AS failed_runs,
       sum(pages)                                AS pages,
       sum(fetched)                              AS fetched,
       sum(loaded)                               AS new_versions,
       sum(duplicates)                           AS already_stored,
       sum(quarantined)                          AS quarantined,
       sum(retries)                              AS retries,
       round(sum(seconds), 1)                    AS seconds,
       max(window_to)                            AS loaded_up_to
FROM meta.extract_runs
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW meta.gate_summary AS
SELECT (max(checked_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS run_date,
       run_id,
       count(*)                                                      AS checks,
       count(*) FILTER (WHERE NOT success AND severity = 'fail')     AS failures,
       count(*) FILTER (WHERE NOT success AND severity <> 'fail')    AS warnings,
       max(checked_at)                                               AS checked_at
FROM meta.quality_results
GROUP BY run_id;
"""


def ensure_views(conn: psycopg.Connection) -> None:
    """The views and what they read. As a stage role (tthc/warehouse/roles.py) only what is
    missing is created: the transformer may not create in raw, and replaces only its own views."""
    from expectations.runner import RESULTS_DDL
    from extractors.raw.schema import ensure_raw_schema

    def missing(name: str) -> bool:
        return conn.execute("SELECT to_regclass(%s) IS NULL", (name,)).fetchone()[0]

    if missing("meta.extract_runs") or missing("meta.watermarks"):
        ensure_raw_schema(conn)
    if missing("meta.quality_results"):
        conn.execute(RESULTS_DDL)
    owned = conn.execute(
        "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c "
        "WHERE c.oid IN (to_regclass('meta.extract_summary'), to_regclass('meta.gate_summary'))"
    ).fetchone()[0]
    if owned is not False:  # none yet, or ours to replace
        conn.execute(VIEWS)


def latest_night(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        ensure_views(conn)
        rows = conn.execute(
            "SELECT source, entity, runs, failed_runs, fetched, new_versions, quarantined, retries, seconds, loaded_up_to "
            "FROM meta.extract_summary WHERE run_date = (SELECT max(run_date) FROM meta.extract_summary) "
            "ORDER BY source, entity"
        ).fetchall()
        gate = conn.execute(
            "SELECT run_id, checks, failures, warnings, checked_at FROM meta.gate_summary "
            "ORDER BY checked_at DESC LIMIT 1"
        ).fetchone()
        warned = (
            conn.execute(
                "SELECT suite, check_name, description FROM meta.quality_results "
                "WHERE run_id = %s AND NOT success AND severity <> 'fail' ORDER BY 1, 2",
                (gate[0],),
            ).fetchall()
            if gate
            else []
        )
        marks = conn.execute("SELECT source, entity, high_watermark FROM meta.watermarks ORDER BY 1, 2").fetchall()
        losses = last_status(conn)
    lines = [
        f"{'source/entity':<30} {'runs':>4} {'failed':>6} {'fetched':>9} {'new':>8} {'quarant.':>8} {'retries':>7} {'sec':>7}  loaded up to"
    ]
    for source, entity, runs, failed, fetched, new, quarantined, retries, seconds, upto in rows:
        lines.append(
            f"{source + '/' + entity:<30} {runs:>4} {failed:>6} {fetched:>9} {new:>8} {quarantined:>8} "
            f"{retries:>7} {seconds or 0:>7}  {upto}"
        )
    if gate:
        lines.append(f"quality gate {gate[0]}: {gate[1]} checks, {gate[2]} failing, {gate[3]} warnings at {gate[4]}")
        lines += [f"  warning {suite}.{check}: {description}" for suite, check, description in warned]
    lines += loss_lines(losses)
    lines += [f"watermark {s}/{e}: {m}" for s, e, m in marks]
    return "\n".join(lines)


def loss_lines(losses: list) -> list[str]:
    """Per entity, the records the warehouse knows it lacks (open quarantined, missing) as the
    last gate counted them, and whether that passed the thresholds (expectations/loss.py)."""
    if not losses:
        return ["records lost: not counted yet (no quality gate has kept its loss count)"]
    lost = [x for x in losses if x.lost or x.over]
    over = [x for x in lost if x.over]
    if not lost:
        return ["records lost: none (no open quarantined record, nothing missing against the sources' totals)"]
    head = (
        f"records lost: {sum(x.quarantined_open for x in lost)} open quarantined, "
        f"{sum(x.missing or 0 for x in lost)} missing; "
        + (
            f"OVER THE THRESHOLDS for {len(over)} entit{'y' if len(over) == 1 else 'ies'} (the gate fails)"
            if over
            else "within the thresholds (a warning)"
        )
    )
    return [head] + [f"  {x.line()}" for x in lost]
