"""The BI role reads the marts and cannot reach personal data or anything else (a real login)."""
import psycopg
import pytest

from tthc.warehouse.roles import BI, apply_roles

pytestmark = pytest.mark.slow

SETUP = """
create schema if not exists restricted; create schema if not exists marts; create schema if not exists core;
create schema if not exists raw;
create table restricted.dossier_applicants (dossier_code text, applicant_name text, id_number text);
insert into restricted.dossier_applicants values ('D1', 'Nguyễn Văn A', '038090001234');
create table core.fct_dossier (dossier_code text); insert into core.fct_dossier values ('D1');
create table raw.one_stop__ho_so (payload jsonb); insert into raw.one_stop__ho_so values ('{"ChuHoSo": "Nguyễn Văn A"}');
"""


def test_bi_reads_marts_only(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute(SETUP)
    apply_roles(fresh_db.conninfo(), {BI: "bi-secret"})
    with psycopg.connect(fresh_db.conninfo()) as conn:  # a mart built after the grants, as dbt does nightly
        conn.execute("create table marts.mart_metric_monthly as select 'U1'::text as unit_code, 19.0 as points")
    apply_roles(fresh_db.conninfo(), {BI: "bi-secret"})  # idempotent
    bi = fresh_db.with_user(BI, "bi-secret")
    with psycopg.connect(bi.conninfo(), autocommit=True) as conn:
        assert conn.execute("select points from marts.mart_metric_monthly").fetchone()[0] == 19
        for table in ("restricted.dossier_applicants", "core.fct_dossier", "raw.one_stop__ho_so"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table marts.mine (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.mart_metric_monthly")
