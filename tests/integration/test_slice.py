"""The thin slice end to end: simulator over HTTP → extractors → raw → dbt → gate → mart → extract.

Every metric 1.1-5.3 in the mart, and 2.1 in chi_so_766.csv, must equal an independent count
from the simulator's ground truth (tests/oracle.py), for every unit and month.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import psycopg
import pytest

from expectations.runner import run_gate
from expectations.suites import GATE_SUITES
from extractors.entities import entity
from extractors.run import extract_entity
from extractors.sources import SourceSettings, make_client
from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests import oracle
from tests.contract.extract_check import check_extract
from tthc.pipeline import dbt
from tthc.province_package.monthly import publish_month
from tthc.province_package.periods import Month

pytestmark = pytest.mark.slow  # one module, one worker (make test uses --dist loadfile)

CLOCK = datetime(2025, 8, 1, 1, 0, tzinfo=LOCAL)
MONTHS = [Month(2025, m) for m in range(1, 8)]


@pytest.fixture(scope="module")
def world():
    return World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))


@pytest.fixture(scope="module")
def built(world, pg_cluster, tmp_path_factory):
    """Run the slice once for the module: returns (dsn, outbox)."""
    import uuid

    import psycopg as pg

    admin = pg_cluster.admin_dsn()
    name = f"slice_{uuid.uuid4().hex[:8]}"
    with pg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.with_database(name)
    with pg.connect(dsn.conninfo()) as conn:
        conn.execute(DDL_AUDIT)
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        client = make_client("one_stop", SourceSettings(server.url, "tthc-demo", "demo-secret"), page_size=200)
        for name_ in ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so"):
            extract_entity(
                dsn.conninfo(),
                client,
                entity("one_stop", name_),
                CLOCK,
                initial_from=datetime(2024, 12, 1, tzinfo=LOCAL),
            )
        client.close()
        portal = make_client("dvc_portal", SourceSettings(server.url, api_key="demo-api-key"), page_size=500)
        for name_ in ("payments", "sync_status", "feedback", "ratings", "online_services"):
            extract_entity(
                dsn.conninfo(),
                portal,
                entity("dvc_portal", name_),
                CLOCK,
                initial_from=datetime(2024, 9, 1, tzinfo=LOCAL),
            )
        portal.close()
    finally:
        server.stop()
    dbt.build_warehouse(dsn, CLOCK.date())
    gate = run_gate(dsn, GATE_SUITES, "slice-test")
    assert gate.passed, gate.summary()
    dbt.build_marts(dsn, CLOCK.date())
    outbox = tmp_path_factory.mktemp("outbox")
    return dsn, outbox


# Who ran each DDL command of the slice (the login, not the function's owner): the proof that the
# stages, handed the superuser's DSN, still built as their roles.
DDL_AUDIT = """
create table public.ddl_audit (login text, tag text, object text);
create function public.audit_ddl() returns event_trigger language plpgsql security definer as $$
declare r record;
begin
    for r in select * from pg_event_trigger_ddl_commands() loop
        insert into public.ddl_audit values (session_user, r.command_tag, r.object_identity);
    end loop;
end $$;
create event trigger audit_ddl on ddl_command_end execute function public.audit_ddl();
"""


def truth(world):
    units = oracle.units_from(world.records("one_stop", "don_vi", CLOCK))
    dossiers = oracle.dossiers_from(world.records("one_stop", "ho_so", CLOCK))
    return units, dossiers


def test_raw_holds_exactly_the_source_records(world, built):
    dsn, _ = built
    with psycopg.connect(dsn.conninfo()) as conn:
        keys = {r[0] for r in conn.execute("select distinct on (record_key) record_key from raw.one_stop__ho_so")}
    expected = {r["MaHoSo"].strip() for r in world.records("one_stop", "ho_so", CLOCK)}
    assert keys == expected


def test_extract_file_matches_the_count_and_the_contract(world, built):
    dsn, outbox = built
    units, dossiers = truth(world)
    month = Month(2025, 7)
    roots = [u.code for u in units.values() if u.parent is None and u.valid_on(month.last_day)]
    assert len(roots) == 1
    result = publish_month(dsn, roots[0], month, CLOCK, outbox)
    check = check_extract(result.path, ["chi_so_766.csv"])
    assert check.returncode == 0, check.stdout + check.stderr
    expected = oracle.metric_2_1(dossiers, units, month.start, month.end)
    raw = (result.path / "chi_so_766.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw[3:].decode("utf-8").splitlines()))
    by_unit = {r["ma_don_vi"]: r for r in rows if r["ma_chi_so"] == "2.1"}
    assert set(by_unit) == set(expected)
    for unit, (num, den) in expected.items():
        row = by_unit[unit]
        assert (row["tu_so"], row["mau_so"]) == (str(num), str(den))
        if den:
            rate = Decimal(num) / Decimal(den)
            assert row["ty_le"] == str(rate.quantize(Decimal("0.0001"), ROUND_HALF_UP))
            assert row["diem"] == str((20 * rate).quantize(Decimal("0.01"), ROUND_HALF_UP))
            assert row["ap_dung"] == "1"
        else:
            assert (row["ty_le"], row["diem"], row["ap_dung"]) == ("", "20.00", "0")
    # a rerun with the same data writes no new version
    again = publish_month(dsn, roots[0], month, CLOCK, outbox)
    assert (again.created, again.version) == (False, result.version)


# The closed periods of the other types the marts keep: cumulative quarters, and Decree 09
# reporting months (the 15th of the previous month to the 14th, keyed by the month they end in).
QUARTERS = [("2025-Q1", date(2025, 1, 1), date(2025, 4, 1)), ("2025-Q2", date(2025, 4, 1), date(2025, 7, 1))]
REPORT_MONTHS = [
    (f"2025-{m:02d}", date(2024, 12, 15) if m == 1 else date(2025, m - 1, 15), date(2025, m, 15)) for m in range(1, 8)
]


def metric_differences(dsn, truth, period_type, periods, exercised=None):
    """The mart's metrics of `period_type` against the oracle over each (key, start, end);
    returns the differences as text. Counts into `exercised` which metrics had data and misses."""
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            "select period_key, unit_code, unit_level, metric_code, numerator, denominator, points, applies"
            " from marts.mart_metric_monthly where period_type = %s",
            [period_type],
        ).fetchall()
    mart = {(p, u, m): (lvl, n, d, pts, a) for p, u, lvl, m, n, d, pts, a in rows}
    wrong = []
    for key, start, end in periods:
        expected = oracle.metrics(truth, start, end)
        assert {(u, m) for (p, u, m) in mart if p == key} == set(expected), (period_type, key)
        for (unit, metric), (num, den) in expected.items():
            level, g_num, g_den, g_points, g_applies = mart[(key, unit, metric)]
            want_points, want_applies = oracle.points(metric, level, num, den)
            same_counts = abs(Fraction(g_num) - Fraction(num)) < Fraction(1, 10**6) and g_den == den
            if not (
                same_counts and abs(Fraction(g_points) - want_points) < Fraction(1, 10**9) and g_applies == want_applies
            ):
                wrong.append(
                    f"{period_type} {key} {unit} {metric}: mart {g_num}/{g_den} {g_points} {g_applies}"
                    f" != oracle {num}/{den} {float(want_points):.4f} {want_applies}"
                )
            if exercised is not None:
                exercised[metric][0] += bool(den) and num != den
                exercised[metric][1] += bool(den)
    return wrong


def test_every_metric_matches_the_oracle(world, built):
    """Every metric of docs/metrics.md (§6a), unit and month of the slice: numerator, denominator, points and
    ap_dung from the mart equal the oracle's reading of the source records."""
    dsn, _ = built
    truth = oracle.Truth.from_world(world, CLOCK)
    exercised = defaultdict(lambda: [0, 0])
    wrong = metric_differences(dsn, truth, "month", [(m.key, m.start, m.end) for m in MONTHS], exercised)
    assert not wrong, f"{len(wrong)} differences, e.g.\n" + "\n".join(wrong[:40])
    # the data must exercise every metric: a non-empty denominator somewhere, a miss somewhere
    assert all(exercised[m][0] and exercised[m][1] for m in oracle.METRICS), dict(exercised)


def test_quarters_and_reporting_months_match_the_oracle(world, built):
    """The same over the periods that are not calendar months (their counts are not sums of
    the months': a dossier open over two months is in scope of both and once in the quarter)."""
    dsn, _ = built
    truth = oracle.Truth.from_world(world, CLOCK)
    wrong = metric_differences(dsn, truth, "quarter", QUARTERS) + metric_differences(
        dsn, truth, "report_month", REPORT_MONTHS
    )
    assert not wrong, f"{len(wrong)} differences, e.g.\n" + "\n".join(wrong[:40])


def test_every_stage_ran_as_its_own_role(world, built, tmp_path):
    """The slice was run with the superuser's DSN, as tests and `make demo` do: every stage still
    logged in as its role (tthc/warehouse/stages.py), so each owns what it made, and the publisher
    is held to its grants (a superuser would not be)."""
    from tthc.warehouse.roles import LOADER, PUBLISHER, TRANSFORMER
    from tthc.warehouse.stages import as_stage

    dsn, _ = built
    with psycopg.connect(dsn.conninfo()) as conn:
        created = conn.execute(
            "select login, split_part(object, '.', 1), count(*) from public.ddl_audit "
            "where tag in ('CREATE TABLE', 'CREATE TABLE AS', 'CREATE VIEW', 'SELECT INTO') "
            "and object not like 'pg_temp%%' group by 1, 2"
        ).fetchall()
        owners = dict(
            conn.execute(
                "select format('%s.%s', n.nspname, c.relname), pg_get_userbyid(c.relowner) from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v')"
                " and n.nspname in ('raw', 'meta', 'staging', 'restricted', 'intermediate', 'core', 'marts')"
            ).fetchall()
        )
        schemas = dict(
            conn.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                "where nspname in ('raw', 'meta', 'core', 'marts')"
            ).fetchall()
        )
    creators = defaultdict(set)
    for login, schema, _count in created:
        creators[schema].add(login)
    assert creators["raw"] == {LOADER} and creators["meta"] == {LOADER, TRANSFORMER}
    for layer in ("staging", "restricted", "intermediate", "core", "marts__next"):
        assert creators[layer] == {TRANSFORMER}, layer
    assert not any(login not in (LOADER, TRANSFORMER) for login, _schema, _count in created), created
    by_schema = defaultdict(set)
    for name, owner in owners.items():
        by_schema[name.split(".")[0]].add(owner)
    assert by_schema["raw"] == {LOADER}
    assert owners["meta.extract_runs"] == owners["meta.watermarks"] == LOADER
    assert owners["meta.quality_results"] == TRANSFORMER
    for layer in ("staging", "restricted", "intermediate", "core", "marts"):
        assert by_schema[layer] == {TRANSFORMER}, layer
    assert schemas == {"raw": LOADER, "meta": LOADER, "core": TRANSFORMER, "marts": TRANSFORMER}
    # the extract reads as the publisher: without its grant on one mart, the package is refused
    month = Month(2025, 7)
    root = next(u.code for u in truth(world)[0].values() if u.parent is None and u.valid_on(month.last_day))
    transformer = as_stage(dsn, "transformer")
    with psycopg.connect(transformer.conninfo(), autocommit=True) as conn:
        conn.execute(f"revoke select on marts.mart_late_dossiers from {PUBLISHER}")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            publish_month(dsn, root, month, CLOCK, tmp_path)
    finally:
        with psycopg.connect(transformer.conninfo(), autocommit=True) as conn:
            conn.execute(f"grant select on marts.mart_late_dossiers to {PUBLISHER}")
