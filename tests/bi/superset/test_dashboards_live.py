"""The dashboards in a real Superset against a real warehouse.

A small province goes through the pipeline (ingest over HTTP, dbt, gate, marts, two published
refreshes of the lists); Superset 6.1 from .venv-superset starts on loopback with its own SQLite
metadata (db upgrade, admin, init, server); the bundle is imported through the REST API with the
tthc_bi password in the request only. Then:

- every chart's saved query (GET /api/v1/chart/<id>/data/) returns exactly the rows of an
  independent SQL query on the marts, written here by hand, so a wrong metric, filter or column in
  dashboards.yml fails;
- Superset reads as tthc_bi: its connection names that role, and the one table tthc_bi may not
  read is refused;
- the three dashboards exist with their Vietnamese titles and their charts; importing again
  changes nothing;
- the scores dashboard renders in Chromium with every chart drawn and none in error, no request
  leaving loopback; the screenshot is .local/test-output/superset-dashboard.png.
"""

from __future__ import annotations

import io
import math
import threading
import time
import uuid
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
import yaml

from bi.superset import bundle, importer
from tests.bi.superset.server import ADMIN, SupersetServer
from tests.bi.superset.warehouse import build_province
from tests.conftest import free_port
from tests.failure.night import drop_database
from tthc.paths import LOCAL
from tthc.warehouse.stages import as_stage

pytestmark = pytest.mark.slow

TITLES = {
    "diem_tinh": "Điểm chất lượng phục vụ TTHC của tỉnh (Quyết định 766)",
    "viec_can_lam": "Hồ sơ cần xử lý hôm nay theo đơn vị",
    "doi_soat": "Đối soát điểm với Cổng Dịch vụ công quốc gia",
}
SCREENSHOT = LOCAL / "test-output" / "superset-dashboard.png"

# Each chart's rows as SQL on the published tables: (query, ordered?). Ordered: a table chart's
# rows in its order; otherwise compared as sets of rows (a chart plots them by x and series).
SCORE = "marts.mart_score_monthly"
RECON = "marts.mart_portal_reconciliation"
EXPECTED = {
    "tong_diem_tinh": (
        f"""select period_start, max(total_score) from {SCORE}
        where period_type = 'month' and unit_level = 'TINH' group by 1""",
        False,
    ),
    "diem_theo_don_vi": (
        f"""select period_key, unit_code, unit_name, unit_level, total_score, rank_in_level, rating_band
        from {SCORE} where period_type = 'month' order by period_key desc, unit_level, rank_in_level, unit_code""",
        True,
    ),
    "diem_theo_nhom": (
        f"""select period_key, max(score_ckmb), max(score_tdgq), max(score_clgq), max(score_tttt),
        max(score_mdhl), max(score_mdsh) from {SCORE} where period_type = 'month' and unit_level = 'TINH' group by 1""",
        False,
    ),
    "xu_huong_huyen": (
        f"""select period_start, unit_name, max(total_score) from {SCORE}
        where period_type = 'month' and unit_level in ('TINH', 'HUYEN') group by 1, 2""",
        False,
    ),
    "xep_loai": (
        f"select period_key, rating_band, count(*) from {SCORE} where period_type = 'month' group by 1, 2",
        False,
    ),
    "viec_can_lam_hien_tai": (
        """select at_ts, unit_code, n_sap_den_han, n_qua_han, n_qua_han_chua_xin_loi,
        n_buoc_qua_han, n_chua_tra_ket_qua, n_thieu_ket_qua_dien_tu, n_chua_dong_bo, n_thieu_ly_do,
        total_points_now, total_points_min, total_points_max
        from actions.act_unit_summary order by n_qua_han desc, unit_code""",
        True,
    ),
    "qua_han_theo_don_vi": (
        """select unit_code, sum(n_sap_den_han), sum(n_qua_han), sum(n_qua_han_chua_xin_loi)
        from actions.act_unit_summary group by 1""",
        False,
    ),
    "lich_su_qua_han": (
        "select at_ts, unit_code, sum(n_qua_han) from actions_history.unit_summary group by 1, 2",
        False,
    ),
    "lich_su_du_bao": (
        """select at_ts, unit_code, min(total_points_min), max(total_points_max)
        from actions_history.unit_summary group by 1, 2""",
        False,
    ),
    "doi_soat_tong": (
        f"""select period_key, unit_code, computed_points, portal_points, difference from {RECON}
        where period_type = 'month' and item_code = 'TONG' order by period_key desc, unit_code""",
        True,
    ),
    "lech_theo_muc": (
        f"""select item_code, avg(difference), max(abs(difference)) from {RECON}
        where period_type = 'month' group by 1""",
        False,
    ),
    "so_muc_lech": (
        f"""select period_key, count(*) from {RECON}
        where period_type = 'month' and abs(difference) > 0.5 group by 1""",
        False,
    ),
}


@pytest.fixture(scope="module")
def warehouse(pg_cluster, tmp_path_factory):
    admin = pg_cluster.admin_dsn()
    name = f"bi_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    dsn = build_province(admin, name, tmp_path_factory.mktemp("outbox"))
    print(f"\nwarehouse built in {time.monotonic() - started:.1f} s")
    yield dsn
    drop_database(admin, name)


@pytest.fixture(scope="module")
def superset(tmp_path_factory):
    """Set up and start in a thread, so Superset's migrations run while the warehouse builds."""
    server = SupersetServer(tmp_path_factory.mktemp("superset"), free_port())
    failure: list[BaseException] = []

    def start():
        try:
            server.start()
        except BaseException as exc:  # reported by the test that waits for the server
            failure.append(exc)

    thread = threading.Thread(target=start, name="superset-start", daemon=True)
    thread.start()
    try:
        yield server, thread, failure
    finally:
        thread.join(timeout=300)
        server.stop()


@pytest.fixture(scope="module")
def imported(superset, warehouse):
    superset, thread, failure = superset
    thread.join(timeout=300)
    if failure:
        raise failure[0]
    assert superset.process is not None, "Superset did not start in 300 s"
    print(f"superset up: {superset.seconds}")
    bi = as_stage(warehouse, "bi")
    assert bi.user == "tthc_bi"
    started = time.monotonic()
    boards = importer.import_dashboards(
        superset.url, ADMIN, superset.admin_password, bi.password, host=bi.host, port=bi.port, database=bi.dbname
    )
    print(f"imported in {time.monotonic() - started:.1f} s: {boards}")
    client = importer.Superset(superset.url, ADMIN, superset.admin_password)
    return boards, client, bi, superset


def chart_ids(client) -> dict[str, int]:
    """Chart id by spec key (matched through the derived UUIDs)."""
    by_uuid = {
        c["uuid"]: c["id"] for c in client.get("/api/v1/chart/", q="(columns:!(id,uuid),page_size:100)")["result"]
    }
    return {key: by_uuid[bundle.uid("chart", key)] for key in bundle.load_spec()["charts"]}


def plain(value):
    """A value as Superset's JSON gives it: numbers as floats, dates and times as epoch ms, null for NaN."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, datetime):
        return value.timestamp() * 1000
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000
    raise TypeError(f"unexpected {type(value).__name__}: {value!r}")


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rows_match(got: list[tuple], want: list[tuple], ordered: bool) -> bool:
    if not ordered:
        key = lambda row: tuple((v is None, str(v) if not isinstance(v, float) else f"{v:.6f}") for v in row)  # noqa: E731
        got, want = sorted(got, key=key), sorted(want, key=key)
    return len(got) == len(want) and all(
        len(g) == len(w) and all(same(x, y) for x, y in zip(g, w)) for g, w in zip(got, want)
    )


def test_bundle_carries_no_password(imported):
    _, _, bi, _ = imported
    archive = zipfile.ZipFile(
        io.BytesIO(bundle.build_zip(bundle.load_spec(), bundle.sqlalchemy_uri(bi.host, bi.port, bi.dbname)))
    )
    text = "".join(archive.read(name).decode() for name in archive.namelist())
    assert bi.password not in text
    database = yaml.safe_load(archive.read(f"{bundle.ROOT}/{bundle.database_path(bundle.load_spec())}"))
    assert database["sqlalchemy_uri"] == f"postgresql+psycopg2://tthc_bi:{bundle.MASK}@{bi.host}:{bi.port}/{bi.dbname}"
    assert "password" not in database


def test_superset_reads_as_tthc_bi(imported):
    _, client, _, _ = imported
    (database,) = client.get("/api/v1/database/")["result"]
    connection = client.get(f"/api/v1/database/{database['id']}/connection")["result"]
    assert connection["sqlalchemy_uri"].startswith("postgresql+psycopg2://tthc_bi:")
    assert bundle.MASK in connection["sqlalchemy_uri"]

    def run(sql: str):
        return client.session.post(
            f"{client.url}/api/v1/sqllab/execute/", json={"database_id": database["id"], "sql": sql, "runAsync": False}
        )

    ok = run("select count(*) as n from marts.mart_score_monthly")
    assert ok.status_code == 200 and ok.json()["data"][0]["n"] > 0, ok.text
    refused = run("select count(*) as n from actions.act_list_rows_named")  # handlers' names: never BI
    assert "permission denied" in refused.text, refused.text


def test_every_chart_returns_the_marts_numbers(imported, warehouse):
    _, client, _, _ = imported
    ids = chart_ids(client)
    assert set(ids) == set(EXPECTED), "a chart without its independent query here, or the reverse"
    wrong = {}
    with psycopg.connect(warehouse.conninfo()) as conn:
        for key, (query, ordered) in EXPECTED.items():
            answer = client.session.get(f"{client.url}/api/v1/chart/{ids[key]}/data/", timeout=120)
            assert answer.status_code == 200, f"{key}: HTTP {answer.status_code}: {answer.text[:1000]}"
            (result,) = answer.json()["result"]
            got = [tuple(row[c] for c in result["colnames"]) for row in result["data"]]
            want = [tuple(plain(v) for v in row) for row in conn.execute(query).fetchall()]
            assert want, f"{key}: the warehouse has no rows for it: the test proves nothing"
            if not rows_match(got, want, ordered):
                wrong[key] = {"superset": got[:5], "marts": want[:5], "rows": (len(got), len(want))}
    assert wrong == {}


def test_the_datasets_columns_are_the_tables_columns(warehouse):
    """dashboards.yml lists each dataset's columns and types; they are the published tables' own."""
    wrong = {}
    with psycopg.connect(warehouse.conninfo()) as conn:
        for _key, ds in bundle.load_spec()["datasets"].items():
            actual = dict(
                conn.execute(
                    "select column_name, upper(data_type) from information_schema.columns "
                    "where table_schema = %s and table_name = %s",
                    (ds["schema"], ds["table"]),
                ).fetchall()
            )
            for column, kind in ds["columns"].items():
                if actual.get(column) != kind.upper():
                    wrong[f"{ds['schema']}.{ds['table']}.{column}"] = (kind, actual.get(column))
    assert wrong == {}


def test_the_history_spans_both_refreshes(imported, warehouse):
    """The history charts have something to draw: two published refreshes per unit."""
    with psycopg.connect(warehouse.conninfo()) as conn:
        (moments,) = conn.execute("select count(distinct at_ts) from actions_history.unit_summary").fetchone()
    assert moments == 2


def test_three_dashboards_with_vietnamese_titles_and_their_charts(imported):
    boards, client, bi, superset = imported
    spec = bundle.load_spec()
    assert {spec["dashboards"][key]["title"] for key in TITLES} == set(TITLES.values()) == set(boards)
    for key, title in TITLES.items():
        board = client.get(f"/api/v1/dashboard/{boards[title]}")["result"]
        assert board["dashboard_title"] == title and board["published"]
        charts = client.get(f"/api/v1/dashboard/{boards[title]}/charts")["result"]
        placed = [c for row in spec["dashboards"][key]["rows"] for c in row]
        assert sorted(c["slice_name"] for c in charts) == sorted(spec["charts"][c]["title"] for c in placed)
    # importing again updates the same objects: no second dashboard, chart or dataset
    counts = {kind: client.get(f"/api/v1/{kind}/")["count"] for kind in ("dashboard", "chart", "dataset", "database")}
    again = importer.import_dashboards(
        superset.url, ADMIN, superset.admin_password, bi.password, host=bi.host, port=bi.port, database=bi.dbname
    )
    assert again == boards
    assert {kind: client.get(f"/api/v1/{kind}/")["count"] for kind in counts} == counts


RENDERED = """n => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
  return holders.length === n && holders.every(h =>
    h.querySelector('.slice_container canvas, .slice_container table tbody tr, .slice_container .header-line')
    || h.querySelector('.ant-alert-error, [data-test="error-message"]'));
}"""
STATE = """() => [...document.querySelectorAll('.dashboard-component-chart-holder')].map(h => ({
  title: (h.querySelector('.editable-title') || h).innerText.trim(),
  drawn: !!h.querySelector('.slice_container canvas, .slice_container table tbody tr, .slice_container .header-line'),
  error: !!h.querySelector('.ant-alert-error, [data-test="error-message"]')}))"""


def test_scores_dashboard_renders_in_chromium(imported):
    from tthc.scorecards.browser import chromium

    superset = imported[3]
    spec = bundle.load_spec()
    board = spec["dashboards"]["diem_tinh"]
    expected = [spec["charts"][c]["title"] for row in board["rows"] for c in row]
    outside: list[str] = []

    def loopback_only(route):
        url = route.request.url
        if url.startswith((superset.url, "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1500}, locale="vi-VN")
        page.route("**/*", loopback_only)
        page.goto(f"{superset.url}/login/")
        page.fill("[data-test=username-input]", ADMIN)
        page.fill("[data-test=password-input]", superset.admin_password)
        page.click("[data-test=login-button]")
        page.wait_for_url("**/superset/welcome/**", timeout=60_000)
        page.goto(f"{superset.url}/superset/dashboard/{board['slug']}/")
        page.wait_for_function(RENDERED, arg=len(expected), timeout=90_000)
        state = page.evaluate(STATE)
        page.wait_for_timeout(1500)  # the charts' entry animation
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        shown = page.inner_text("body")
    assert [s["title"] for s in state] == expected
    assert [s for s in state if s["error"] or not s["drawn"]] == []
    assert board["title"] in shown
    assert outside == []
