"""raw.quarantine as a dead-letter queue: list what is open, replay it against the current contract.

A record is quarantined with the reason of its first problem (extractors/records.py) and its
text as received (`raw_text`, JSON that json.loads gives back exactly). After a fix (of the
contract, of a check, or of a bug), `replay` parses each selected open record again with the
code as it is now:
- one that passes is loaded through the normal RawLoader, as if it had come on time: its
  source_updated_at is its own update field, and it lands in a new batch recorded in
  meta.extract_runs (run_id 'replay', status 'replayed', so nightly-run checks, which read
  'success' runs, never mistake it for a night), with loaded_at now, so the next incremental
  dbt build, which reads rows by loaded_at, picks it up. Its quarantine row gets replayed_at
  and replay_batch_id: resolved.
- one that still fails stays open, with the new reason in last_reason.
Every try counts in `attempts`. Replaying twice adds nothing: resolved rows are not selected
again, and the loader skips versions raw already holds. A replay holds the entity's extract
lock (extractors.run.claim_entity), so it never runs beside that entity's extract.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import psycopg

from extractors.entities import BY_TABLE, ENTITIES, Entity
from extractors.entities import entity as entity_of
from extractors.loader import RawLoader
from extractors.raw.schema import ensure_raw_schema
from extractors.records import RawRow, parse_record
from extractors.state import RunRecord, new_batch_id

log = logging.getLogger(__name__)

REPLAY_RUN_ID = "replay"
REPLAY_STATUS = "replayed"


@dataclass(frozen=True)
class Quarantined:
    id: int
    source: str
    entity: str
    batch_id: int
    record_key: str | None
    reason: str
    last_reason: str | None
    attempts: int
    quarantined_at: datetime
    replayed_at: datetime | None
    replay_batch_id: int | None

    @property
    def current_reason(self) -> str:
        return self.last_reason or self.reason


COLUMNS = (
    "id, source, entity, batch_id, record_key, reason, last_reason, attempts, quarantined_at, "
    "replayed_at, replay_batch_id"
)


def _where(ids, source, entity, open_only) -> tuple[str, list]:
    clauses, params = [], []
    if ids:
        clauses.append("id = ANY(%s)")
        params.append(list(ids))
    if source:
        clauses.append("source = %s")
        params.append(source)
    if entity:
        clauses.append("entity = %s")
        params.append(entity)
    if open_only:
        clauses.append("replayed_at IS NULL AND pii_cleared_at IS NULL")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_quarantined(
    conn: psycopg.Connection,
    source: str | None = None,
    entity: str | None = None,
    open_only: bool = True,
    ids=None,
    limit: int | None = None,
) -> list[Quarantined]:
    """Quarantined records, oldest first (never their text: it can hold personal data)."""
    ensure_raw_schema(conn)
    where, params = _where(ids, source, entity, open_only)
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM raw.quarantine{where} ORDER BY id" + (" LIMIT %s" if limit else ""),
        params + ([limit] if limit else []),
    ).fetchall()
    return [Quarantined(*row) for row in rows]


@dataclass
class ReplayResult:
    source: str
    entity: str
    batch_id: int
    tried: int = 0
    resolved: int = 0  # now pass: loaded (or already stored), replayed_at set
    loaded: int = 0  # of those, new versions in raw
    still_failing: int = 0  # stay open with their new reason

    def summary(self) -> str:
        return (
            f"{self.source}/{self.entity} batch {self.batch_id}: {self.tried} replayed, {self.resolved} now pass "
            f"({self.loaded} new versions loaded), {self.still_failing} still fail"
        )


def replay(
    conninfo: str, ids=None, source: str | None = None, entity: str | None = None, everything: bool = False
) -> list[ReplayResult]:
    """Replay the open quarantined records selected by ids, by source (and entity), or all of
    them (`everything`); one batch per entity that has any. Returns one result per entity."""
    if not (ids or source or entity or everything):
        raise ValueError("say which quarantined records to replay: ids, a source (and entity), or everything")
    if entity and not source:
        raise ValueError("an entity needs its source")
    if source and entity:
        entity_of(source, entity)  # a clear error for an unknown entity
    with psycopg.connect(conninfo) as conn:
        ensure_raw_schema(conn)
        conn.commit()
        where, params = _where(ids, source, entity, open_only=True)
        groups = conn.execute(f"SELECT DISTINCT source, entity FROM raw.quarantine{where}", params).fetchall()
        conn.commit()
    results = []
    order = {e.table: i for i, e in enumerate(ENTITIES)}
    for src, name in sorted(groups, key=lambda g: order.get(f"{g[0]}__{g[1]}", len(order))):
        target = BY_TABLE.get(f"{src}__{name}")
        if target is None:
            log.warning(
                "quarantine holds records of %s/%s, an entity the extractors no longer know; left open", src, name
            )
            continue
        results.append(_replay_entity(conninfo, target, ids))
    return results


def _replay_entity(conninfo: str, target: Entity, ids) -> ReplayResult:
    from extractors.run import claim_entity  # run imports the loader stack; keep this module light

    with psycopg.connect(conninfo) as conn:
        claim_entity(conn, target)  # no extract of this entity meanwhile
        batch_id = new_batch_id(conn)
        record = RunRecord(
            batch_id=batch_id,
            run_id=REPLAY_RUN_ID,
            source=target.source,
            entity=target.name,
            window_from=None,
            window_to=None,
        )
        record.save(conn)
        conn.commit()
        result = ReplayResult(target.source, target.name, batch_id)
        try:
            with conn.transaction():
                where, params = _where(ids, target.source, target.name, open_only=True)
                rows = conn.execute(
                    f"SELECT id, raw_text FROM raw.quarantine{where} ORDER BY id FOR UPDATE", params
                ).fetchall()
                good: list[RawRow] = []
                good_ids: list[int] = []
                failing: dict[str, list[int]] = defaultdict(list)
                for qid, raw_text in rows:
                    try:
                        parsed = parse_record(target, json.loads(raw_text))
                    except ValueError:
                        failing["raw_text is not JSON (quarantined before raw_text was kept as JSON)"].append(qid)
                        continue
                    if isinstance(parsed, RawRow):
                        good.append(parsed)
                        good_ids.append(qid)
                    else:
                        failing[parsed.reason].append(qid)
                result.tried = len(rows)
                result.loaded = RawLoader(conn).load(target, batch_id, good)
                result.resolved = len(good_ids)
                conn.execute(
                    "UPDATE raw.quarantine SET replayed_at = now(), replay_batch_id = %s, "
                    "attempts = attempts + 1, last_attempt_at = now(), last_reason = NULL "
                    "WHERE id = ANY(%s)",
                    (batch_id, good_ids),
                )
                for reason, qids in failing.items():
                    conn.execute(
                        "UPDATE raw.quarantine SET attempts = attempts + 1, last_attempt_at = now(), "
                        "last_reason = %s WHERE id = ANY(%s)",
                        (reason, qids),
                    )
                result.still_failing = sum(len(q) for q in failing.values())
                record.status = REPLAY_STATUS
                record.fetched, record.loaded = result.tried, result.loaded
                record.duplicates, record.quarantined = len(good) - result.loaded, result.still_failing
                record.save(conn, finished=True)
        except BaseException as exc:
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            record.save(conn, finished=True)
            conn.commit()
            raise
    log.info("quarantine replay %s", result.summary())
    return result
