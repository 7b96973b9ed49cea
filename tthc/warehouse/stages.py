"""Which login each stage of the pipeline uses: stage_dsn("loader"|"transformer"|"publisher"|"bi").

Resolution, first that applies:
1. an explicit login for the stage: the Airflow connection `warehouse_<stage>` (inside a task),
   else the environment variable `WAREHOUSE_<STAGE>_DSN`; used as given, never bootstrapped
   (docker-compose.yml: the workers hold these, never the superuser's password);
2. derived from the admin login (the Airflow connection `warehouse`, else WAREHOUSE_DSN, else the
   embedded cluster's superuser): the idempotent bootstrap (tthc.warehouse.roles.apply_roles)
   runs as the admin, then the stage logs in as its role.

A derived role's password is TTHC_<ROLE>_PASSWORD (e.g. TTHC_LOADER_PASSWORD) when set; else
an HMAC of the admin's password, so it differs per cluster, is never stored, and the derivation
is the same in every process (concurrent tasks never fight over it); when the admin has no
password (peer or trust authentication) a random one is generated once and kept, mode 600, in
.local/roles/<host>-<port>/<role>.password.

as_stage(dsn, stage) is the same switch for library functions handed a DSN (dbt, the gate, the
marts swap, the package writer, the extractors): a stage role's DSN is kept as it is, an admin's
is bootstrapped and replaced by the stage's role.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import psycopg

from tthc.paths import LOCAL
from tthc.warehouse.dsn import Dsn
from tthc.warehouse.roles import BI, LOADER, PUBLISHER, ROLES, TRANSFORMER, apply_roles

STAGES = {"loader": LOADER, "transformer": TRANSFORMER, "publisher": PUBLISHER, "bi": BI}
_admin_checked: dict[Dsn, bool] = {}


def role_of(stage: str) -> str:
    try:
        return STAGES[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}") from None


def password_env(role: str) -> str:
    """TTHC_LOADER_PASSWORD for tthc_loader, …"""
    return f"TTHC_{role.removeprefix('tthc_').upper()}_PASSWORD"


def role_password(admin: Dsn, role: str) -> str:
    """The derived login password of `role` on the cluster `admin` reaches (see the module doc)."""
    explicit = os.environ.get(password_env(role))
    if explicit:
        return explicit
    if admin.password:
        digest = hmac.new(admin.password.encode(), f"tthc-role-password:v1:{role}".encode(), hashlib.sha256)
        return digest.hexdigest()[:40]
    path = LOCAL / "roles" / f"{admin.host}-{admin.port}" / f"{role}.password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _is_admin(dsn: Dsn) -> bool:
    """Whether `dsn` logs in as an admin (superuser or CREATEROLE); asked once per process."""
    if dsn.user in ROLES:
        return False
    if dsn not in _admin_checked:
        with psycopg.connect(dsn.conninfo(), autocommit=True) as conn:
            _admin_checked[dsn] = conn.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
    return _admin_checked[dsn]


def as_stage(dsn: Dsn, stage: str) -> Dsn:
    """`dsn` as the stage's login: unchanged when it is not an admin's; else bootstrapped and
    with the stage role's user and password."""
    role = role_of(stage)
    if not _is_admin(dsn):
        return dsn
    password = role_password(dsn, role)
    apply_roles(dsn.conninfo(), {role: password})
    return dsn.with_user(role, password)


def as_stage_conninfo(conninfo: str, stage: str) -> str:
    """as_stage for callers that hold a postgresql:// URL (other conninfo forms pass unchanged)."""
    if not conninfo.startswith(("postgresql://", "postgres://")):
        return conninfo
    return as_stage(Dsn.parse(conninfo), stage).conninfo()


def bootstrap(admin: Dsn) -> None:
    """Roles (each with its password), schemas, owners, grants: what a deployment's one-shot
    bootstrap runs (`tthc warehouse bootstrap`), and what deriving a stage's login runs anyway."""
    apply_roles(admin.conninfo(), {role: role_password(admin, role) for role in ROLES})


def explicit_dsn(stage: str) -> Dsn | None:
    """The stage's own login when one is configured (Airflow connection, then environment)."""
    from tthc.orchestration.connections import airflow_connection, dsn_of

    conn = airflow_connection(f"warehouse_{stage}")
    if conn is not None:
        return dsn_of(conn)
    url = os.environ.get(f"WAREHOUSE_{stage.upper()}_DSN")
    return Dsn.parse(url) if url else None


def admin_dsn(start: bool = True) -> Dsn:
    """The admin login: the Airflow connection `warehouse`, WAREHOUSE_DSN, or the embedded cluster."""
    from tthc.orchestration.connections import airflow_connection, dsn_of
    from tthc.warehouse import resolve_dsn

    conn = airflow_connection("warehouse")
    return dsn_of(conn) if conn is not None else resolve_dsn(start)


def stage_dsn(stage: str) -> Dsn:
    """The login `stage` connects with (see the module doc)."""
    role_of(stage)
    return explicit_dsn(stage) or as_stage(admin_dsn(), stage)
