"""Per-unit logins read their subtree's actions rows and nothing else (docs/acting-today.md, §11, access).

A scratch warehouse bootstrapped as the pipeline does it; the tables the dbt models will build
(core.dim_unit, intermediate.int_unit_closure and the published actions tables with the
contract's columns) are created here directly, as the transformer, with a few rows for a small
province that goes through the July 2025 merger. Every check logs in over TCP as the role, with
its password, and reads what PostgreSQL's row-level security lets it read.

Units (codes shaped like MaDinhDanh):
    P (province, always)
    ├── D1 (district, until 2025-06-30) ── C11, C12 (communes, until 2025-06-30)
    ├── D2 (district, until 2025-06-30) ── C21 (commune, until 2025-06-30)
    └── N1 (commune, from 2025-07-01: C11 and C12 merged)
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from extractors.raw.schema import ensure_raw_schema
from tests.conftest import scratch_database
from tthc.actions import publish
from tthc.warehouse import Dsn
from tthc.warehouse.roles import BI, LOADER, PUBLISHER, TRANSFORMER, UNIT_READER, grant_actions
from tthc.warehouse.stages import bootstrap, role_password
from tthc.warehouse.unit_logins import (
    UnitLoginError,
    create_unit_login,
    drop_unit_login,
    list_unit_logins,
    role_name_for,
)

pytestmark = pytest.mark.slow

P, D1, D2, C11, C12, C21, N1 = (
    "000.00.00.H99",
    "000.00.21.H99",
    "000.00.22.H99",
    "000.21.01.H99",
    "000.21.02.H99",
    "000.22.01.H99",
    "000.30.01.H99",
)
MERGER_END, MERGER_START = "2025-06-30", "2025-07-01"
UNITS = [  # unit_code, parent, valid_from, valid_to, successor
    (P, None, "1900-01-01", None, None),
    (D1, P, "1900-01-01", MERGER_END, None),
    (D2, P, "1900-01-01", MERGER_END, None),
    (C11, D1, "1900-01-01", MERGER_END, N1),
    (C12, D1, "1900-01-01", MERGER_END, N1),
    (C21, D2, "1900-01-01", MERGER_END, None),
    (N1, P, MERGER_START, None, None),
]
VN = timezone(timedelta(hours=7))
T1 = datetime(2025, 6, 20, 9, tzinfo=VN)
T2 = datetime(2025, 7, 21, 9, tzinfo=VN)
T3 = datetime(2025, 7, 1, 6, tzinfo=VN)  # still 30 June in UTC: the local date decides
# The viewing units valid at each moment; a dossier's row appears once per ancestor.
DOSSIERS = [  # at_ts, dossier, its unit, list
    (T1, "H1", C11, "qua_han"),
    (T1, "H2", C12, "sap_den_han"),
    (T1, "H3", C21, "chua_dong_bo"),
    (T1, "H4", P, "thieu_ly_do"),
    (T2, "H5", N1, "qua_han"),
    (T3, "H6", N1, "sap_den_han"),
]
ANCESTORS = {P: [P], D1: [D1, P], D2: [D2, P], C11: [C11, D1, P], C12: [C12, D1, P], C21: [C21, D2, P], N1: [N1, P]}
VALID_AT = {T1: [P, D1, D2, C11, C12, C21], T2: [P, N1], T3: [P, N1]}
# What each login must see: (at_ts, viewing unit) of its subtree on that day.
SUBTREE = {P: {P, D1, D2, C11, C12, C21, N1}, D1: {D1, C11, C12}, C11: {C11}, N1: {N1}}
LOGINS = (P, D1, C11, N1)

LIST_COLUMNS = """at_ts timestamptz not null, unit_code text not null, list_name text not null,
    dossier_code text not null, row_unit_code text, handling_unit_code text, procedure_code text,
    field_code text, channel text, status text, received_at timestamptz, due_at timestamptz,
    list_value numeric, has_apology_letter boolean, points_gain numeric, current_step_number integer,
    current_step_unit_code text, current_step_department text"""
PROJECTION_COLUMNS = """dossiers_all bigint, decided_on_time bigint, decided_late bigint, safe bigint,
    undecided bigint, rate_2_1_min numeric, rate_2_1_max numeric, points_2_1_min numeric,
    points_2_1_max numeric, points_5_3_min numeric, points_5_3_max numeric, total_points_now numeric,
    total_points_min numeric, total_points_max numeric"""
ACTIONS_DDL = f"""
create table {{s}}.act_refresh (at_ts timestamptz, period_key text, period_start_ts timestamptz,
    period_end_ts timestamptz, due_soon_hours numeric, not_returned_hours numeric, unsynced_hours numeric,
    built_at timestamptz);
create table {{s}}.act_list_rows ({LIST_COLUMNS});
create table {{s}}.act_list_rows_named (at_ts timestamptz not null, unit_code text not null,
    list_name text not null, dossier_code text not null, handler_name text);
create table {{s}}.act_points_at_stake (at_ts timestamptz, unit_code text, metric_code text, numerator bigint,
    denominator bigint, applies boolean, max_points numeric, points numeric, lost_points numeric,
    gain_one_more numeric, dossiers_to_cap bigint);
create table {{s}}.act_three_things (at_ts timestamptz, unit_code text, rank integer, metric_code text,
    list_name text, points_at_stake numeric, row_count bigint);
create table {{s}}.act_projection (at_ts timestamptz, unit_code text, {PROJECTION_COLUMNS});
create table {{s}}.act_undecided_dossiers (at_ts timestamptz, unit_code text, dossier_code text,
    row_unit_code text, due_at timestamptz, due_rank integer);
create table {{s}}.act_unit_summary (at_ts timestamptz, unit_code text, n_sap_den_han bigint, n_qua_han bigint,
    n_qua_han_chua_xin_loi bigint, n_buoc_qua_han bigint, n_chua_tra_ket_qua bigint,
    n_thieu_ket_qua_dien_tu bigint, n_chua_dong_bo bigint, n_thieu_ly_do bigint, {PROJECTION_COLUMNS},
    lost_points_total numeric);
"""
PER_UNIT_TABLES = (
    "act_list_rows",
    "act_list_rows_named",
    "act_points_at_stake",
    "act_three_things",
    "act_projection",
    "act_undecided_dossiers",
    "act_unit_summary",
)
PASSWORDS = {unit: f"pw-{unit}-long-enough" for unit in LOGINS}


def handler(dossier: str, unit: str) -> str:
    return f"Cán bộ {dossier} tại {unit}"


def fill_actions(conn: psycopg.Connection, schema: str, extra: list[tuple] = ()) -> None:
    """The contract's tables in `schema`, with rows for every viewing unit valid at each moment."""
    conn.execute(ACTIONS_DDL.format(s=schema))
    for at in VALID_AT:
        conn.execute(f"insert into {schema}.act_refresh (at_ts, period_key) values (%s, %s)", (at, f"{at:%Y-%m}"))
        for unit in VALID_AT[at]:
            for table in ("act_points_at_stake", "act_three_things", "act_projection", "act_unit_summary"):
                conn.execute(f"insert into {schema}.{table} (at_ts, unit_code) values (%s, %s)", (at, unit))
    for at, dossier, own, list_name in list(DOSSIERS) + list(extra):
        for viewer in ANCESTORS[own]:
            conn.execute(
                f"insert into {schema}.act_list_rows (at_ts, unit_code, list_name, dossier_code, "
                "row_unit_code) values (%s, %s, %s, %s, %s)",
                (at, viewer, list_name, dossier, own),
            )
            conn.execute(
                f"insert into {schema}.act_list_rows_named values (%s, %s, %s, %s, %s)",
                (at, viewer, list_name, dossier, handler(dossier, own)),
            )
            conn.execute(
                f"insert into {schema}.act_undecided_dossiers (at_ts, unit_code, dossier_code) values (%s, %s, %s)",
                (at, viewer, dossier),
            )


def as_role(admin: Dsn, role: str) -> Dsn:
    return admin.with_user(role, role_password(admin, role))


def as_unit(admin: Dsn, unit: str) -> Dsn:
    return admin.with_user(role_name_for(unit), PASSWORDS[unit])


def refused(conn: psycopg.Connection, statement: str) -> bool:
    """Whether the server refuses `statement` for lack of a privilege (any other error fails the test)."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def expected_list_rows(unit: str, extra: list[tuple] = ()) -> set[tuple]:
    return {
        (at, viewer, dossier)
        for at, dossier, own, _ in list(DOSSIERS) + list(extra)
        for viewer in ANCESTORS[own]
        if viewer in SUBTREE[unit]
    }


@pytest.fixture(scope="module")
def warehouse(pg_cluster):
    """Bootstrapped; raw and the built layers with a table each; the actions published (as the
    transformer, then grant_actions); a login for P, D1, C11 and N1."""
    with scratch_database(pg_cluster) as admin:
        bootstrap(admin)
        with psycopg.connect(as_role(admin, LOADER).conninfo()) as conn:
            ensure_raw_schema(conn)
        with psycopg.connect(as_role(admin, TRANSFORMER).conninfo()) as conn:
            conn.execute("""
                create table core.dim_unit (unit_code text primary key, unit_name text, unit_level text,
                    parent_unit_code text, successor_unit_code text, national_portal_code text,
                    valid_from date not null, valid_to date);
                create table intermediate.int_unit_closure (ancestor_unit_code text, descendant_unit_code text,
                    depth integer, valid_from date, valid_to date);
                create table staging.stg_dossiers as select 'H1'::text as dossier_code;
                create table restricted.stg_process_step_handlers as select 'H1'::text as dossier_code,
                    'Nguyễn Văn A'::text as handler_name;
                create table marts.mart_metric_monthly as select 'P'::text as unit_code, 19.0 as points;
                create schema actions;
                create schema actions_history;
            """)
            for unit, parent, start, end, successor in UNITS:
                conn.execute(
                    "insert into core.dim_unit (unit_code, parent_unit_code, valid_from, valid_to, "
                    "successor_unit_code) values (%s, %s, %s, %s, %s)",
                    (unit, parent, start, end, successor),
                )
            # the closure as int_unit_closure builds it: a path is valid while every unit on it is
            conn.execute("""
                insert into intermediate.int_unit_closure
                with recursive walk as (
                    select unit_code a, unit_code d, parent_unit_code nxt, 0 depth, valid_from f, valid_to t
                    from core.dim_unit
                    union all
                    select p.unit_code, w.d, p.parent_unit_code, w.depth + 1, greatest(w.f, p.valid_from),
                           case when w.t is null then p.valid_to when p.valid_to is null then w.t
                                else least(w.t, p.valid_to) end
                    from walk w join core.dim_unit p on p.unit_code = w.nxt)
                select a, d, depth, f, t from walk""")
            fill_actions(conn, "actions")
            conn.execute("create table actions_history.unit_summary as select * from actions.act_unit_summary")
            conn.execute("alter table actions_history.unit_summary add primary key (at_ts, unit_code)")
            grant_actions(conn, "actions")
        for unit in LOGINS:
            create_unit_login(admin.conninfo(), unit, PASSWORDS[unit])
        try:
            yield admin
        finally:
            for unit in LOGINS:
                try:
                    drop_unit_login(admin.conninfo(), unit)
                except UnitLoginError:
                    pass  # a test dropped it


def visible(dsn: Dsn, query: str) -> set[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return set(conn.execute(query).fetchall())


@pytest.mark.parametrize("unit", LOGINS)
def test_a_unit_login_reads_its_subtrees_list_rows_only(warehouse, unit):
    rows = visible(as_unit(warehouse, unit), "select at_ts, unit_code, dossier_code from actions.act_list_rows")
    assert rows == expected_list_rows(unit)
    assert rows  # every login has something to read: the checks above are not vacuous


def test_a_commune_sees_neither_its_parents_nor_its_siblings_rows(warehouse):
    rows = visible(as_unit(warehouse, C11), "select unit_code, dossier_code from actions.act_list_rows")
    assert rows == {(C11, "H1")}  # H1 is also on D1's and P's lists: those rows stay hidden
    named = visible(
        as_unit(warehouse, C11), "select unit_code, dossier_code, handler_name from actions.act_list_rows_named"
    )
    assert named == {(C11, "H1", handler("H1", C11))}


def test_a_district_reads_its_communes_rows_and_handlers_until_it_is_abolished(warehouse):
    named = visible(
        as_unit(warehouse, D1), "select at_ts, unit_code, dossier_code, handler_name from actions.act_list_rows_named"
    )
    assert named == {
        (T1, D1, "H1", handler("H1", C11)),
        (T1, C11, "H1", handler("H1", C11)),
        (T1, D1, "H2", handler("H2", C12)),
        (T1, C12, "H2", handler("H2", C12)),
    }
    # after 30 June D1 has no subtree: N1's rows (its communes' successor) are not its to read


def test_the_subtree_is_taken_on_the_local_date_of_at_ts(warehouse):
    # T3 is 1 July 06:00 in Vietnam, still 30 June in UTC: N1 exists, D1 and its communes do not
    assert (T3, N1, "H6") in visible(
        as_unit(warehouse, N1), "select at_ts, unit_code, dossier_code from actions.act_list_rows"
    )
    with psycopg.connect(as_unit(warehouse, D1).conninfo()) as conn:
        assert conn.execute("select count(*) from actions.act_list_rows where at_ts >= %s", (T3,)).fetchone()[0] == 0


@pytest.mark.parametrize("unit", LOGINS)
def test_every_per_unit_table_and_the_history_show_the_subtree_only(warehouse, unit):
    with psycopg.connect(as_unit(warehouse, unit).conninfo()) as conn:
        for table in [f"actions.{t}" for t in PER_UNIT_TABLES] + ["actions_history.unit_summary"]:
            seen = set(conn.execute(f"select at_ts, unit_code from {table}").fetchall())
            assert seen and {u for _, u in seen} <= SUBTREE[unit], table
        expected = {(at, u) for at, units in VALID_AT.items() for u in units if u in SUBTREE[unit]}
        assert set(conn.execute("select at_ts, unit_code from actions.act_unit_summary").fetchall()) == expected
        # the refresh's moments carry no unit's data: every login reads them
        assert conn.execute("select count(*) from actions.act_refresh").fetchone()[0] == len(VALID_AT)


@pytest.mark.parametrize("role", [BI, PUBLISHER])
def test_bi_and_the_publisher_read_every_list_row_but_never_the_handlers(warehouse, role):
    """BI's general role, and the publisher writing every unit's daily workbook (tthc/actions/daily.py)."""
    reader = as_role(warehouse, role)
    everything = {(at, viewer, dossier) for at, dossier, own, _ in DOSSIERS for viewer in ANCESTORS[own]}
    assert visible(reader, "select at_ts, unit_code, dossier_code from actions.act_list_rows") == everything
    with psycopg.connect(reader.conninfo()) as conn:
        for table in PER_UNIT_TABLES + ("act_refresh",):
            if table != "act_list_rows_named":
                assert conn.execute(f"select count(*) from actions.{table}").fetchone()[0] > 0, table
        assert conn.execute("select count(*) from actions_history.unit_summary").fetchone()[0] == sum(
            len(units) for units in VALID_AT.values()
        )
        assert refused(conn, "select * from actions.act_list_rows_named")
        assert refused(conn, "select handler_name from actions.act_list_rows_named")
        assert refused(conn, "delete from actions.act_list_rows")


def test_a_unit_login_reads_nothing_else_and_writes_nothing(warehouse):
    with psycopg.connect(as_role(warehouse, TRANSFORMER).conninfo()) as conn:
        conn.execute("analyze actions.act_list_rows_named")  # as dbt's post-hook does
        assert (
            conn.execute(
                "select count(*) from pg_stats where schemaname = 'actions' and attname = 'handler_name'"
            ).fetchone()[0]
            == 1
        )
    with psycopg.connect(as_unit(warehouse, C11).conninfo()) as conn:
        # the planner's statistics hold other units' handler names (most common values): hidden
        assert conn.execute("select count(*) from pg_stats where schemaname = 'actions'").fetchone()[0] == 0
    with psycopg.connect(as_unit(warehouse, P).conninfo()) as conn:
        for table in (
            "raw.one_stop__ho_so",
            "staging.stg_dossiers",
            "restricted.stg_process_step_handlers",
            "intermediate.int_unit_closure",
            "core.dim_unit",
            "marts.mart_metric_monthly",
            "meta.unit_logins",
            "meta.extract_runs",
        ):
            assert refused(conn, f"select * from {table}"), table
        for statement in (
            "insert into actions.act_list_rows (at_ts, unit_code, list_name, dossier_code) "
            "values (now(), 'x', 'qua_han', 'x')",
            "update actions.act_list_rows set dossier_code = 'x'",
            "delete from actions.act_list_rows_named",
            "update actions_history.unit_summary set n_qua_han = 0",
            "create table actions.mine (x int)",
            "create table unit_access.mine (x int)",
            "create table public.mine (x int)",
            "create temporary table mine (x int)",
            "create schema mine",
        ):
            assert refused(conn, statement), statement


def test_a_unit_login_cannot_change_what_it_may_read(warehouse):
    me = role_name_for(C11)
    with psycopg.connect(as_unit(warehouse, C11).conninfo()) as conn:
        for statement in (
            f"update meta.unit_logins set unit_code = '{P}' where role_name = '{me}'",
            f"insert into meta.unit_logins (role_name, unit_code) values ('{me}', '{P}')",
            "create or replace function unit_access.readable_units() returns jsonb language sql "
            "as $$ select '{}'::jsonb $$",
            "alter table actions.act_list_rows disable row level security",
            "drop policy tthc_unit_subtree on actions.act_list_rows",
            "create policy mine on actions.act_list_rows for select using (true)",
            f"grant {BI} to {me}",
            f"set role {TRANSFORMER}",
            f"alter role {me} bypassrls",
        ):
            assert refused(conn, statement), statement
        # what the definer function tells it is its own subtree, nothing more
        readable = conn.execute("select unit_access.readable_units()").fetchone()[0]
        assert set(readable) == {C11}
        # as its group (the role the policies name) it still reads its own subtree only
        conn.execute(f"set role {UNIT_READER}")
        assert set(conn.execute("select unit_code from actions.act_list_rows").fetchall()) == {(C11,)}


def test_a_wrong_password_is_refused(warehouse):
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(warehouse.with_user(role_name_for(C11), "not-the-password").conninfo()).close()


def test_policies_hold_on_a_schema_swapped_in(warehouse):
    """A refresh builds actions__next and publishes it (tthc/actions/publish.py: the swap and the
    history's append in one transaction): the grants and policies are re-applied in it."""
    transformer = as_role(warehouse, TRANSFORMER).conninfo()
    publish.ACTIONS.prepare_shadow(transformer)
    extra = [(T1, "H7", C11, "buoc_qua_han")]
    with psycopg.connect(transformer) as conn:
        fill_actions(conn, "actions__next", extra)
        conn.execute("drop schema actions_history cascade")  # as on the first refresh: made by the append
        # not published yet: nobody but the transformer reads the shadow
    for dsn in (as_unit(warehouse, P), as_role(warehouse, BI)):
        with psycopg.connect(dsn.conninfo()) as conn:
            assert refused(conn, "select * from actions__next.act_list_rows")
    publish.publish(transformer)
    for unit in LOGINS:
        rows = visible(as_unit(warehouse, unit), "select at_ts, unit_code, dossier_code from actions.act_list_rows")
        assert rows == expected_list_rows(unit, extra), unit
    assert visible(as_unit(warehouse, C11), "select dossier_code, handler_name from actions.act_list_rows_named") == {
        ("H1", handler("H1", C11)),
        ("H7", handler("H7", C11)),
    }
    assert visible(as_unit(warehouse, D1), "select unit_code from actions_history.unit_summary") == {
        (D1,),
        (C11,),
        (C12,),
    }
    with psycopg.connect(as_role(warehouse, BI).conninfo()) as conn:
        assert conn.execute("select count(*) from actions.act_list_rows").fetchone()[0] == sum(
            len(ANCESTORS[own]) for _, _, own, _ in DOSSIERS + extra
        )
        assert refused(conn, "select * from actions.act_list_rows_named")
    with psycopg.connect(warehouse.conninfo()) as conn:
        unsecured = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('actions', 'actions_history') and c.relkind = 'r' "
            "and not c.relrowsecurity"
        ).fetchall()
    assert unsecured == []


def test_the_unit_login_command(warehouse, pg_cluster, monkeypatch, capsys, caplog, tmp_path):
    """Create, list and drop as the admin, with clear errors; the password reaches no output,
    no log and no server log (the server logs every statement of this database meanwhile)."""
    from tthc.cli import main

    # main() sets up logging on this test's captured stderr: leave no handler to a closed stream behind
    monkeypatch.setattr(logging.root, "handlers", list(logging.root.handlers))
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse.url())
    with psycopg.connect(warehouse.conninfo(), autocommit=True) as conn:
        conn.execute(f"alter database \"{warehouse.dbname}\" set log_statement = 'all'")
    password = "a-secret-for-c12-7f3e9d"
    secret = tmp_path / "c12.password"
    secret.write_text(password + "\n")
    log_start = pg_cluster.log_file.stat().st_size
    try:
        assert main(["warehouse", "unit-login", "create", "--unit", C12, "--password-file", str(secret)]) == 0
        out = capsys.readouterr().out
        assert role_name_for(C12) in out and role_name_for(C12) == "tthc_unit_000_21_02_h99"
        # C12 merged into N1 on 1 July 2025: its login reads its rows before that, and is told so
        assert "hết hiệu lực" in out and f"đơn vị kế nhiệm: {N1}" in out
        with psycopg.connect(warehouse.with_user(role_name_for(C12), password).conninfo()) as conn:
            assert set(conn.execute("select unit_code, dossier_code from actions.act_list_rows").fetchall()) == {
                (C12, "H2")
            }
        assert main(["warehouse", "unit-login", "create", "--unit", C12, "--password-file", str(secret)]) == 1
        assert "đã có tài khoản" in capsys.readouterr().err
        assert (
            main(["warehouse", "unit-login", "create", "--unit", "000.99.99.H99", "--password-file", str(secret)]) == 1
        )
        assert "không có đơn vị mã 000.99.99.H99" in capsys.readouterr().err
        assert main(["warehouse", "unit-login", "list"]) == 0
        listed = capsys.readouterr().out
        assert all(role_name_for(u) in listed for u in LOGINS + (C12,))
        assert main(["warehouse", "unit-login", "drop", "--unit", C12]) == 0
        assert "đã xoá" in capsys.readouterr().out
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(warehouse.with_user(role_name_for(C12), password).conninfo()).close()
        assert C12 not in {login.unit_code for login in list_unit_logins(warehouse.conninfo())}
        assert main(["warehouse", "unit-login", "drop", "--unit", C12]) == 1
    finally:
        with psycopg.connect(warehouse.conninfo(), autocommit=True) as conn:
            conn.execute(f'alter database "{warehouse.dbname}" reset log_statement')
        try:
            drop_unit_login(warehouse.conninfo(), C12)
        except UnitLoginError:
            pass
    server_log = pg_cluster.log_file.read_bytes()[log_start:].decode(errors="replace")
    assert "CREATE ROLE" in server_log  # the statements were logged: the check below is not vacuous
    assert password not in server_log
    assert password not in capsys.readouterr().out + caplog.text
