"""Per-unit login roles: a unit's people log in as their unit's role and read, through row-level
security, the actions lists of their unit's subtree, handlers' names included (docs/acting-today.md, §11,
docs/decisions/008-unit-row-level-security.md).

`tthc warehouse unit-login create --unit U [--password-file F]` (and `list`, `drop`), as the admin
like `tthc warehouse bootstrap`: a LOGIN role named after the unit code (`000.17.22.H56` →
`tthc_unit_000_17_22_h56`), no privilege of its own but CONNECT on this database, a member of the
NOLOGIN group tthc_unit_reader (which the policies name), and its row in meta.unit_logins; both in
one transaction. The password is sent to the server only as a SCRAM verifier computed here, so
it is in no statement a server log could keep, and this module never logs or prints it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from tthc.warehouse.roles import TRANSFORMER, UNIT_LOGINS, UNIT_LOGINS_DDL, UNIT_READER, apply_roles

log = logging.getLogger(__name__)

PREFIX = "tthc_unit_"
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
_UNIT_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")


class UnitLoginError(ValueError):
    """A unit login cannot be created or dropped as asked; the message says why (Vietnamese)."""


@dataclass(frozen=True)
class UnitLogin:
    role_name: str
    unit_code: str
    created_at: datetime
    can_login: bool  # the role still exists and logs in


def role_name_for(unit_code: str) -> str:
    """`tthc_unit_` + the code lower-cased with every character but a-z and 0-9 made `_`; a
    code too long for an identifier keeps a 10-character hash of itself at the end."""
    code = unit_code.strip()
    if not _UNIT_CODE.match(code):
        raise UnitLoginError(f"mã đơn vị không hợp lệ: {unit_code!r} (chỉ chữ, số, '.', '_' và '-')")
    name = PREFIX + re.sub(r"[^a-z0-9]", "_", code.lower())
    if len(name) > _MAX_IDENTIFIER:
        digest = hashlib.sha256(code.encode()).hexdigest()[:10]
        name = name[: _MAX_IDENTIFIER - 11] + "_" + digest
    return name


def read_password_file(path: Path) -> str:
    """The first line of `path`, without its line ending; an empty one is refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnitLoginError(f"không đọc được tệp mật khẩu {path}: {exc.strerror}") from None
    password = text.splitlines()[0] if text else ""
    if len(password) < 12:
        raise UnitLoginError(f"mật khẩu trong {path} quá ngắn (cần ít nhất 12 ký tự)")
    return password


def write_new_password(path: Path) -> str:
    """A random password in a new file (mode 600) at `path`, for the admin to hand over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    try:
        fd = path.open("x", encoding="utf-8")
    except FileExistsError:
        raise UnitLoginError(f"tệp {path} đã có: xoá nó hoặc dùng --password-file") from None
    with fd:
        path.chmod(0o600)
        fd.write(password + "\n")
    return password


def _unit(conn: psycopg.Connection, unit_code: str) -> tuple[date | None, str | None]:
    """(valid_to, successor) of the unit in core.dim_unit; UnitLoginError when unknown."""
    if not conn.execute("SELECT to_regclass('core.dim_unit') IS NOT NULL").fetchone()[0]:
        raise UnitLoginError("kho chưa có danh mục đơn vị (core.dim_unit): chạy `tthc build` trước")
    row = conn.execute(
        "SELECT valid_to, successor_unit_code FROM core.dim_unit WHERE unit_code = %s", (unit_code,)
    ).fetchone()
    if row is None:
        raise UnitLoginError(f"không có đơn vị mã {unit_code} trong danh mục đơn vị (core.dim_unit)")
    return row


def _has_mapping(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (UNIT_LOGINS,)).fetchone()[0]


def _ensure_mapping(conn: psycopg.Connection) -> None:
    """meta.unit_logins, made as the transformer: it owns it (roles.TRANSFORMER_META) and its
    definer function reads it; the admin writes it."""
    if not _has_mapping(conn):
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(TRANSFORMER)))
        conn.execute(UNIT_LOGINS_DDL)
        conn.execute("RESET ROLE")


def create_unit_login(admin_conninfo: str, unit_code: str, password: str) -> tuple[str, str | None]:
    """Create the unit's login role and its mapping row in one transaction; returns the role name
    and, for a unit no longer valid today, a notice for people (its login reads the rows of the
    days its subtree existed: history and lists as of a past T)."""
    unit_code = unit_code.strip()
    role = role_name_for(unit_code)
    apply_roles(admin_conninfo)  # the group, meta.unit_logins and the definer function exist
    ident = sql.Identifier
    with psycopg.connect(admin_conninfo) as conn:
        valid_to, successor = _unit(conn, unit_code)
        today = conn.execute("SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date").fetchone()[0]
        notice = None
        if valid_to is not None and valid_to < today:
            notice = (
                f"đơn vị {unit_code} đã hết hiệu lực sau ngày {valid_to:%d/%m/%Y}: tài khoản chỉ đọc được "
                "các dòng đến ngày đó" + (f"; đơn vị kế nhiệm: {successor}" if successor else "")
            )
        _ensure_mapping(conn)
        mapped = conn.execute(f"SELECT unit_code FROM {UNIT_LOGINS} WHERE role_name = %s", (role,)).fetchone()
        if mapped is not None:
            raise UnitLoginError(
                f"đơn vị {mapped[0]} đã có tài khoản {role}: xoá nó trước "
                f"(`tthc warehouse unit-login drop --unit {mapped[0]}`) nếu cần tạo lại"
            )
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            raise UnitLoginError(
                f"vai trò {role} đã có trên máy chủ (không phải tài khoản đơn vị của kho này): không tạo đè"
            )
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}"
            ).format(ident(role), sql.Literal(verifier))
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(ident(UNIT_READER), ident(role)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident(database), ident(role)))
        conn.execute(f"INSERT INTO {UNIT_LOGINS} (role_name, unit_code) VALUES (%s, %s)", (role, unit_code))
    log.info("unit login %s created for unit %s", role, unit_code)
    return role, notice


def list_unit_logins(admin_conninfo: str) -> list[UnitLogin]:
    apply_roles(admin_conninfo)
    with psycopg.connect(admin_conninfo) as conn:
        if not _has_mapping(conn):
            return []
        rows = conn.execute(
            f"SELECT l.role_name, l.unit_code, l.created_at, coalesce(r.rolcanlogin, false) "
            f"FROM {UNIT_LOGINS} l LEFT JOIN pg_roles r ON r.rolname = l.role_name "
            f"ORDER BY l.unit_code, l.role_name"
        ).fetchall()
    return [UnitLogin(*row) for row in rows]


def drop_unit_login(admin_conninfo: str, unit_code: str) -> str:
    """Drop the unit's login role and its mapping row in one transaction; returns the role name."""
    unit_code = unit_code.strip()
    apply_roles(admin_conninfo)
    ident = sql.Identifier
    with psycopg.connect(admin_conninfo) as conn:
        rows = (
            conn.execute(f"SELECT role_name FROM {UNIT_LOGINS} WHERE unit_code = %s", (unit_code,)).fetchall()
            if _has_mapping(conn)
            else []
        )
        if not rows:
            raise UnitLoginError(f"đơn vị {unit_code} không có tài khoản đăng nhập trong kho này")
        database = conn.execute("SELECT current_database()").fetchone()[0]
        for (role,) in rows:
            conn.execute(f"DELETE FROM {UNIT_LOGINS} WHERE role_name = %s", (role,))
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(ident(database), ident(role)))
                try:
                    with conn.transaction():
                        conn.execute(sql.SQL("DROP ROLE {}").format(ident(role)))
                except psycopg.errors.DependentObjectsStillExist as exc:
                    raise UnitLoginError(
                        f"không xoá được vai trò {role}: nó còn quyền hoặc đối tượng ở nơi khác "
                        f"({exc.diag.message_detail or exc})"
                    ) from None
    log.info("unit login(s) %s dropped for unit %s", ", ".join(r for (r,) in rows), unit_code)
    return ", ".join(r for (r,) in rows)
