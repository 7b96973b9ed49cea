"""Each stage logs in as its own role and can do its job and nothing else (real logins, real grants).

The warehouse is built the way the pipeline builds it: the superuser bootstraps, the loader
creates and fills raw and its run records, the transformer builds the layers and the marts
(swapped in from the shadow), then every role is tried at what it may and may not do.
"""

import logging

import psycopg
import pytest

from expectations.runner import RESULTS_DDL
from extractors.raw.schema import ensure_raw_schema
from tthc.pipeline.marts import prepare_shadow, swap_in
from tthc.warehouse import Dsn, as_stage, stage_dsn
from tthc.warehouse.roles import (
    BI,
    LOADER,
    PUBLISHER,
    ROLES,
    TRANSFORMER,
    VERSION,
    apply_roles,
    grant_publisher_reads,
    password_matches,
)
from tthc.warehouse.stages import bootstrap, role_password

pytestmark = pytest.mark.slow

PAYLOAD = '{"MaHoSo": "D1", "ChuHoSo": "Nguyễn Văn A", "SoCCCD": "038090001234"}'

LOADER_WORK = f"""
insert into raw.one_stop__ho_so (record_key, payload, payload_hash, batch_id)
values ('D1', '{PAYLOAD}', 'h1', nextval('meta.batch_id_seq'));
insert into meta.extract_runs (batch_id, source, entity, status) values (currval('meta.batch_id_seq'), 'one_stop', 'ho_so', 'success');
insert into meta.watermarks (source, entity, high_watermark) values ('one_stop', 'ho_so', now());
"""

TRANSFORMER_WORK = """
create table staging.stg_dossiers as select record_key as dossier_code from raw.one_stop__ho_so;
create table restricted.dossier_applicants as
    select record_key as dossier_code, payload ->> 'ChuHoSo' as applicant_name from raw.one_stop__ho_so;
create table core.fct_dossier as select dossier_code, 'U1'::text as unit_code from staging.stg_dossiers;
create table core.dim_unit as select 'P'::text as unit_code, null::text as parent_unit_code;
create table intermediate.int_unit_closure as select 'P'::text as ancestor, 'U1'::text as descendant;
create table marts.mart_metric_monthly as select 'P'::text as unit_code, 19.0 as points;
"""


def as_role(admin: Dsn, role: str) -> Dsn:
    return admin.with_user(role, role_password(admin, role))


def refused(conn: psycopg.Connection, statement: str) -> bool:
    """Whether the server refuses `statement` for lack of a privilege (any other error fails the test)."""
    try:
        if conn.autocommit:  # CREATE DATABASE runs outside a transaction block
            conn.execute(statement)
        else:
            with conn.transaction():
                conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture
def warehouse(fresh_db):
    """A small warehouse built by the roles, as a night builds it."""
    bootstrap(fresh_db)
    with psycopg.connect(as_role(fresh_db, LOADER).conninfo()) as conn:
        ensure_raw_schema(conn)
        conn.execute(LOADER_WORK)
    with psycopg.connect(as_role(fresh_db, TRANSFORMER).conninfo()) as conn:
        conn.execute(TRANSFORMER_WORK)
        conn.execute(RESULTS_DDL)
        conn.execute(
            "insert into meta.quality_results (run_id, suite, check_name, severity, success) "
            "values ('r1', 'raw', 'c1', 'fail', true)"
        )
        grant_publisher_reads(conn)
    transformer = as_role(fresh_db, TRANSFORMER).conninfo()
    prepare_shadow(transformer)
    with psycopg.connect(transformer) as conn:
        conn.execute("create table marts__next.mart_metric_monthly as select 'P'::text as unit_code, 23.8 as points")
    swap_in(transformer)
    return fresh_db


def test_no_stage_role_is_privileged(warehouse):
    for role in ROLES:
        with psycopg.connect(as_role(warehouse, role).conninfo(), autocommit=True) as conn:
            user, superuser = conn.execute(
                "select current_user, rolsuper or rolcreaterole or rolcreatedb or rolbypassrls "
                "from pg_roles where rolname = current_user"
            ).fetchone()
            assert (user, superuser) == (role, False)
            assert refused(conn, "create role intruder login password 'x'"), role
            assert refused(conn, "create database intruder"), role
            assert refused(conn, f"alter role {role} superuser"), role
            assert refused(conn, "create table public.anything (x int)"), role


def test_loader_writes_raw_and_its_run_records_and_reads_nothing_built(warehouse):
    with psycopg.connect(as_role(warehouse, LOADER).conninfo(), autocommit=True) as conn:
        ensure_raw_schema(conn)  # again, on a warehouse that has it: nothing to create
        conn.execute("update meta.watermarks set high_watermark = now()")
        conn.execute(
            "insert into raw.quarantine (source, entity, batch_id, reason, raw_text) "
            "values ('one_stop', 'ho_so', 1, 'no key', '{}')"
        )
        assert conn.execute("select count(*) from raw.one_stop__ho_so").fetchone()[0] == 1
        for table in (
            "restricted.dossier_applicants",
            "core.fct_dossier",
            "staging.stg_dossiers",
            "marts.mart_metric_monthly",
            "meta.quality_results",
        ):
            assert refused(conn, f"select * from {table}"), table
        assert refused(conn, "create table core.mine (x int)")
        assert refused(conn, "create schema mine")


def test_transformer_builds_every_layer_reads_raw_and_cannot_write_raw(warehouse):
    with psycopg.connect(as_role(warehouse, TRANSFORMER).conninfo(), autocommit=True) as conn:
        assert conn.execute("select count(*) from raw.one_stop__ho_so").fetchone()[0] == 1
        assert conn.execute("select count(*) from meta.extract_runs").fetchone()[0] == 1
        # dbt's table materialization: build beside, rename, drop the old one
        conn.execute("create table core.fct_dossier__dbt_tmp as select * from core.fct_dossier")
        conn.execute("alter table core.fct_dossier rename to fct_dossier__dbt_backup")
        conn.execute("alter table core.fct_dossier__dbt_tmp rename to fct_dossier")
        conn.execute("drop table core.fct_dossier__dbt_backup")
        conn.execute("create temporary table merge_batch as select 1 as x")  # incremental merges
        conn.execute(
            "insert into meta.quality_results (run_id, suite, check_name, severity, success) "
            "values ('r2', 'raw', 'c1', 'fail', true)"
        )
        assert refused(
            conn,
            "insert into raw.one_stop__ho_so (record_key, payload, payload_hash, batch_id) "
            "values ('D2', '{}', 'h2', 2)",
        )
        assert refused(conn, "delete from raw.one_stop__ho_so")
        assert refused(conn, "update meta.watermarks set high_watermark = now()")
        assert refused(conn, "create table raw.mine (x int)")
    # the marts swap, again, as the transformer: the published marts are the new ones
    transformer = as_role(warehouse, TRANSFORMER).conninfo()
    prepare_shadow(transformer)
    with psycopg.connect(transformer) as conn:
        conn.execute("create table marts__next.mart_metric_monthly as select 'P'::text as unit_code, 25.0 as points")
    swap_in(transformer)
    with psycopg.connect(as_role(warehouse, BI).conninfo()) as conn:
        assert conn.execute("select points from marts.mart_metric_monthly").fetchone()[0] == 25


def test_publisher_reads_what_the_extract_needs_and_writes_nothing(warehouse):
    with psycopg.connect(as_role(warehouse, PUBLISHER).conninfo(), autocommit=True) as conn:
        for table in (
            "marts.mart_metric_monthly",
            "core.dim_unit",
            "intermediate.int_unit_closure",
            "meta.quality_results",
            "meta.watermarks",
            "meta.extract_runs",
        ):
            conn.execute(f"select * from {table}")
        conn.execute(
            "begin; lock table marts.mart_metric_monthly, intermediate.int_unit_closure in access share mode; commit"
        )
        for table in (
            "raw.one_stop__ho_so",
            "restricted.dossier_applicants",
            "core.fct_dossier",
            "staging.stg_dossiers",
        ):
            assert refused(conn, f"select * from {table}"), table
        assert refused(conn, "delete from marts.mart_metric_monthly")
        assert refused(
            conn,
            "insert into meta.quality_results (run_id, suite, check_name, severity, success) "
            "values ('x', 'x', 'x', 'fail', true)",
        )
        assert refused(conn, "create table marts.mine (x int)")
        assert refused(conn, "create temporary table mine (x int)")


def test_bi_reads_the_marts_only(warehouse):
    with psycopg.connect(as_role(warehouse, BI).conninfo(), autocommit=True) as conn:
        assert conn.execute("select points::text from marts.mart_metric_monthly").fetchone()[0] == "23.8"
        for table in (
            "restricted.dossier_applicants",
            "core.fct_dossier",
            "core.dim_unit",
            "raw.one_stop__ho_so",
            "meta.quality_results",
            "meta.extract_runs",
            "intermediate.int_unit_closure",
        ):
            assert refused(conn, f"select * from {table}"), table
        assert refused(conn, "create table marts.mine (x int)")
        assert refused(conn, "delete from marts.mart_metric_monthly")


def test_objects_the_superuser_made_move_to_their_stage_once(fresh_db):
    """A warehouse built before the roles logged in: the bootstrap hands every object to its role."""
    with psycopg.connect(fresh_db.conninfo()) as conn:
        ensure_raw_schema(conn)
        conn.execute(RESULTS_DDL)
        conn.execute(
            "create schema core; create table core.fct_dossier (dossier_code text); "
            "create function core.one() returns int language sql as 'select 1'"
        )
    bootstrap(fresh_db)
    with psycopg.connect(fresh_db.conninfo()) as conn:
        owners = dict(
            conn.execute(
                "select format('%s.%s', n.nspname, c.relname), pg_get_userbyid(c.relowner) from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'S', 'v') "
                "and n.nspname in ('raw', 'meta', 'core')"
            ).fetchall()
        )
        function_owner = conn.execute("select pg_get_userbyid(proowner) from pg_proc where proname = 'one'").fetchone()[
            0
        ]
        schemas = dict(
            conn.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                "where nspname in ('raw', 'meta', 'core', 'marts')"
            ).fetchall()
        )
        marker = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = current_database()"
        ).fetchone()[0]
    assert owners["raw.one_stop__ho_so"] == owners["meta.extract_runs"] == owners["raw.quarantine"] == LOADER
    assert owners["meta.batch_id_seq"] == LOADER
    assert owners["meta.quality_results"] == owners["core.fct_dossier"] == function_owner == TRANSFORMER
    assert schemas == {"raw": LOADER, "meta": LOADER, "core": TRANSFORMER, "marts": TRANSFORMER}
    assert marker == VERSION
    with psycopg.connect(as_role(fresh_db, TRANSFORMER).conninfo()) as conn:
        conn.execute("drop table core.fct_dossier")  # its own now: dbt can replace it


def test_an_admin_dsn_runs_as_the_stage_and_a_role_dsn_is_kept(fresh_db, monkeypatch):
    loader = as_stage(fresh_db, "loader")
    assert (loader.user, loader.dbname) == (LOADER, fresh_db.dbname) and loader.password != fresh_db.password
    assert as_stage(loader, "loader") is loader
    with psycopg.connect(loader.conninfo()) as conn:
        assert conn.execute("select current_user").fetchone()[0] == LOADER
    # an explicit login for the stage wins, as given (compose: the workers hold only these)
    explicit = "postgresql://someone:pw@db.example.invalid:5432/tthc"
    monkeypatch.setenv("WAREHOUSE_PUBLISHER_DSN", explicit)
    assert stage_dsn("publisher") == Dsn.parse(explicit)
    # derived from the admin's: the bootstrapped role
    monkeypatch.setenv("WAREHOUSE_DSN", fresh_db.url())
    transformer = stage_dsn("transformer")
    assert transformer.user == TRANSFORMER
    psycopg.connect(transformer.conninfo()).close()


def test_role_passwords_differ_per_cluster_and_follow_the_environment(fresh_db, monkeypatch):
    other = fresh_db.with_user(fresh_db.user, fresh_db.password + "-another-cluster")
    assert role_password(fresh_db, LOADER) != role_password(other, LOADER)
    assert role_password(fresh_db, LOADER) != role_password(fresh_db, TRANSFORMER)
    monkeypatch.setenv("TTHC_BI_PASSWORD", "from-the-environment")
    bi = as_stage(fresh_db, "bi")
    assert bi.password == "from-the-environment"
    psycopg.connect(bi.conninfo()).close()
    monkeypatch.delenv("TTHC_BI_PASSWORD")
    # rotated: the next resolution sets the new one, and the old one is refused
    rotated = as_stage(fresh_db, "bi")
    psycopg.connect(rotated.conninfo()).close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bi.conninfo()).close()


def test_password_check_reads_scram_and_md5_verifiers(fresh_db):
    with psycopg.connect(fresh_db.conninfo(), autocommit=True) as conn:
        conn.execute("create role p3_probe login password 'right'")
        try:
            scram = conn.execute("select rolpassword from pg_authid where rolname = 'p3_probe'").fetchone()[0]
        finally:
            conn.execute("drop role p3_probe")
    assert scram.startswith("SCRAM-SHA-256$")
    assert password_matches(scram, "p3_probe", "right") and not password_matches(scram, "p3_probe", "wrong")
    import hashlib

    md5 = "md5" + hashlib.md5(b"rightp3_probe").hexdigest()
    assert password_matches(md5, "p3_probe", "right") and not password_matches(md5, "p3_probe", "wrong")
    assert not password_matches(None, "p3_probe", "right")


def test_bootstrap_refuses_a_stage_login(warehouse):
    from tthc.warehouse.roles import BootstrapError

    with pytest.raises(BootstrapError, match="superuser"):
        apply_roles(as_role(warehouse, LOADER).conninfo())


def test_the_bootstrap_command_sets_every_role_password_from_the_environment(fresh_db, monkeypatch, capsys):
    """What compose's warehouse-bootstrap service runs: afterwards each role logs in with .env's password."""
    from tthc.cli import main

    monkeypatch.setenv("WAREHOUSE_DSN", fresh_db.url())
    for role in ROLES:
        monkeypatch.setenv(f"TTHC_{role.removeprefix('tthc_').upper()}_PASSWORD", f"env-{role}")
    assert main(["warehouse", "bootstrap"]) == 0
    assert fresh_db.password not in capsys.readouterr().out
    for role in ROLES:
        with psycopg.connect(fresh_db.with_user(role, f"env-{role}").conninfo()) as conn:
            assert conn.execute("select current_user").fetchone()[0] == role


def test_the_retired_util_schema_goes_with_its_functions_and_a_foreign_one_stays(fresh_db, caplog):
    """util held dim_date's working-time functions until nothing called them: a warehouse that has
    them loses them and the schema; a util holding anything else is left, with a warning."""
    before_3 = f"comment on database {fresh_db.dbname} is 'tthc-roles:2'"  # a warehouse set up before version 3
    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute(before_3)
        conn.execute(
            "create schema util; create function util.working_seconds_at(ts timestamptz) returns numeric "
            "language sql as 'select 0'; create function util.add_working_seconds(ts timestamptz, s numeric) "
            "returns timestamptz language sql as 'select ts'"
        )
    bootstrap(fresh_db)
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("select to_regnamespace('util')").fetchone()[0] is None
        conn.execute(before_3)
        conn.execute("create schema util; create table util.kept_by_someone (x int)")
    with caplog.at_level(logging.WARNING, logger="tthc.warehouse.roles"):
        bootstrap(fresh_db)
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("select to_regclass('util.kept_by_someone')").fetchone()[0] == "util.kept_by_someone"
    assert any("util" in r.getMessage() and "left as it is" in r.getMessage() for r in caplog.records)
