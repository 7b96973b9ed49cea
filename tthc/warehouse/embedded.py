"""The embedded warehouse: a PostgreSQL cluster the project starts itself.

Used when no WAREHOUSE_DSN is set. The cluster lives under a project-local folder
(`.local/pg` by default, git-ignored), listens on 127.0.0.1 and a private socket folder
only, on a port of the project's own, and is made from the machine's PostgreSQL binaries.

PostgreSQL refuses to run as root, so when we are root the server programs run as the
`postgres` system user through `runuser`, with the data and socket folders owned by it.

Every cluster is set up for a continuous WAL archive (tthc.warehouse.backup and
docs/runbooks/warehouse-restore.md): wal_level=replica, archive_mode=on and an archive_command
that copies each finished 16 MB segment into the archive folder, never over a different file.
The command copies nothing until the first base backup arms the archive (a marker file beside
the data folder): WAL without a base backup to replay it onto restores nothing, and a cluster
nobody backs up (tests, benchmarks) must not fill a disk with it.
"""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tthc.warehouse.dsn import Dsn

log = logging.getLogger(__name__)

SUPERUSER = "tthc_admin"
DATABASE = "tthc"
DEFAULT_PORT = 55432
BIN_CANDIDATES = [
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/14/bin",
    "/usr/local/pgsql/bin",
    "/usr/pgsql-16/bin",
    "/usr/pgsql-15/bin",
]
INSTALL_HINT = (
    "No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found. Install them, e.g. "
    "'apt-get install postgresql' (Debian/Ubuntu) or 'dnf install postgresql-server' (Fedora/RHEL), "
    "or point TTHC_PG_BIN at the folder that holds initdb and pg_ctl, "
    "or set WAREHOUSE_DSN to use an existing PostgreSQL server instead."
)


# Archive a segment that is not full after this long, so a quiet warehouse still archives its
# last changes: the most a lost data folder costs beyond the archive. PostgreSQL forces no switch
# when nothing was written since the last one, so an idle cluster adds no segments.
ARCHIVE_TIMEOUT = "5min"
ARCHIVE_ARMED = "wal-archive.on"  # in the cluster root; written by the first base backup
_UNSAFE_IN_COMMAND = set("'\"%$`\\\n")


class EmbeddedWarehouseError(RuntimeError):
    pass


def find_pg_bin() -> Path:
    """The folder holding initdb/pg_ctl: TTHC_PG_BIN, then the usual places, then PATH."""
    explicit = os.environ.get("TTHC_PG_BIN")
    candidates = [explicit] if explicit else []
    candidates += BIN_CANDIDATES
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    raise EmbeddedWarehouseError(INSTALL_HINT)


@dataclass
class EmbeddedPostgres:
    """One local cluster under `root`: data in root/data, socket in root/run."""

    root: Path
    port: int = DEFAULT_PORT
    backups_dir: Path | None = None  # base backups; default: `backups` beside the cluster root
    archive_dir: Path | None = None  # the WAL archive; default: backups_dir/wal

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.password_file = self.root / "superuser.password"
        self.log_file = self.root / "server.log"
        self.backups_dir = Path(self.backups_dir or self.root.parent / "backups").absolute()
        self.archive_dir = Path(self.archive_dir or self.backups_dir / "wal").absolute()
        self.archive_marker = self.root / ARCHIVE_ARMED

    # -- running the server programs as the right user -------------------------------

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(
        self, program: str, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return self.run_as_owner([str(find_pg_bin() / program), *args], check=check, env=env)

    def run_as_owner(
        self, cmd: list[str], check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run `cmd` as the user that owns the cluster's files (postgres when we are root)."""
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd, capture_output=True, text=True, check=check, env={**os.environ, **env} if env else None
        )

    def _own(self, path: Path) -> None:
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _check_reachable(self) -> None:
        """As root, the postgres user must be able to reach the cluster folder."""
        if not self._as_root:
            return
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise EmbeddedWarehouseError(
                "Running as root needs a 'postgres' system user to own the cluster "
                "(PostgreSQL refuses to run as root). Install the postgresql package, which "
                "creates it, or run as an ordinary user, or set WAREHOUSE_DSN."
            ) from exc
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.root)])
        if probe.returncode != 0:
            raise EmbeddedWarehouseError(
                f"The postgres user cannot write to {self.root}: a parent folder is not "
                "traversable by it. Set TTHC_PG_ROOT to a folder it can reach (e.g. under /var/tmp)."
            )

    # -- lifecycle ----------------------------------------------------------------------

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self) -> None:
        if self.initialised():
            return
        find_pg_bin()  # fail early with the install hint
        self.root.mkdir(parents=True, exist_ok=True)
        self._own(self.root)
        self._check_reachable()
        self.socket_dir.mkdir(exist_ok=True)
        self._own(self.socket_dir)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
        self.password_file.chmod(0o600)
        # initdb reads the password from a file the postgres user can read: hand it one briefly.
        pwfile = self.root / ".initdb-pw"
        pwfile.write_text(self.password_file.read_text())
        pwfile.chmod(0o600)
        self._own(pwfile)
        try:
            log.info("initialising the embedded warehouse cluster in %s", self.data_dir)
            result = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedWarehouseError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        # Loopback and our own socket folder only; sized for one laptop-class machine.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "timezone": "'Asia/Ho_Chi_Minh'",
            "max_connections": "60",
            "shared_buffers": "'256MB'",
            "work_mem": "'32MB'",
            "maintenance_work_mem": "'256MB'",
            "max_wal_size": "'2GB'",
            "logging_collector": "off",
        }
        with open(self.data_dir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        self.configure_archiving()

    # -- the WAL archive ----------------------------------------------------------------------

    def archive_command(self) -> str:
        """Shell run by the archiver per finished segment (%p its path, %f its name).

        Unarmed: report success without copying (the segment is recycled). Armed: a segment
        already archived counts as done only if it has the same bytes (a retry after a crash
        between the copy and PostgreSQL noting it); a different file of that name is never
        overwritten and archiving stops, loudly, in server.log and pg_stat_archiver. The copy is
        written under a temporary name, flushed to disk, then renamed, so the archive never holds
        half a segment."""
        for folder in (self.archive_dir, self.root):
            if _UNSAFE_IN_COMMAND & set(str(folder)):
                raise EmbeddedWarehouseError(
                    f"{folder}: quotes, %, $, backslashes or newlines cannot be used in the "
                    "archive or cluster path (it is written into archive_command); choose another "
                    "TTHC_PG_ARCHIVE / TTHC_PG_ROOT"
                )
        a = self.archive_dir
        return (
            f'if [ ! -f "{self.archive_marker}" ]; then exit 0; '
            f'elif [ -f "{a}/%f" ]; then cmp -s "%p" "{a}/%f"; '
            f'else cp "%p" "{a}/%f.part" && sync "{a}/%f.part" && mv "{a}/%f.part" "{a}/%f"; fi'
        )

    def restore_command(self) -> str:
        return f'cp "{self.archive_dir}/%f" "%p"'

    def archive_settings(self) -> dict[str, str]:
        return {
            "wal_level": "replica",
            "archive_mode": "on",
            "archive_command": f"'{self.archive_command()}'",
            "archive_timeout": f"'{ARCHIVE_TIMEOUT}'",
        }

    def write_settings(self, settings: dict[str, str | None], data_dir: Path | None = None) -> None:
        """Set (or, with None, remove) keys in postgresql.auto.conf of a stopped cluster, once each."""
        conf = (data_dir or self.data_dir) / "postgresql.auto.conf"
        kept = [
            line
            for line in conf.read_text(encoding="utf-8").splitlines()
            if line.split("=", 1)[0].strip() not in settings
        ]
        kept += [f"{key} = {value}" for key, value in settings.items() if value is not None]
        conf.write_text("\n".join(kept) + "\n", encoding="utf-8")  # same file: owner and mode kept

    def configure_archiving(self) -> None:
        """Archiving settings for a stopped cluster, new or made before archiving existed
        (archive_mode is read only at server start). Idempotent."""
        self.write_settings(self.archive_settings())

    def arm_archive(self) -> None:
        """Create the archive folder (owned by the server's user) and start archiving into it."""
        for folder in (self.backups_dir, self.archive_dir):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)  # a copy of the warehouse: personal data
            self._own(folder)
        if self._as_root:
            probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.archive_dir)])
            if probe.returncode != 0:
                raise EmbeddedWarehouseError(
                    f"The postgres user cannot write to {self.archive_dir}: a parent folder is not "
                    "traversable by it. Set TTHC_PG_BACKUPS / TTHC_PG_ARCHIVE to folders it can reach."
                )
        if not self.archive_marker.exists():
            self.archive_marker.write_text(
                f"WAL segments are archived into {self.archive_dir} (see tthc.warehouse.backup).\n"
                "Removing this file stops archiving: point-in-time restore then ends here.\n"
            )

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def start(self) -> Dsn:
        self.init()
        if not self.running():
            self.configure_archiving()
            log.info("starting the embedded warehouse on 127.0.0.1:%s", self.port)
            self.log_file.touch()
            self._own(self.log_file)
            result = self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port}",
                check=False,
            )
            if result.returncode != 0:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise EmbeddedWarehouseError(
                    f"pg_ctl start failed (port {self.port} in use?):\n{result.stderr}\n{tail}"
                )
        dsn = self.admin_dsn()
        self._ensure_database(dsn)
        return dsn.with_database(DATABASE)

    def stop(self) -> None:
        if self.running():
            log.info("stopping the embedded warehouse")
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- connection ---------------------------------------------------------------------

    def admin_dsn(self) -> Dsn:
        return Dsn(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password_file.read_text().strip(),
            dbname="postgres",
        )

    def _ensure_database(self, dsn: Dsn) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(dsn.conninfo(), autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                # CREATE DATABASE cannot run in a transaction block: autocommit, one statement.
                conn.execute(f"CREATE DATABASE \"{DATABASE}\" ENCODING 'UTF8' TEMPLATE template0")
