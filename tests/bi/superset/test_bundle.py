"""The bundle builder without a server: stable bytes and UUIDs, no password, a spec that refers only
to what exists (the live test, test_dashboards_live.py, imports it into a real Superset)."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
import yaml

from bi.superset import bundle

URI = bundle.sqlalchemy_uri("warehouse", 5432, "tthc")


@pytest.fixture(scope="module")
def spec():
    return bundle.load_spec()


def documents(spec) -> dict[str, dict]:
    archive = zipfile.ZipFile(io.BytesIO(bundle.build_zip(spec, URI)))
    return {name.removeprefix(f"{bundle.ROOT}/"): yaml.safe_load(archive.read(name)) for name in archive.namelist()}


def test_same_spec_same_bytes_and_uuids(spec):
    assert bundle.build_zip(spec, URI) == bundle.build_zip(bundle.load_spec(), URI)
    # Imported objects are found again by these: changing the namespace would orphan them.
    assert bundle.uid("dashboard", "diem_tinh") == "be0f4338-c026-592d-b75f-a06d894cb8fc"


def test_the_database_entry_has_no_password(spec):
    database = documents(spec)[bundle.database_path(spec)]
    assert database["sqlalchemy_uri"] == f"postgresql+psycopg2://tthc_bi:{bundle.MASK}@warehouse:5432/tthc"
    assert "password" not in database
    with pytest.raises(bundle.SpecError, match="password"):
        bundle.build_zip(spec, "postgresql+psycopg2://tthc_bi:s3cret@warehouse:5432/tthc")


def test_every_chart_has_params_and_a_query_context_on_its_dataset(spec):
    docs = documents(spec)
    assert docs["metadata.yaml"]["type"] == "assets"
    charts = {k: v for k, v in docs.items() if k.startswith("charts/")}
    assert len(charts) == len(spec["charts"])
    for name, chart in charts.items():
        context = json.loads(chart["query_context"])
        assert context["datasource"] == {"id": chart["dataset_uuid"], "type": "table"}, name
        assert context["form_data"] == chart["params"], name
        (query,) = context["queries"]
        assert query["columns"] or query["metrics"], name


def test_dashboards_place_every_chart_once(spec):
    docs = documents(spec)
    placed = []
    for key in spec["dashboards"]:
        position = docs[f"dashboards/{key}.yaml"]["position"]
        placed += [
            node["meta"]["uuid"] for node in position.values() if isinstance(node, dict) and node.get("type") == "CHART"
        ]
    assert sorted(placed) == sorted(bundle.uid("chart", key) for key in spec["charts"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["charts"]["diem_theo_nhom"].update(x="no_such_column"), "not in dataset"),
        (lambda s: s["charts"]["diem_theo_nhom"].update(dataset="nope"), "unknown dataset"),
        (lambda s: s["charts"]["tong_diem_tinh"].update(x="period_key"), "date or timestamp"),
        (lambda s: s["dashboards"]["diem_tinh"]["rows"].append(["ghost"]), "unknown charts"),
        (lambda s: s["dashboards"]["doi_soat"]["rows"].pop(), "on no dashboard"),
    ],
)
def test_a_spec_naming_what_does_not_exist_is_refused(spec, change, message):
    broken = copy.deepcopy(spec)
    change(broken)
    with pytest.raises(bundle.SpecError, match=message):
        bundle.check_spec(broken)


def test_each_dashboard_has_a_dbt_exposure_on_the_models_it_reads(spec):
    """dbt/models/exposures_dashboards.yml: one exposure per dashboard (found by its slug in the
    URL), type dashboard, depending on exactly the dbt models its charts' datasets are."""
    from pathlib import Path

    repo = Path(bundle.__file__).resolve().parents[2]
    models = {path.stem for path in (repo / "dbt" / "models").rglob("*.sql")}
    exposures = yaml.safe_load((repo / "dbt" / "models" / "exposures_dashboards.yml").read_text(encoding="utf-8"))
    by_slug = {e["url"].rstrip("/").rsplit("/", 1)[-1]: e for e in exposures["exposures"]}
    assert set(by_slug) == {board["slug"] for board in spec["dashboards"].values()}
    for board in spec["dashboards"].values():
        exposure = by_slug[board["slug"]]
        assert exposure["type"] == "dashboard" and exposure["owner"]["name"]
        tables = {spec["datasets"][spec["charts"][c]["dataset"]]["table"] for row in board["rows"] for c in row}
        assert sorted(exposure["depends_on"]) == sorted(f"ref('{t}')" for t in tables if t in models), board["slug"]
