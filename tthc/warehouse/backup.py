"""Backups of the embedded warehouse, and point-in-time restore from them.

A backup is a base backup (pg_basebackup, plain format, so pg_verifybackup can check every file
and the WAL it needs) plus the continuous WAL archive the cluster writes from the first backup on
(tthc.warehouse.embedded). Restoring copies a base backup into a new data folder and lets
PostgreSQL replay the archive up to a chosen time, or to its end.

    <backups>/20261207T013000Z/data/          the base backup (with PostgreSQL's backup_manifest)
    <backups>/20261207T013000Z/backup.json    what it is: times, WAL positions, verification
    <backups>/wal/                            the WAL archive, pruned to the oldest kept backup

Only for the embedded cluster: a server behind WAREHOUSE_DSN is backed up with its own tooling.
See docs/runbooks/warehouse-restore.md.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from tthc.warehouse.embedded import SUPERUSER, EmbeddedPostgres, EmbeddedWarehouseError

log = logging.getLogger(__name__)

LABEL = "backup.json"
KEEP = 3  # base backups kept (and the archive back to the oldest of them)
NOT_EMBEDDED = (
    "The warehouse is a PostgreSQL server of its own (WAREHOUSE_DSN is set): back it up and "
    "restore it with that server's tooling (pg_basebackup + WAL archive, pgBackRest, barman, or "
    "the provider's snapshots and point-in-time recovery). `tthc warehouse backup|restore` manage "
    "only the embedded cluster. See docs/runbooks/warehouse-restore.md."
)
_NAME = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
_START_WAL = re.compile(r"^START WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)$", re.M)
_RECOVERY_SETTINGS = ("restore_command", "recovery_target_time", "recovery_target_action", "recovery_target_timeline")


class BackupError(EmbeddedWarehouseError):
    pass


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    label: dict

    @property
    def data(self) -> Path:
        return self.path / "data"

    @property
    def finished_at(self) -> datetime:
        """The earliest time it can be restored to (its end, with the WAL it needs in it)."""
        return datetime.fromisoformat(self.label["finished_at"])

    @property
    def start_wal_file(self) -> str:
        return self.label["start_wal_file"]


@dataclass(frozen=True)
class Restored:
    backup: Backup
    target: datetime | None  # None: the end of the archive
    reached: datetime | None  # the last transaction replayed (None: none after the backup)
    timeline: int
    moved_aside: Path | None  # the data folder that was there before


def _now() -> datetime:
    return datetime.now(UTC)


def _pg_env(cluster: EmbeddedPostgres) -> dict[str, str]:
    # The password reaches the client programs through their environment, never their arguments.
    return {"PGPASSWORD": cluster.password_file.read_text().strip(), "PGCONNECT_TIMEOUT": "10"}


def _connect(cluster: EmbeddedPostgres, timeout: int = 5) -> psycopg.Connection:
    return psycopg.connect(cluster.admin_dsn().conninfo(), autocommit=True, connect_timeout=timeout)


@contextmanager
def _one_at_a_time(cluster: EmbeddedPostgres):
    """One backup or restore at a time (a cron run that overlaps a slow one, a restore meanwhile)."""
    cluster.backups_dir.mkdir(parents=True, exist_ok=True)
    with open(cluster.backups_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"Another backup or restore of this warehouse is running "
                f"({cluster.backups_dir}/.lock); wait for it to end."
            ) from None
        yield


# -- listing ------------------------------------------------------------------------------------


def list_backups(cluster: EmbeddedPostgres) -> list[Backup]:
    """Complete backups (those with a label), oldest first."""
    if not cluster.backups_dir.is_dir():
        return []
    out = []
    for path in sorted(cluster.backups_dir.iterdir()):
        label = path / LABEL
        if _NAME.match(path.name) and label.is_file():
            out.append(Backup(path.name, path, json.loads(label.read_text())))
    return out


def archive_status(cluster: EmbeddedPostgres) -> dict:
    """What the archive holds, and, when the cluster runs, what the archiver last did."""
    segments = (
        sorted(p for p in cluster.archive_dir.glob("*") if re.fullmatch(r"[0-9A-F]{24}", p.name))
        if cluster.archive_dir.is_dir()
        else []
    )
    status = {
        "archive": str(cluster.archive_dir),
        "armed": cluster.archive_marker.exists(),
        "segments": len(segments),
        "bytes": sum(p.stat().st_size for p in segments),
        "oldest": segments[0].name if segments else None,
        "newest": segments[-1].name if segments else None,
    }
    if cluster.running():
        with _connect(cluster) as conn:
            row = conn.execute(
                "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
                "last_failed_wal, last_failed_time FROM pg_stat_archiver"
            ).fetchone()
        status["archiver"] = dict(
            zip(
                (
                    "archived_count",
                    "last_archived_wal",
                    "last_archived_time",
                    "failed_count",
                    "last_failed_wal",
                    "last_failed_time",
                ),
                row,
            )
        )
    return status


# -- backing up ---------------------------------------------------------------------------------


def _check_archiving(cluster: EmbeddedPostgres) -> None:
    with _connect(cluster) as conn:
        mode, level, command = (
            conn.execute(f"SHOW {name}").fetchone()[0] for name in ("archive_mode", "wal_level", "archive_command")
        )
    if mode != "on" or level not in ("replica", "logical") or command != cluster.archive_command():
        raise BackupError(
            f"The running warehouse does not archive its WAL into {cluster.archive_dir} "
            f"(archive_mode={mode}, wal_level={level}): the settings are written at start but "
            "archive_mode takes effect only at a server start. Restart it at a quiet moment "
            "(`tthc warehouse stop && tthc warehouse start`), then back up again."
        )


def _new_name(cluster: EmbeddedPostgres) -> str:
    base = _now().strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (cluster.backups_dir / name).exists() or (cluster.backups_dir / f".{name}.part").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def take_backup(cluster: EmbeddedPostgres, keep: int = KEEP) -> Backup:
    """A verified base backup of the running cluster; then prune to the newest `keep`."""
    if not cluster.running():
        raise BackupError(
            f"The embedded warehouse is not running ({cluster.data_dir}): "
            "start it (`tthc warehouse start`) to back it up."
        )
    with _one_at_a_time(cluster):
        return _take_backup(cluster, keep)


def _take_backup(cluster: EmbeddedPostgres, keep: int) -> Backup:
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    _check_archiving(cluster)
    # Armed before the backup starts: every segment from the backup's start on is archived.
    cluster.arm_archive()
    for stale in cluster.backups_dir.glob(".*.part"):  # a backup that was killed: never listed, never usable
        log.warning("removing %s, left by a backup that did not finish", stale.name)
        shutil.rmtree(stale, ignore_errors=True)
    name = _new_name(cluster)
    work = cluster.backups_dir / f".{name}.part"  # renamed to `name` only once complete
    work.mkdir(mode=0o700)
    cluster._own(work)
    started = _now()
    log.info("base backup %s of %s into %s", name, cluster.data_dir, cluster.backups_dir)
    result = cluster._run(
        "pg_basebackup",
        "-D",
        str(work / "data"),
        "--format=plain",
        "--wal-method=stream",
        "--checkpoint=fast",
        "--no-password",
        f"--label=tthc {name}",
        "-h",
        "127.0.0.1",
        "-p",
        str(cluster.port),
        "-U",
        SUPERUSER,
        check=False,
        env=_pg_env(cluster),
    )
    if result.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"pg_basebackup failed:\n{result.stderr.strip()}")
    finished = _now()
    verify = cluster._run("pg_verifybackup", str(work / "data"), check=False)
    if verify.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(
            f"pg_verifybackup found the new backup damaged, so it was not kept:\n{verify.stdout}{verify.stderr}"
        )
    backup_label = (work / "data" / "backup_label").read_text()
    start = _START_WAL.search(backup_label)
    manifest = json.loads((work / "data" / "backup_manifest").read_text())
    wal = manifest["WAL-Ranges"]
    with _connect(cluster) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        databases = [d for (d,) in conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")]
    label = {
        "name": name,
        "kind": "pg_basebackup, plain format, WAL streamed in; continuous WAL archive alongside",
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "earliest_restore_time": finished.isoformat(),
        "start_lsn": start.group(1),
        "start_wal_file": start.group(2),
        "end_lsn": wal[-1]["End-LSN"],
        "timeline": wal[-1]["Timeline"],
        "server_version": version,
        "databases": databases,
        "bytes": sum(f["Size"] for f in manifest["Files"]),
        "verified": "pg_verifybackup: " + (verify.stdout.strip().splitlines() or ["ok"])[-1],
        "cluster": str(cluster.root),
        "archive": str(cluster.archive_dir),
        "restore": f"tthc warehouse restore --backup {name} [--to TIME]",
    }
    (work / LABEL).write_text(json.dumps(label, indent=2) + "\n")
    # The superuser's password matches the roles inside the backup: kept with it (mode 600).
    secret = work / cluster.password_file.name
    shutil.copyfile(cluster.password_file, secret)
    secret.chmod(0o600)
    work.rename(cluster.backups_dir / name)
    backup = Backup(name, cluster.backups_dir / name, label)
    prune(cluster, keep)
    return backup


def prune(cluster: EmbeddedPostgres, keep: int = KEEP) -> tuple[list[str], int]:
    """Remove all but the newest `keep` backups, and archived WAL older than the oldest kept one
    (pg_archivecleanup). Returns the backups removed and how many WAL files went."""
    backups = list_backups(cluster)
    removed = list(backups[:-keep]) if len(backups) > keep else []
    for backup in removed:
        log.info("removing base backup %s (keeping the newest %d)", backup.name, keep)
        shutil.rmtree(backup.path)
    kept = backups[len(removed) :]
    if not kept or not cluster.archive_dir.is_dir():
        return [b.name for b in removed], 0
    before = {p.name for p in cluster.archive_dir.iterdir()}
    result = cluster._run("pg_archivecleanup", str(cluster.archive_dir), kept[0].start_wal_file, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_archivecleanup failed:\n{result.stderr.strip()}")
    gone = len(before - {p.name for p in cluster.archive_dir.iterdir()})
    return [b.name for b in removed], gone


# -- restoring ----------------------------------------------------------------------------------


def choose_backup(cluster: EmbeddedPostgres, name: str | None, target: datetime | None) -> Backup:
    backups = list_backups(cluster)
    if not backups:
        raise BackupError(
            f"No backup yet in {cluster.backups_dir}: nothing to restore from. "
            "Take one with `tthc warehouse backup` (and schedule it)."
        )
    if name:
        matches = [b for b in backups if b.name == name]
        if not matches:
            raise BackupError(
                f"No backup named {name} in {cluster.backups_dir}; there are: " + ", ".join(b.name for b in backups)
            )
        backup = matches[0]
        if target is not None and target < backup.finished_at:
            raise BackupError(
                f"{target.isoformat()} is before backup {name} ended "
                f"({backup.finished_at.isoformat()}): a backup restores only to times "
                "after its end. Choose a later time or an older backup."
            )
        return backup
    if target is None:
        return backups[-1]
    usable = [b for b in backups if b.finished_at <= target]
    if not usable:
        raise BackupError(
            f"{target.isoformat()} is before the end of the oldest backup kept "
            f"({backups[0].name}, ended {backups[0].finished_at.isoformat()}): "
            "no backup can restore to it."
        )
    return usable[-1]


def restore(
    cluster: EmbeddedPostgres, name: str | None = None, target: datetime | None = None, timeout: float = 6 * 3600
) -> Restored:
    """Replace the cluster's data with a base backup replayed up to `target` (default: the end of
    the archive). The data folder found there is moved aside, never deleted."""
    if target is not None and target.tzinfo is None:
        raise BackupError("the restore time needs a time zone")
    if target is not None and target > _now():
        raise BackupError(
            f"{target.isoformat()} is in the future: leave out --to to restore everything the archive holds."
        )
    backup = choose_backup(cluster, name, target)
    with _one_at_a_time(cluster):
        return _restore(cluster, backup, target, timeout)


def _restore(cluster: EmbeddedPostgres, backup: Backup, target: datetime | None, timeout: float) -> Restored:
    log.info("restoring backup %s to %s", backup.name, target.isoformat() if target else "the end of the archive")
    # A clean stop (fast: sessions are cut) closes the current WAL segment and waits for the archiver
    # to copy it, so a restore on a running warehouse reaches its last changes (PostgreSQL's
    # shutdown does this whenever archiving is on).
    cluster.stop()
    stamp = _now().strftime("%Y%m%dT%H%M%SZ")
    moved_aside = None
    if cluster.data_dir.exists():
        moved_aside = cluster.root / f"data.before-restore-{stamp}"
        cluster.data_dir.rename(moved_aside)
        log.warning("the data folder that was there is kept at %s (remove it once the restore is checked)", moved_aside)
    # A whole lost cluster root: the folders and the superuser's password come back first.
    cluster.root.mkdir(parents=True, exist_ok=True)
    cluster._own(cluster.root)
    cluster.socket_dir.mkdir(exist_ok=True)
    cluster._own(cluster.socket_dir)
    if not cluster.password_file.exists():
        shutil.copyfile(backup.path / cluster.password_file.name, cluster.password_file)
        cluster.password_file.chmod(0o600)
    work = cluster.root / f"data.restoring-{stamp}"
    cluster.run_as_owner(["cp", "-a", str(backup.data), str(work)])
    (work / "backup_manifest").unlink(missing_ok=True)  # the backup's, not the cluster's
    signal = work / "recovery.signal"
    signal.touch()
    cluster._own(signal)
    cluster.write_settings(
        {
            **cluster.archive_settings(),
            "restore_command": f"'{cluster.restore_command()}'",
            "recovery_target_timeline": "'latest'",
            "recovery_target_time": f"'{target.isoformat(sep=' ')}'" if target else None,
            "recovery_target_action": "'promote'" if target else None,
        },
        data_dir=work,
    )
    work.rename(cluster.data_dir)
    cluster.arm_archive()
    log_offset = cluster.log_file.stat().st_size if cluster.log_file.exists() else 0
    _start_and_wait_for_recovery(cluster, timeout, log_offset)
    with _connect(cluster) as conn:
        reached = conn.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()[0]
        for setting in _RECOVERY_SETTINGS:  # used once; a later start must not see them
            conn.execute(f"ALTER SYSTEM RESET {setting}")
        conn.execute("SELECT pg_reload_conf()")
        # A checkpoint now, so the timeline is recorded and the next start replays nothing.
        conn.execute("CHECKPOINT")
        timeline = conn.execute("SELECT timeline_id FROM pg_control_checkpoint()").fetchone()[0]
    cluster.start()  # the project's database exists in the backup; this checks it, as every start does
    return Restored(backup, target, reached, timeline, moved_aside)


def _log_since(cluster: EmbeddedPostgres, offset: int) -> str:
    if not cluster.log_file.exists():
        return ""
    with open(cluster.log_file, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _recovery_failed(cluster: EmbeddedPostgres, offset: int) -> BackupError:
    text = _log_since(cluster, offset)
    fatal = [line for line in text.splitlines() if "FATAL" in line or "PANIC" in line]
    if "recovery ended before configured recovery target was reached" in text:
        last = re.findall(r"last completed transaction was at log time (.+)$", text, re.M)
        return BackupError(
            "The archive ends before the requested time: the last change it holds "
            + (f"was committed at {last[-1]}" if last else "is older")
            + ". Restore without --to to recover everything the archive holds. The server is "
            "stopped; its data folder is this failed restore (another restore moves it aside)."
        )
    return BackupError(
        "The restored warehouse did not come up; server.log says:\n" + "\n".join(fatal[-5:] or text.splitlines()[-20:])
    )


def _start_and_wait_for_recovery(cluster: EmbeddedPostgres, timeout: float, log_offset: int) -> None:
    cluster.log_file.touch()
    cluster._own(cluster.log_file)
    # -w returns once the server accepts (read-only) connections, i.e. once the backup is
    # consistent; the replay goes on after it, so we poll until the server leaves recovery.
    result = cluster._run(
        "pg_ctl",
        "start",
        "-w",
        "-t",
        str(int(timeout)),
        "-D",
        str(cluster.data_dir),
        "-l",
        str(cluster.log_file),
        "-o",
        f"-p {cluster.port}",
        check=False,
    )
    if result.returncode != 0:
        raise _recovery_failed(cluster, log_offset)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with _connect(cluster, timeout=2) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
        except psycopg.OperationalError:
            if not cluster.running():
                raise _recovery_failed(cluster, log_offset) from None
        time.sleep(0.2)
    raise BackupError(
        f"The restore was still replaying WAL after {timeout:.0f}s; it goes on in the "
        f"background: see {cluster.log_file}."
    )


# -- the CLI ------------------------------------------------------------------------------------


def _local(value: datetime | None) -> str:
    from extractors.timefmt import LOCAL

    return value.astimezone(LOCAL).isoformat(sep=" ", timespec="seconds") if value else "-"


def cli(args) -> int:
    """`tthc warehouse backup|backups|restore`; a refusal is one clear message, exit status 2."""
    import sys

    try:
        return _cli(args)
    except (EmbeddedWarehouseError, ValueError) as exc:
        print(f"tthc warehouse {args.action}: {exc}", file=sys.stderr)
        return 2


def _cli(args) -> int:
    from extractors.timefmt import LOCAL
    from tthc.warehouse import embedded_cluster

    if os.environ.get("WAREHOUSE_DSN"):
        raise BackupError(NOT_EMBEDDED)
    cluster = embedded_cluster()
    if args.action == "backup":
        keep = args.keep if args.keep is not None else int(os.environ.get("TTHC_PG_KEEP_BACKUPS", KEEP))
        backup = take_backup(cluster, keep=keep)
        print(
            f"backup {backup.name} in {backup.path}: {backup.label['bytes'] / 1e6:.1f} MB, "
            f"{backup.label['verified']}; restorable to any time from {_local(backup.finished_at)} "
            f"to the end of the archive ({cluster.archive_dir})"
        )
    elif args.action == "backups":
        backups = list_backups(cluster)
        if not backups:
            print(f"no backup yet in {cluster.backups_dir}")
        for b in backups:
            print(
                f"{b.name}  ended {_local(b.finished_at)}  {b.label['bytes'] / 1e6:10.1f} MB  "
                f"from WAL {b.start_wal_file}  {b.label['verified']}"
            )
        status = archive_status(cluster)
        print(
            f"archive {status['archive']}: {'archiving' if status['armed'] else 'not armed (no backup yet)'}, "
            f"{status['segments']} segments ({status['bytes'] / 1e6:.1f} MB), "
            f"{status['oldest'] or '-'} .. {status['newest'] or '-'}"
        )
        arch = status.get("archiver")
        if arch:
            print(
                f"archiver: last archived {arch['last_archived_wal'] or '-'} at {_local(arch['last_archived_time'])}; "
                f"{arch['failed_count']} failures (last {arch['last_failed_wal'] or '-'} at "
                f"{_local(arch['last_failed_time'])})"
            )
    elif args.action == "restore":
        target = None
        if args.to:
            try:
                target = datetime.fromisoformat(args.to)
            except ValueError:
                raise BackupError(f"--to {args.to!r} is not an ISO time (e.g. 2026-12-07T01:30:00+07:00)") from None
            target = target if target.tzinfo else target.replace(tzinfo=LOCAL)
        done = restore(cluster, name=args.backup, target=target)
        print(
            f"restored backup {done.backup.name}, replayed to "
            f"{_local(done.reached) if done.reached else 'the end of the backup (no later transaction)'}"
            f" (target: {_local(done.target) if done.target else 'end of the archive'}); now on timeline "
            f"{done.timeline}"
        )
        if done.moved_aside:
            print(
                f"the data folder that was there is kept at {done.moved_aside}: remove it once you have "
                "checked the restore"
            )
        print("take a new base backup now (`tthc warehouse backup`): the restore started a new timeline")
    return 0
