"""Records the warehouse knows it lacks, per entity, against the thresholds an operator sets.

Two kinds of loss, both counted after a night's extract:
- open quarantined: rows of raw.quarantine not replayed (`replayed_at` null), not expired by the
  PII retention (`pii_cleared_at` null: nothing left to replay) and with no good version of the
  same key loaded since (the source sent a fixed one), from any night;
- missing: for the entity's last successful run, the source's total minus the keys raw holds
  for the run's window minus what the run quarantined (the extractor already fails a run that
  read fewer distinct records than the total; this is the warehouse-side count).

The thresholds (expectations/loss_thresholds.yml, or the file TTHC_LOSS_THRESHOLDS names) say
when that loss fails the night; docs/loss-thresholds.md explains them. The quality gate's
`record_loss` suite (expectations/suites/loss.py) checks them, and after each gate the
per-entity counts are kept in meta.loss_status, which `tthc summary` and the monthly extract's
manifest read: neither needs to read raw.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import yaml

from extractors.entities import ENTITIES

if TYPE_CHECKING:
    from expectations.checks import Scope

log = logging.getLogger(__name__)

THRESHOLDS_FILE = Path(__file__).with_name("loss_thresholds.yml")
THRESHOLDS_ENV = "TTHC_LOSS_THRESHOLDS"
FIRST_RECORDS = 5  # keys (with reasons) named per entity in checks, alerts and the summary
REASON_CHARS = 200  # a reason is cut to this length where it is named
NIGHT_ZONE = "Asia/Ho_Chi_Minh"


class ThresholdsError(ValueError):
    """The thresholds file is missing, unreadable or names something that does not exist."""


@dataclass(frozen=True)
class Thresholds:
    max_quarantined: int
    max_quarantined_pct: float
    max_missing: int
    max_missing_pct: float
    fail_after_nights: int | None

    def describe(self) -> str:
        nights = f", a record open on {self.fail_after_nights} nights" if self.fail_after_nights else ""
        return (
            f"quarantined > {self.max_quarantined} or > {self.max_quarantined_pct:g} % of the night's fetched; "
            f"missing > {self.max_missing} or > {self.max_missing_pct:g} % of the source's total{nights}"
        )


_FIELDS = ("max_quarantined", "max_quarantined_pct", "max_missing", "max_missing_pct", "fail_after_nights")


def thresholds_file() -> Path:
    return Path(os.environ.get(THRESHOLDS_ENV) or THRESHOLDS_FILE)


def _number(where: str, name: str, value, whole: bool, optional: bool = False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (whole and value != int(value)):
        raise ThresholdsError(
            f"{where}: {name} must be a non-negative {'whole ' if whole else ''}number"
            f"{' or null' if optional else ''}, got {value!r}"
        )
    return int(value) if whole else float(value)


def load_thresholds(path: Path | None = None) -> dict[tuple[str, str], Thresholds]:
    """The thresholds of every entity: the file's `default`, overridden per `source/entity`."""
    path = Path(path) if path else thresholds_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"loss thresholds {path}: cannot be read ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("default"), dict):
        raise ThresholdsError(f"loss thresholds {path}: needs a 'default' mapping with {', '.join(_FIELDS)}")
    known = {f"{e.source}/{e.name}": e for e in ENTITIES}
    overrides = data.get("entities") or {}
    for name, values in overrides.items():
        if name not in known:
            raise ThresholdsError(
                f"loss thresholds {path}: unknown entity {name!r} (one of {', '.join(sorted(known))})"
            )
        if not isinstance(values, dict) or set(values) - set(_FIELDS):
            raise ThresholdsError(f"loss thresholds {path}: {name} may set only {', '.join(_FIELDS)}")
    unknown = set(data["default"]) - set(_FIELDS)
    if unknown or set(_FIELDS) - set(data["default"]):
        raise ThresholdsError(f"loss thresholds {path}: 'default' must set exactly {', '.join(_FIELDS)}")
    result = {}
    for name, e in known.items():
        merged = {**data["default"], **(overrides.get(name) or {})}
        where = f"loss thresholds {path}, {name}"
        nights = _number(where, "fail_after_nights", merged["fail_after_nights"], True, optional=True)
        if nights == 0:
            raise ThresholdsError(f"{where}: fail_after_nights must be 1 or more, or null")
        result[(e.source, e.name)] = Thresholds(
            max_quarantined=_number(where, "max_quarantined", merged["max_quarantined"], True),
            max_quarantined_pct=_number(where, "max_quarantined_pct", merged["max_quarantined_pct"], False),
            max_missing=_number(where, "max_missing", merged["max_missing"], True),
            max_missing_pct=_number(where, "max_missing_pct", merged["max_missing_pct"], False),
            fail_after_nights=nights,
        )
    return result


def _limits(thresholds: dict[tuple[str, str], Thresholds]) -> str:
    rows = ", ".join(
        f"('{source}'::text, '{name}'::text, {t.max_quarantined}::bigint, {t.max_quarantined_pct!r}::numeric, "
        f"{t.max_missing}::bigint, {t.max_missing_pct!r}::numeric, "
        f"{'null' if t.fail_after_nights is None else t.fail_after_nights}::int)"
        for (source, name), t in sorted(thresholds.items())
    )
    return (
        f"select * from (values {rows}) as t(source, entity, max_quarantined, max_quarantined_pct, "
        "max_missing, max_missing_pct, fail_after_nights)"
    )


def _open_quarantine() -> str:
    """Open rows of raw.quarantine: not replayed, and no version of the key loaded after them.
    Per entity, so the look-up into raw uses that table's primary key (record_key first)."""
    return " union all ".join(
        f"""
        select q.id, q.source, q.entity, q.batch_id, q.record_key, q.reason
        from {{raw}}.quarantine q
        where q.source = '{e.source}' and q.entity = '{e.name}' and q.replayed_at is null
          and q.pii_cleared_at is null
          and (q.record_key is null or not exists (
                select 1 from {{raw}}."{e.table}" r
                where r.record_key = q.record_key and r.loaded_at > q.quarantined_at))"""
        for e in ENTITIES
    )


def status_sql(thresholds: dict[tuple[str, str], Thresholds] | None = None) -> str:
    """One row per entity: its loss, its thresholds and whether they are passed.

    Names `{raw}`, `{meta}` and `{stored_keys}` (the keys raw holds per last successful run,
    expectations/suites/runs.py STORED_KEYS). A night, for "quarantined N nights", is a local
    date of the upper bound (`window_to`) of a successful run of the entity: the quarantining
    run's night and every later one (a rerun on the same night counts once; a backfill of an
    older window does not count)."""
    from expectations.suites.runs import _LATEST_SUCCESS as LATEST_SUCCESS

    thresholds = thresholds if thresholds is not None else load_thresholds()
    record = f"coalesce(o.record_key, '(no key)') || ': ' || left(o.reason, {REASON_CHARS})"
    return f"""
    with latest as ({LATEST_SUCCESS}),
    stored as ({{stored_keys}}),
    limits as ({_limits(thresholds)}),
    open_q as ({_open_quarantine()}),
    nights as (
        select o.id, count(distinct (r.window_to at time zone '{NIGHT_ZONE}')::date) as nights
        from open_q o
        join {{meta}}.extract_runs q on q.batch_id = o.batch_id
        join {{meta}}.extract_runs r on r.source = o.source and r.entity = o.entity and r.status = 'success'
                                  and r.batch_id >= o.batch_id and r.window_to >= q.window_to
        group by o.id
    ),
    per_entity as (
        select o.source, o.entity, count(*) as quarantined_open,
               count(*) filter (where x.fail_after_nights is not null
                                  and coalesce(n.nights, 0) >= x.fail_after_nights) as open_too_long,
               array_to_string((array_agg({record} order by o.id))[1:{FIRST_RECORDS}], '; ') as first_records,
               array_to_string((array_agg({record} order by o.id)
                                filter (where x.fail_after_nights is not null
                                          and coalesce(n.nights, 0) >= x.fail_after_nights))[1:{FIRST_RECORDS}],
                               '; ') as first_open_too_long
        from open_q o join limits x using (source, entity) left join nights n using (id)
        group by o.source, o.entity
    ),
    measured as (
        select x.source, x.entity, l.batch_id, coalesce(l.fetched, 0) as fetched, l.source_total,
               coalesce(p.quarantined_open, 0) as quarantined_open,
               case when l.source_total is not null and s.keys_stored is not null
                    then greatest(l.source_total - s.keys_stored - l.quarantined, 0) end as missing,
               coalesce(p.open_too_long, 0) as open_too_long,
               x.max_quarantined, x.max_quarantined_pct, x.max_missing, x.max_missing_pct, x.fail_after_nights,
               p.first_records, p.first_open_too_long
        from limits x
        left join latest l using (source, entity)
        left join stored s on s.batch_id = l.batch_id
        left join per_entity p using (source, entity)
    )
    select m.*,
           (m.quarantined_open > m.max_quarantined
            or (m.fetched > 0 and m.quarantined_open * 100.0 > m.max_quarantined_pct * m.fetched)) as quarantine_over,
           coalesce(m.missing > m.max_missing
                    or m.missing * 100.0 > m.max_missing_pct * m.source_total, false) as missing_over
    from measured m
    """


STATUS_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.loss_status (
    run_id              text        NOT NULL,
    source              text        NOT NULL,
    entity              text        NOT NULL,
    batch_id            bigint,
    fetched             bigint      NOT NULL,
    source_total        bigint,
    quarantined_open    bigint      NOT NULL,
    missing             bigint,
    open_too_long       bigint      NOT NULL,
    quarantine_over     boolean     NOT NULL,
    missing_over        boolean     NOT NULL,
    first_records       text,
    thresholds          text        NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, source, entity)
);
"""


@dataclass(frozen=True)
class EntityLoss:
    source: str
    entity: str
    fetched: int
    source_total: int | None
    quarantined_open: int
    missing: int | None
    open_too_long: int
    quarantine_over: bool
    missing_over: bool
    first_records: str | None
    thresholds: str

    @property
    def over(self) -> bool:
        return self.quarantine_over or self.missing_over or self.open_too_long > 0

    @property
    def lost(self) -> int:
        return self.quarantined_open + (self.missing or 0)

    def line(self) -> str:
        """One line an on-call engineer reads: counts, the verdict, the first keys and reasons."""
        parts = [
            f"{self.source}/{self.entity}: {self.quarantined_open} open quarantined (last run fetched {self.fetched})",
            f"{self.missing if self.missing is not None else '?'} missing (source total "
            f"{self.source_total if self.source_total is not None else '?'})",
        ]
        if self.open_too_long:
            parts.append(f"{self.open_too_long} quarantined on too many nights")
        verdict = "OVER THRESHOLDS" if self.over else "within thresholds"
        text = f"{', '.join(parts)} [{verdict}: {self.thresholds}]"
        return text + (f"; first: {self.first_records}" if self.first_records else "")


def measure(
    conn: psycopg.Connection, scope: Scope | None = None, thresholds: dict[tuple[str, str], Thresholds] | None = None
) -> list[EntityLoss]:
    """Every entity's loss now. `scope` may carry the gate's `stored_keys` rows already
    counted; without them the count runs here (as the gate's lookup does)."""
    from expectations.checks import Scope  # Great Expectations loads with it: only when measuring
    from expectations.suites.runs import STORED_KEYS

    thresholds = thresholds if thresholds is not None else load_thresholds()
    scope = scope or Scope()
    if STORED_KEYS.name not in scope.values:
        scope = scope.with_values({STORED_KEYS.name: scope.render(STORED_KEYS.query)})
    cur = conn.execute(scope.render(status_sql(thresholds)))
    names = [c.name for c in cur.description]
    return [_entity_loss(dict(zip(names, row)), thresholds) for row in cur.fetchall()]


def _entity_loss(v: dict, thresholds: dict[tuple[str, str], Thresholds]) -> EntityLoss:
    first = v["first_open_too_long"] if v["open_too_long"] else v["first_records"]
    return EntityLoss(
        source=v["source"],
        entity=v["entity"],
        fetched=int(v["fetched"]),
        source_total=None if v["source_total"] is None else int(v["source_total"]),
        quarantined_open=int(v["quarantined_open"]),
        missing=None if v["missing"] is None else int(v["missing"]),
        open_too_long=int(v["open_too_long"]),
        quarantine_over=bool(v["quarantine_over"]),
        missing_over=bool(v["missing_over"]),
        first_records=first,
        thresholds=thresholds[(v["source"], v["entity"])].describe(),
    )


def record_status(dsn, run_id: str, scope: Scope | None = None) -> list[EntityLoss]:
    """Measure every entity's loss and keep it with the gate run (meta.loss_status); returns
    the entities over their thresholds. The quality gate calls this after its checks."""
    with psycopg.connect(dsn.conninfo(), options="-cjit=off") as conn:
        losses = measure(conn, scope)
        conn.execute(STATUS_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta.loss_status (run_id, source, entity, fetched, source_total, quarantined_open, "
                "missing, open_too_long, quarantine_over, missing_over, first_records, thresholds) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, source, entity) DO UPDATE "
                "SET fetched = EXCLUDED.fetched, source_total = EXCLUDED.source_total, "
                "quarantined_open = EXCLUDED.quarantined_open, missing = EXCLUDED.missing, "
                "open_too_long = EXCLUDED.open_too_long, quarantine_over = EXCLUDED.quarantine_over, "
                "missing_over = EXCLUDED.missing_over, first_records = EXCLUDED.first_records, "
                "thresholds = EXCLUDED.thresholds, recorded_at = now()",
                [
                    (
                        run_id,
                        x.source,
                        x.entity,
                        x.fetched,
                        x.source_total,
                        x.quarantined_open,
                        x.missing,
                        x.open_too_long,
                        x.quarantine_over,
                        x.missing_over,
                        x.first_records,
                        x.thresholds,
                    )
                    for x in losses
                ],
            )
    over = [x for x in losses if x.over]
    for x in losses:
        if x.lost or x.open_too_long:
            (log.error if x.over else log.warning)("record loss: %s", x.line())
    return over


def last_status(conn: psycopg.Connection, run_id: str | None = None) -> list[EntityLoss]:
    """The loss kept with a gate run (default: the newest one that kept any); [] when none."""
    if not conn.execute("select to_regclass('meta.loss_status') is not null").fetchone()[0]:
        return []
    if run_id is None:
        row = conn.execute("select run_id from meta.loss_status order by recorded_at desc limit 1").fetchone()
        if row is None:
            return []
        run_id = row[0]
    rows = conn.execute(
        "select source, entity, fetched, source_total, quarantined_open, missing, open_too_long, quarantine_over, "
        "missing_over, first_records, thresholds from meta.loss_status where run_id = %s order by source, entity",
        (run_id,),
    ).fetchall()
    return [EntityLoss(*row) for row in rows]
