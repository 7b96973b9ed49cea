"""The backup drill: base backup, keep running, lose the data folder, restore to a point in time,
run the next night; and the archive's and the CLI's refusals.

The nights here are real extractor runs of every entity of both sources (and the portal's official
scores) from the simulator into raw + meta, plus a core-like table merged from raw by SQL, on a
cluster of the module's own with archiving on; the night after T also runs the real dbt build
(staging to core, then the indicator marts) on both sides, so the night after the restore is
compared whole with the one that never failed. The earlier nights skip dbt: restore is a physical
replay of WAL, blind to which SQL wrote the pages, and dbt four times over would take minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from extractors.entities import ENTITIES, ONE_STOP, entity
from extractors.portal_scores import fetch_service_results, periods_around, province_roots
from extractors.run import extract_entity
from extractors.sources import SourceSettings, make_client
from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests.conftest import free_port
from tests.failure.night import CREDENTIALS, crash_warehouse
from tthc import cli
from tthc.paths import LOCAL as PROJECT_LOCAL
from tthc.pipeline import dbt
from tthc.warehouse import EmbeddedPostgres
from tthc.warehouse import backup as backups
from tthc.warehouse.backup import BackupError

# A small province: a few hundred dossiers, every entity; three nights a day apart.
WORLD = WorldConfig(
    seed=7,
    dossiers_per_year=2500,
    start=date(2025, 5, 1),
    end=date(2025, 9, 30),
    departments=3,
    districts=2,
    communes_per_district=3,
    procedures=30,
)
NIGHTS = [datetime(2025, 7, 30, 1, 0, tzinfo=LOCAL) + timedelta(days=n) for n in range(3)]
INITIAL_FROM = datetime(2025, 1, 1, tzinfo=LOCAL)
# Besides load bookkeeping, what differs between two runs of the same night: when it ran (the
# portal's scores also carry the time they were fetched as their source time).
WHEN_IT_RAN = {
    "*": frozenset(
        {
            "loaded_at",
            "batch_id",
            "run_id",
            "started_at",
            "finished_at",
            "seconds",
            "updated_at",
            "quarantined_at",
            "id",
        }
    ),
    "raw.dvc_portal__service_results": frozenset({"source_updated_at"}),
    # the incremental state's build ids, times, relation oids and compiled-SQL hash
    "intermediate.int_dossier_changes": frozenset({"build_id", "built_at"}),
    "intermediate.kept_model_state": frozenset(
        {"build_id", "built_at", "upstream", "compiled_sql_hash", "changes_through"}
    ),
}

CORE_MERGE = """
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.dossier_latest (
    record_key text PRIMARY KEY, payload_hash text NOT NULL, source_updated_at timestamptz,
    versions integer NOT NULL);
INSERT INTO core.dossier_latest
SELECT DISTINCT ON (record_key) record_key, payload_hash, source_updated_at,
       count(*) OVER (PARTITION BY record_key)
FROM raw.{table} ORDER BY record_key, source_updated_at DESC NULLS LAST, payload_hash
ON CONFLICT (record_key) DO UPDATE SET payload_hash = excluded.payload_hash,
    source_updated_at = excluded.source_updated_at, versions = excluded.versions
WHERE core.dossier_latest.versions IS DISTINCT FROM excluded.versions;
"""


def night(dsn, server: SimulatorServer, clock: datetime) -> None:
    """One night's loads: every entity into raw + meta, the official scores, the core merge."""
    server.set_clock(clock)
    settings = SourceSettings(
        server.url, CREDENTIALS["client_id"], CREDENTIALS["client_secret"], CREDENTIALS["api_key"]
    )
    for target in ENTITIES:
        client = make_client(target.source, settings)
        try:
            extract_entity(
                dsn.conninfo(), client, target, clock, initial_from=INITIAL_FROM, run_id=f"drill-{clock:%m%d}"
            )
        finally:
            client.close()
    portal = make_client("dvc_portal", settings)
    try:
        fetch_service_results(
            dsn.conninfo(), portal, province_roots(dsn.conninfo(), clock.date()), periods_around(clock.date())
        )
    finally:
        portal.close()
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(CORE_MERGE.format(table=entity(ONE_STOP, "ho_so").table))


def build(dsn, clock: datetime) -> None:
    """The night's dbt: staging, intermediate and core, then the indicator marts (the real models,
    logged in as the transformer), so the next night after a restore is a whole pipeline night."""
    dbt.build_warehouse(dsn, clock.date())
    dbt.build_marts_into(dsn, "marts", clock.date())


def state(dsn, leave_out: dict[str, frozenset] | None = None) -> dict[str, tuple[str, ...]]:
    """Every table of every schema of the database as its rows' hashes, sorted; every column unless
    `leave_out` names some ("*": of every table). Kept here, not shared, so "exactly" stays exact."""
    leave_out = leave_out or {}
    out = {}
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # a timestamptz's text must not depend on the session
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema <> ALL(ARRAY['pg_catalog', 'information_schema']) ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            skip = leave_out.get("*", frozenset()) | leave_out.get(name, frozenset())
            columns = [
                c
                for (c,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (schema, table),
                )
                if c not in skip
            ]
            row = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            out[name] = tuple(
                h
                for (h,) in conn.execute(
                    sql.SQL("SELECT md5(ROW({})::text) AS h FROM {} ORDER BY h").format(
                        row, sql.Identifier(schema, table)
                    )
                )
            )
    return out


def diff(a: dict, b: dict) -> list[str]:
    return [
        f"{name}: {len(a[name]) if name in a else '-'} vs {len(b[name]) if name in b else '-'} rows"
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]


def archive_everything(cluster, dsn) -> None:
    """Close the current WAL segment and wait until the archiver has copied it."""
    with psycopg.connect(dsn.conninfo(), autocommit=True) as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + 60
        while not (cluster.archive_dir / segment).exists():
            assert time.monotonic() < deadline, conn.execute("SELECT * FROM pg_stat_archiver").fetchone()
            time.sleep(0.05)


def server_time(dsn) -> datetime:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute("SELECT clock_timestamp()").fetchone()[0]


@pytest.fixture(scope="module")
def simulator():
    with SimulatorServer(World(WORLD), port=0, clock=NIGHTS[0]) as server:
        yield server


@pytest.fixture(scope="module")
def cluster():
    """A cluster of the module's own (the drill destroys it): as root the postgres user must reach it."""
    base = Path(tempfile.mkdtemp(prefix="tthc-test-backup-"))
    base.chmod(0o755)
    own = EmbeddedPostgres(root=base / "pg", port=free_port())
    own.start()
    yield own
    if own.running():
        crash_warehouse(own)  # no shutdown checkpoint: it is all deleted next
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(PROJECT_LOCAL / "dbt" / f"tthc-{own.port}", ignore_errors=True)  # the drill's dbt target


def timeline(cluster) -> int:
    with psycopg.connect(cluster.admin_dsn().conninfo()) as conn:
        return conn.execute("SELECT timeline_id FROM pg_control_checkpoint()").fetchone()[0]


def test_drill_backup_keep_running_lose_the_data_restore_to_a_time_run_the_next_night(cluster, simulator):
    # A cluster made before archiving existed gets the settings at its next start, once each.
    cluster.stop()
    cluster.write_settings(dict.fromkeys(cluster.archive_settings()))
    dsn = cluster.start()
    before = timeline(cluster)
    with psycopg.connect(dsn.conninfo()) as conn:
        assert conn.execute("SHOW archive_mode").fetchone()[0] == "on"
        assert conn.execute("SHOW archive_command").fetchone()[0] == cluster.archive_command()
    conf = (cluster.data_dir / "postgresql.auto.conf").read_text()
    assert conf.count("archive_command") == 1 and conf.count("wal_level") == 1

    night(dsn, simulator, NIGHTS[0])
    first = backups.take_backup(cluster, keep=2)
    assert first.label["verified"].endswith("backup successfully verified")
    assert (first.path / "backup.json").is_file() and (first.data / "backup_manifest").is_file()

    night(dsn, simulator, NIGHTS[1])  # keeps running after the backup
    with psycopg.connect(dsn.conninfo()) as conn:  # raw holds history: dossiers with several versions
        assert conn.execute("SELECT max(versions) FROM core.dossier_latest").fetchone()[0] > 1
    time.sleep(0.05)
    point = server_time(dsn)  # T: what the restore must bring back
    at_point = state(dsn)
    time.sleep(0.05)
    night(dsn, simulator, NIGHTS[2])  # changes after T
    build(dsn, NIGHTS[2])
    never_failed = state(dsn, leave_out=WHEN_IT_RAN)
    raw_dossiers = f"raw.{entity(ONE_STOP, 'ho_so').table}"
    assert len(at_point[raw_dossiers]) < len(never_failed[raw_dossiers]), "night 3 changed nothing"
    assert at_point["meta.extract_runs"] and at_point["core.dossier_latest"] and at_point["meta.watermarks"]
    assert never_failed["core.fct_dossier"] and never_failed["marts.mart_metric_monthly"]  # dbt's night is in it
    archive_everything(cluster, dsn)

    # The disaster: no shutdown, and the whole cluster folder gone (data, password file, log).
    crash_warehouse(cluster)
    shutil.rmtree(cluster.root)

    restored = backups.restore(cluster, target=point)
    assert restored.backup.name == first.name and restored.moved_aside is None
    assert cluster.archive_marker.exists() and cluster.password_file.stat().st_mode & 0o077 == 0
    assert not (gap := diff(at_point, state(dsn))), gap  # exactly T: raw history, meta, core
    assert restored.reached is not None and restored.reached <= point
    assert restored.timeline == before + 1
    with psycopg.connect(dsn.conninfo()) as conn:
        assert not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    conf = (cluster.data_dir / "postgresql.auto.conf").read_text()
    assert "recovery_target" not in conf and "restore_command" not in conf  # used once
    assert not (cluster.data_dir / "recovery.signal").exists()

    night(dsn, simulator, NIGHTS[2])  # the next night, on the restored warehouse
    build(dsn, NIGHTS[2])
    assert not (gap := diff(never_failed, state(dsn, leave_out=WHEN_IT_RAN))), gap

    # The restored cluster archives on its new timeline; a new backup prunes the older one and the
    # WAL before it.
    archive_everything(cluster, dsn)
    assert (cluster.archive_dir / f"{restored.timeline:08X}.history").is_file()
    second = backups.take_backup(cluster, keep=1)
    assert [b.name for b in backups.list_backups(cluster)] == [second.name]
    oldest = min(p.name for p in cluster.archive_dir.iterdir() if len(p.name) == 24)
    assert oldest[8:] >= second.start_wal_file[8:]

    # A restore over a live data folder moves it aside, never deletes it.
    again = backups.restore(cluster)
    assert again.moved_aside is not None and (again.moved_aside / "PG_VERSION").is_file()
    assert not diff(never_failed, state(dsn, leave_out=WHEN_IT_RAN))


def test_undo_a_mistake_on_a_running_warehouse(cluster):
    """No crash: a bad statement, undone by restoring to just before it. The newest changes are
    in a WAL segment not archived yet: the restore's clean stop has it archived."""
    cluster.start()
    dsn = cluster.admin_dsn()  # the postgres database: the drill's fingerprint covers tthc
    backups.take_backup(cluster)
    with psycopg.connect(dsn.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE precious AS SELECT g AS i FROM generate_series(1, 500) g")
        time.sleep(0.05)
        point = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        time.sleep(0.05)
        conn.execute("DELETE FROM precious WHERE i > 10")
    restored = backups.restore(cluster, target=point)
    with psycopg.connect(dsn.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM precious").fetchone()[0] == 500
    aside = restored.moved_aside
    assert aside is not None and (aside / "PG_VERSION").is_file()  # the damaged folder, kept


def test_restore_refusals_say_why(cluster, monkeypatch, capsys, tmp_path):
    cluster.start()
    nothing_yet = EmbeddedPostgres(root=cluster.root, port=cluster.port, backups_dir=tmp_path / "none")
    with pytest.raises(BackupError, match="No backup yet"):
        backups.restore(nothing_yet)
    backup = backups.take_backup(cluster)
    with pytest.raises(BackupError, match="before backup .* ended"):
        backups.restore(cluster, name=backup.name, target=backup.finished_at - timedelta(minutes=1))
    oldest = backups.list_backups(cluster)[0]
    with pytest.raises(BackupError, match="before the end of the oldest backup"):
        backups.restore(cluster, target=oldest.finished_at - timedelta(minutes=1))
    with pytest.raises(BackupError, match="in the future"):
        backups.restore(cluster, target=datetime.now(UTC) + timedelta(hours=1))
    with backups._one_at_a_time(cluster):  # e.g. last night's backup still running
        with pytest.raises(BackupError, match="Another backup or restore"):
            backups.take_backup(cluster)
        with pytest.raises(BackupError, match="Another backup or restore"):
            backups.restore(cluster)
    assert cluster.running()  # nothing was stopped for a refused restore

    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://someone@db.example:5432/wh")
    assert cli.main(["warehouse", "restore"]) == 2
    assert "that server's tooling" in capsys.readouterr().err


def test_a_cluster_nobody_backs_up_archives_nothing(pg_cluster):
    """Unarmed, the archive_command reports each segment done without copying it."""
    with psycopg.connect(pg_cluster.admin_dsn().conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS wal_probe (i int); INSERT INTO wal_probe VALUES (1)")
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + 30
        while conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0] != segment:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert not pg_cluster.archive_marker.exists()
    assert not pg_cluster.archive_dir.exists() or not any(pg_cluster.archive_dir.iterdir())


def test_archive_command_copies_once_and_never_overwrites(tmp_path):
    own = EmbeddedPostgres(root=tmp_path / "pg", port=1, archive_dir=tmp_path / "wal")
    segment = tmp_path / "000000010000000000000007"
    segment.write_bytes(b"one" * 1000)

    def archive(path: Path) -> int:
        command = own.archive_command().replace("%p", str(path)).replace("%f", segment.name)
        return subprocess.run(["sh", "-c", command]).returncode

    own.root.mkdir()
    own.archive_dir.mkdir()
    assert archive(segment) == 0 and not any(own.archive_dir.iterdir())  # not armed: nothing copied
    own.archive_marker.write_text("on")
    assert archive(segment) == 0
    assert (own.archive_dir / segment.name).read_bytes() == segment.read_bytes()
    assert archive(segment) == 0  # a retry of the same bytes
    other = tmp_path / "elsewhere"
    other.write_bytes(b"two" * 1000)
    assert archive(other) != 0  # a different file: refused
    assert (own.archive_dir / segment.name).read_bytes() == segment.read_bytes()
    assert sorted(p.name for p in own.archive_dir.iterdir()) == [segment.name]
    shutil.rmtree(own.archive_dir)
    assert archive(segment) != 0  # archive gone: loud, not lost
