"""Build Superset's import ZIP (format v1.0.0) from dashboards.yml.

The bundle holds metadata.yaml, databases/, datasets/, charts/ (params for the explore view and
query_context for GET /api/v1/chart/<id>/data/) and dashboards/ (position and metadata). Every
UUID is derived from the spec's keys, so importing again updates the same objects.

The database entry never carries the tthc_bi password: its URI has Superset's mask
(XXXXXXXXXX) and the importer sends the password in the import request's `passwords` field.

Runs with the standard library and PyYAML only, so both the project's venv (tests) and the
Superset container's own Python (compose, at start) can run it:

    python bi/superset/bundle.py --host warehouse --port 5432 --database tthc --out bundle.zip
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml

SPEC = Path(__file__).with_name("dashboards.yml")
ROOT = "tthc_dashboards"  # the folder inside the ZIP (Superset strips it)
VERSION = "1.0.0"  # Superset's import format
MASK = "XXXXXXXXXX"  # Superset's placeholder for a password it must be given
BI_ROLE = "tthc_bi"
# Derived UUIDs: uuid5(NAMESPACE, "<kind>:<key>"). Changing NAMESPACE would orphan imported objects.
NAMESPACE = uuid.UUID("6f1c1d0e-4b7a-5c8e-9d2f-7a3b1e0c5d94")
TEMPORAL = re.compile(r"^(DATE|TIMESTAMP)", re.I)
KINDS = {
    "table": "table",
    "bar": "echarts_timeseries_bar",
    "line": "echarts_timeseries_line",
    "big_number": "big_number",
}
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)  # fixed, so the same spec gives the same bytes


class SpecError(ValueError):
    pass


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def load_spec(path: Path = SPEC) -> dict:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    check_spec(spec)
    return spec


def check_spec(spec: dict) -> None:
    """Every reference resolves and every column a chart names is in its dataset."""
    datasets, charts = spec["datasets"], spec["charts"]
    for key, chart in charts.items():
        if chart.get("kind") not in KINDS:
            raise SpecError(f"chart {key}: kind {chart.get('kind')!r} is not one of {', '.join(KINDS)}")
        if chart.get("dataset") not in datasets:
            raise SpecError(f"chart {key}: unknown dataset {chart.get('dataset')!r}")
        known = datasets[chart["dataset"]]["columns"]
        named = [
            *chart.get("where", {}),
            *chart.get("columns", []),
            *chart.get("groupby", []),
            *[c for c, _ in chart.get("order_by", [])],
            *([chart["x"]] if "x" in chart else []),
        ]
        missing = [c for c in named if c not in known]
        if missing:
            raise SpecError(f"chart {key}: columns {missing} are not in dataset {chart['dataset']}")
        if chart["kind"] in ("line", "big_number") and not TEMPORAL.match(known[chart["x"]]):
            raise SpecError(f"chart {key}: x {chart['x']} must be a date or timestamp column")
    placed = [c for board in spec["dashboards"].values() for row in board["rows"] for c in row]
    unknown = sorted(set(placed) - set(charts))
    if unknown:
        raise SpecError(f"dashboards place unknown charts: {unknown}")
    unplaced = sorted(set(charts) - set(placed))
    if unplaced:
        raise SpecError(f"charts on no dashboard: {unplaced}")


def sqlalchemy_uri(host: str, port: int | str, database: str, user: str = BI_ROLE) -> str:
    """The warehouse's URI for Superset, its password masked."""
    return f"postgresql+psycopg2://{quote(user, safe='')}:{MASK}@{host}:{port}/{quote(database, safe='')}"


def _check_masked(uri: str) -> None:
    password = urlsplit(uri).password
    if password not in (None, MASK):
        raise SpecError("the database URI carries a password: the bundle must not; pass it at import")


# --- the pieces ------------------------------------------------------------------------------


def _metrics(mapping: dict[str, str]) -> list[dict]:
    return [
        {
            "expressionType": "SQL",
            "sqlExpression": expression,
            "label": label,
            "hasCustomLabel": True,
            "optionName": f"metric_{i}",
        }
        for i, (label, expression) in enumerate(mapping.items())
    ]


def _adhoc_filters(chart: dict) -> list[dict]:
    filters = []
    for column, value in chart.get("where", {}).items():
        many = isinstance(value, list)
        filters.append(
            {
                "clause": "WHERE",
                "expressionType": "SIMPLE",
                "subject": column,
                "operator": "IN" if many else "==",
                "comparator": value,
                "isExtra": False,
                "isNew": False,
            }
        )
    for condition in chart.get("where_sql", []):
        filters.append(
            {"clause": "WHERE", "expressionType": "SQL", "sqlExpression": condition, "isExtra": False, "isNew": False}
        )
    return filters


def _query_filters(chart: dict) -> tuple[list[dict], str]:
    """The adhoc filters as a query object takes them: simple ones in `filters`, SQL in `where`."""
    filters = [
        {"col": column, "op": "IN" if isinstance(value, list) else "==", "val": value}
        for column, value in chart.get("where", {}).items()
    ]
    where = " AND ".join(f"({condition})" for condition in chart.get("where_sql", []))
    return filters, where


def chart_params(key: str, chart: dict, dataset_key: str) -> dict:
    """form_data as Superset's explore view saves it (the dashboard renders from these)."""
    viz = KINDS[chart["kind"]]
    columns = chart.get("_columns", {})
    params: dict = {
        "viz_type": viz,
        "datasource": f"{uid('dataset', dataset_key)}__table",
        "adhoc_filters": _adhoc_filters(chart),
        "extra_form_data": {},
        "dashboards": [],
    }
    if chart["kind"] == "table":
        params.update(
            query_mode="raw",
            all_columns=chart["columns"],
            groupby=[],
            metrics=[],
            order_by_cols=[json.dumps([c, asc]) for c, asc in chart.get("order_by", [])],
            row_limit=chart.get("row_limit", 10000),
            server_pagination=False,
            table_timestamp_format="%Y-%m-%d %H:%M",
            include_search=True,
            show_cell_bars=False,
            color_pn=True,
            column_config={c: {"d3NumberFormat": ",.2f"} for c in chart["columns"] if columns[c].upper() == "NUMERIC"},
        )
    elif chart["kind"] in ("bar", "line"):
        params.update(
            x_axis=chart["x"],
            metrics=_metrics(chart["metrics"]),
            groupby=chart.get("groupby", []),
            row_limit=chart.get("row_limit", 10000),
            order_desc=True,
            truncate_metric=True,
            show_legend=True,
            legendType="scroll",
            legendOrientation="top",
            rich_tooltip=True,
            y_axis_format="SMART_NUMBER",
            x_axis_time_format=chart.get("x_format", "smart_date"),
            sort_series_type="name",
            sort_series_ascending=True,
        )
        if chart["kind"] == "bar":
            params.update(
                orientation="vertical",
                stack="Stack" if chart.get("stacked") else None,
                x_axis_sort_asc=True,
                show_value=False,
            )
        else:
            params.update(markerEnabled=True, markerSize=6, seriesType="line")
    elif chart["kind"] == "big_number":
        ((label, expression),) = chart["metric"].items()
        params.update(
            x_axis=chart["x"],
            metric=_metrics({label: expression})[0],
            show_trend_line=True,
            start_y_axis_at_zero=False,
            header_font_size=0.4,
            subheader_font_size=0.15,
            y_axis_format=".2f",
            time_format=chart.get("x_format", "smart_date"),
            rolling_type="None",
        )
    return params


def query_context(key: str, chart: dict, dataset_key: str, params: dict) -> str:
    """What GET /api/v1/chart/<id>/data/ runs: the chart's rows without the front end's reshaping
    (pivots, rolling windows), so the numbers are the dataset's aggregates as the chart plots them.
    The datasource is named by its UUID, which Superset resolves after import."""
    filters, where = _query_filters(chart)
    query: dict = {
        "filters": filters,
        "extras": {"having": "", "where": where},
        "applied_time_extras": {},
        "annotation_layers": [],
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "row_limit": chart.get("row_limit", 10000),
    }
    if chart["kind"] == "table":
        query.update(columns=chart["columns"], metrics=[], orderby=[[c, asc] for c, asc in chart.get("order_by", [])])
    elif chart["kind"] in ("bar", "line"):
        metrics = _metrics(chart["metrics"])
        query.update(
            columns=[chart["x"], *chart.get("groupby", [])],
            metrics=metrics,
            orderby=[[chart["x"], True], *[[g, True] for g in chart.get("groupby", [])]],
        )
    else:
        ((label, expression),) = chart["metric"].items()
        query.update(columns=[chart["x"]], metrics=_metrics({label: expression}), orderby=[[chart["x"], True]])
    return json.dumps(
        {
            "datasource": {"id": uid("dataset", dataset_key), "type": "table"},
            "force": False,
            "queries": [query],
            "form_data": params,
            "result_format": "json",
            "result_type": "full",
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def database_yaml(spec: dict, uri: str) -> dict:
    db = spec["database"]
    return {
        "database_name": db["name"],
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            "engine_params": {},
            "metadata_cache_timeout": {},
            "schemas_allowed_for_csv_upload": [],
        },
        "uuid": uid("database", db["key"]),
        "version": VERSION,
    }


def dataset_yaml(spec: dict, key: str) -> dict:
    ds = spec["datasets"][key]
    temporal = [c for c, kind in ds["columns"].items() if TEMPORAL.match(kind)]
    columns = [
        {
            "column_name": c,
            "verbose_name": None,
            "is_dttm": bool(TEMPORAL.match(kind)),
            "is_active": True,
            "type": kind,
            "advanced_data_type": None,
            "groupby": True,
            "filterable": True,
            "expression": None,
            "description": None,
            "python_date_format": None,
            "extra": None,
        }
        for c, kind in ds["columns"].items()
    ]
    return {
        "table_name": ds["table"],
        "schema": ds["schema"],
        "catalog": None,
        "main_dttm_col": temporal[0] if temporal else None,
        "description": None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": uid("dataset", key),
        "metrics": [
            {
                "metric_name": "count",
                "verbose_name": "Số dòng",
                "metric_type": "count",
                "expression": "COUNT(*)",
                "description": None,
                "d3format": None,
                "extra": None,
                "warning_text": None,
            }
        ],
        "columns": columns,
        "version": VERSION,
        "database_uuid": uid("database", spec["database"]["key"]),
    }


def chart_yaml(spec: dict, key: str) -> dict:
    chart = spec["charts"][key]
    params = chart_params(key, {**chart, "_columns": spec["datasets"][chart["dataset"]]["columns"]}, chart["dataset"])
    return {
        "slice_name": chart["title"],
        "description": None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": query_context(key, chart, chart["dataset"], params),
        "cache_timeout": None,
        "uuid": uid("chart", key),
        "version": VERSION,
        "dataset_uuid": uid("dataset", chart["dataset"]),
    }


def dashboard_yaml(spec: dict, key: str) -> dict:
    board = spec["dashboards"][key]
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": board["title"]}},
    }
    for r, row in enumerate(board["rows"]):
        row_id = f"ROW-{key}-{r}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        width = 12 // len(row)
        for chart_key in row:
            chart_id = f"CHART-{chart_key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                # chartId: any number unique in the bundle; the import
                # maps it to the chart's id through the uuid.
                "meta": {
                    "uuid": uid("chart", chart_key),
                    "width": width,
                    "chartId": list(spec["charts"]).index(chart_key) + 1,
                    "height": 60 if spec["charts"][chart_key]["kind"] == "table" else 50,
                    "sliceName": spec["charts"][chart_key]["title"],
                },
            }
    metadata = {
        "color_scheme": "",
        "refresh_frequency": 0,
        "expanded_slices": {},
        "label_colors": {},
        "shared_label_colors": [],
        "color_scheme_domain": [],
        "timed_refresh_immune_slices": [],
        "cross_filters_enabled": False,
        "default_filters": "{}",
        "chart_configuration": {},
        "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": []},
        "native_filter_configuration": [],
    }
    return {
        "dashboard_title": board["title"],
        "description": None,
        "css": "",
        "slug": board.get("slug"),
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": uid("dashboard", key),
        "position": position,
        "metadata": metadata,
        "version": VERSION,
    }


def bundle_files(spec: dict, uri: str) -> dict[str, dict]:
    """Path inside the bundle (without its root folder) -> the YAML document."""
    _check_masked(uri)
    # "assets": imported through /api/v1/assets/import/, which overwrites every object it names (the
    # dashboard import would keep existing charts and datasets as they were).
    files = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2025-01-01T00:00:00+00:00"},
        database_path(spec): database_yaml(spec, uri),
    }
    for key, ds in spec["datasets"].items():
        files[f"datasets/{spec['database']['key']}/{ds['schema']}.{ds['table']}.yaml"] = dataset_yaml(spec, key)
    for key in spec["charts"]:
        files[f"charts/{key}.yaml"] = chart_yaml(spec, key)
    for key in spec["dashboards"]:
        files[f"dashboards/{key}.yaml"] = dashboard_yaml(spec, key)
    return files


def database_path(spec: dict) -> str:
    """The database's file in the bundle: the key of the import's `passwords` form field."""
    return f"databases/{spec['database']['key']}.yaml"


def build_zip(spec: dict, uri: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, document in sorted(bundle_files(spec, uri).items()):
            info = zipfile.ZipInfo(f"{ROOT}/{path}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the dashboards' Superset import ZIP (no password in it).")
    parser.add_argument("--host", required=True, help="the warehouse's host as Superset reaches it")
    parser.add_argument("--port", default="5432")
    parser.add_argument("--database", required=True)
    parser.add_argument("--user", default=BI_ROLE)
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_bytes(
        build_zip(load_spec(args.spec), sqlalchemy_uri(args.host, args.port, args.database, args.user))
    )
    print(f"bundle written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
