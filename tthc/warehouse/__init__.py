"""Which warehouse to use: WAREHOUSE_DSN if set, else the embedded cluster; stage_dsn(stage) is
the login each stage of the pipeline uses (tthc/warehouse/stages.py)."""

from __future__ import annotations

import os
from pathlib import Path

from tthc.paths import LOCAL
from tthc.warehouse.dsn import Dsn
from tthc.warehouse.embedded import DEFAULT_PORT, EmbeddedPostgres, EmbeddedWarehouseError

__all__ = [
    "Dsn",
    "EmbeddedPostgres",
    "EmbeddedWarehouseError",
    "as_stage",
    "embedded_cluster",
    "resolve_dsn",
    "stage_dsn",
]


def embedded_cluster() -> EmbeddedPostgres:
    root = Path(os.environ.get("TTHC_PG_ROOT", LOCAL / "pg"))
    port = int(os.environ.get("TTHC_PG_PORT", DEFAULT_PORT))
    # Backups and the WAL archive: beside the cluster by default (.local/backups), elsewhere
    # (another disk) when set; see docs/runbooks/warehouse-restore.md.
    backups = os.environ.get("TTHC_PG_BACKUPS") or None
    archive = os.environ.get("TTHC_PG_ARCHIVE") or None
    return EmbeddedPostgres(
        root=root, port=port, backups_dir=backups and Path(backups), archive_dir=archive and Path(archive)
    )


def resolve_dsn(start: bool = True) -> Dsn:
    """The warehouse to work on; starts the embedded cluster when it is the one."""
    url = os.environ.get("WAREHOUSE_DSN")
    if url:
        return Dsn.parse(url)
    cluster = embedded_cluster()
    if start:
        return cluster.start()
    return cluster.admin_dsn().with_database("tthc")


from tthc.warehouse.stages import as_stage, stage_dsn  # noqa: E402  (stages imports this package's modules)
