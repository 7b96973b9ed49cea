import os
import stat

import psycopg
import pytest

import tthc.warehouse.embedded as embedded_mod
from tthc.warehouse import Dsn, EmbeddedPostgres, EmbeddedWarehouseError


def test_cluster_listens_on_loopback_only(pg_cluster):
    with psycopg.connect(pg_cluster.admin_dsn().conninfo()) as conn:
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        tz = conn.execute("SHOW timezone").fetchone()[0]
    assert listen == "127.0.0.1"
    assert tz == "Asia/Ho_Chi_Minh"


def test_password_file_is_private(pg_cluster):
    mode = stat.S_IMODE(os.stat(pg_cluster.password_file).st_mode)
    assert mode == 0o600


def test_start_is_idempotent_and_creates_the_database(pg_cluster):
    dsn = pg_cluster.start()
    assert dsn.dbname == "tthc"
    with psycopg.connect(dsn.conninfo()) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "tthc"


def test_wrong_password_is_refused(pg_cluster):
    bad = pg_cluster.admin_dsn().with_user("tthc_admin", "not-the-password")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bad.conninfo(), connect_timeout=5)


def test_missing_binaries_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("TTHC_PG_BIN", str(tmp_path))
    monkeypatch.setattr(embedded_mod, "BIN_CANDIDATES", [])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EmbeddedWarehouseError, match="apt-get install postgresql"):
        EmbeddedPostgres(root=tmp_path / "pg", port=1).init()


def test_dsn_round_trip_and_redaction():
    dsn = Dsn.parse("postgresql://u%40x:p%2Fw@db.example:6543/wh")
    assert (dsn.user, dsn.password, dsn.host, dsn.port, dsn.dbname) == ("u@x", "p/w", "db.example", 6543, "wh")
    assert Dsn.parse(dsn.url()) == dsn
    assert "p/w" not in repr(dsn) and "p%2Fw" not in str(dsn)
    assert dsn.dbt_env()["TTHC_PG_PORT"] == "6543"
