"""Running the extractors against the real simulator over HTTP, and reading back what landed.

Ground truth comes from the simulator's world (`world.records` / `world.keys`), never from the
extractor's own code: keys are the world's key tuples joined with '|', payloads are the rows
exactly as the server serves them (record faults included).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import orjson
import psycopg
from psycopg import sql

from extractors.dvc_portal import DvcPortalClient
from extractors.entities import BY_TABLE, ENTITIES, entity
from extractors.http import RetryingSession, RetryPolicy
from extractors.one_stop import OneStopClient
from extractors.paging import PagedClient
from extractors.run import extract_entity
from extractors.state import RunRecord
from extractors.timefmt import LOCAL
from simulator import FaultConfig, World, WorldConfig

# A small province: a few hundred dossiers by mid-2024, every entity populated, built in well under a second.
SMALL_WORLD = WorldConfig(
    seed=5,
    dossiers_per_year=500,
    start=date(2024, 1, 1),
    end=date(2024, 12, 31),
    departments=3,
    districts=2,
    communes_per_district=3,
    procedures=40,
)
CLOCK = datetime(2024, 7, 1, 9, 0, tzinfo=LOCAL)
INITIAL_FROM = datetime(2023, 1, 1, tzinfo=LOCAL)
# small pages so every run crosses many page boundaries
PAGE_SIZE = {"one_stop": 25, "dvc_portal": 10}
PAGE_MAX = {"one_stop": 1000, "dvc_portal": 500}  # the contracts' largest pages, for bulk runs
ALL = [(e.source, e.name) for e in ENTITIES]


def fast_policy(**over) -> RetryPolicy:
    """Backoff in milliseconds so faults cost the suite nothing; a generous cap for high fault rates."""
    values = dict(
        max_attempts=12, base_delay=0.002, max_delay=0.02, max_retry_after=0.05, connect_timeout=5.0, read_timeout=10.0
    )
    return RetryPolicy(**(values | over))


class SleepLog:
    """Records every backoff the session asks for and sleeps a capped sliver of it."""

    def __init__(self, cap: float = 0.01):
        self.delays: list[float] = []
        self.cap = cap

    def __call__(self, seconds: float) -> None:
        import time

        self.delays.append(seconds)
        time.sleep(min(seconds, self.cap))


def client_for(
    source: str, url: str, policy: RetryPolicy | None = None, sleep=None, page_size: int | None = None
) -> PagedClient:
    http = RetryingSession(policy or fast_policy(), **({"sleep": sleep} if sleep else {}), seed=1)
    size = page_size or PAGE_SIZE[source]
    if source == "one_stop":
        return OneStopClient(url, "tthc-demo", "demo-secret", http, size)
    return DvcPortalClient(url, "demo-api-key", http, size)


def extract(dsn, url: str, names, upper: datetime, *, clients: dict | None = None, **kw) -> dict[str, RunRecord]:
    """Extract each (source, entity) up to `upper`; returns run records by raw table name."""
    clients = clients if clients is not None else {}
    out = {}
    for source, name in names:
        if source not in clients:
            clients[source] = client_for(source, url)
        target = entity(source, name)
        out[target.table] = extract_entity(
            dsn.conninfo(), clients[source], target, upper, initial_from=INITIAL_FROM, **kw
        )
    return out


def key_text(key: tuple) -> str:
    return "|".join(str(part) for part in key)


def normalized(row) -> object:
    """A served row as JSON text would give it back (what JSONB holds)."""
    return orjson.loads(orjson.dumps(row))


def truth(world: World, source: str, name: str, as_of: datetime, faults: FaultConfig | None = None) -> dict[str, dict]:
    """key -> row as served at `as_of`, without the rows a pipeline must quarantine."""
    keys = world.keys(source, name, as_of)
    rows = world.records(source, name, as_of, faults=faults)
    malformed = world.malformed_keys(source, name, as_of, faults) if faults else {}
    return {key_text(k): normalized(r) for k, r in zip(keys, rows) if k not in malformed}


def raw_latest(dsn, source: str, name: str) -> dict[str, dict]:
    """key -> payload of the version staging would pick (the dbt macro latest_version's order)."""
    table = sql.Identifier(entity(source, name).table)
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT DISTINCT ON (record_key) record_key, payload FROM raw.{} "
                "ORDER BY record_key, source_updated_at DESC NULLS LAST, loaded_at DESC, batch_id DESC"
            ).format(table)
        ).fetchall()
    return dict(rows)


def raw_versions(dsn, source: str, name: str) -> set[tuple[str, str]]:
    table = sql.Identifier(entity(source, name).table)
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(sql.SQL("SELECT record_key, payload_hash FROM raw.{}").format(table)).fetchall()
    assert len(rows) == len(set(rows))
    return set(rows)


def raw_counts(dsn) -> dict[str, int]:
    with psycopg.connect(dsn.conninfo()) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(sql.SQL("SELECT count(*) FROM raw.{}").format(sql.Identifier(t))).fetchone()[0]
            for t in tables
        }


def assert_raw_is_truth(dsn, world: World, names, as_of: datetime, faults: FaultConfig | None = None) -> None:
    for source, name in names:
        expected = truth(world, source, name, as_of, faults)
        got = raw_latest(dsn, source, name)
        assert expected, f"{source}/{name}: the world has no records; the test proves nothing"
        missing, extra = set(expected) - set(got), set(got) - set(expected)
        assert not missing and not extra, (
            f"{source}/{name}: {len(missing)} missing (e.g. {sorted(missing)[:3]}), "
            f"{len(extra)} unexpected (e.g. {sorted(extra)[:3]})"
        )
        wrong = [k for k in expected if got[k] != expected[k]]
        assert not wrong, f"{source}/{name}: {len(wrong)} keys hold another version than the source's, e.g. {wrong[:3]}"


def new_database(pg_cluster):
    """A second empty database (for comparing a clean run with a resumed one)."""
    admin = pg_cluster.admin_dsn()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.with_database(name)


def drop_database(pg_cluster, dsn) -> None:
    with psycopg.connect(pg_cluster.admin_dsn().conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dsn.dbname)))


def entities_of(*tables: str) -> list[tuple[str, str]]:
    return [(BY_TABLE[t].source, BY_TABLE[t].name) for t in tables]
