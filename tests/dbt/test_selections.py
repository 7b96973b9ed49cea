"""The build phases are folder selections (tthc/pipeline/dbt.py, dbt/README.md "Layout"): what
each selects, from `dbt ls` against the project. The warehouse is every model of staging,
intermediate and marts/core; the marts build every model of marts/indicators, its steps in
intermediate/ included; the intraday refresh the incremental models between the ingested
sources and the actions models, which include the indicator step int_dossier_metric_inputs and
no indicator mart."""

from __future__ import annotations

import pytest

from tests.dbt.dbt_runner import parsed_manifest, run_dbt_offline
from tthc.pipeline.dbt import (
    ACTIONS_TAG,
    ACTIONS_UPSTREAM_EXCLUDE,
    ACTIONS_UPSTREAM_SELECTION,
    MARTS_SELECTION,
    WAREHOUSE_SELECTION,
)


@pytest.fixture(scope="module")
def project(dbt_work):
    manifest = parsed_manifest(dbt_work)
    by_folder: dict[str, set[str]] = {}  # 'staging', 'intermediate', 'marts/core', ... -> model names
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            parts = node["original_file_path"].split("/")  # models/<folder>[/<sub>]/...
            folder = "/".join(parts[1:3]) if parts[1] == "marts" else parts[1]
            by_folder.setdefault(folder, set()).add(node["name"])
    return dbt_work, by_folder


def models(work, select: list[str], exclude: list[str] = ()) -> set[str]:
    args = ["ls", "-q", "--resource-type", "model", "--output", "name", "--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    return set(run_dbt_offline(work, *args).stdout.split())


def test_the_warehouse_is_staging_intermediate_and_core(project):
    work, folders = project
    got = models(work, ["resource_type:seed", *WAREHOUSE_SELECTION])
    assert got == folders["staging"] | folders["intermediate"] | folders["marts/core"]
    assert {"int_calendar_days", "int_dossiers_timed", "int_unit_closure", "fct_dossier", "dim_date"} <= got
    assert not {m for m in got if m.startswith(("int_metric", "int_list", "int_action", "mart_", "act_"))}


def test_the_marts_build_is_the_indicators_folder_with_its_steps(project):
    work, folders = project
    got = models(work, MARTS_SELECTION)
    assert got == folders["marts/indicators"]
    assert {
        "int_dossier_metric_inputs",
        "int_list_late_dossiers",
        "int_metric_periods",
        "mart_metric_monthly",
        "mart_report_ii06a",
    } <= got
    assert not got & (folders["marts/core"] | folders["marts/actions"] | folders["intermediate"])


def test_the_actions_are_their_folder(project):
    work, folders = project
    assert models(work, [ACTIONS_TAG]) == folders["marts/actions"]


def test_the_intraday_refresh_rebuilds_the_metric_inputs_and_no_indicator_mart(project):
    work, _ = project
    got = models(work, ACTIONS_UPSTREAM_SELECTION, ACTIONS_UPSTREAM_EXCLUDE)
    assert got == {
        "stg_one_stop__dossiers",
        "stg_one_stop__process_steps",
        "stg_one_stop__process_step_handlers",
        "stg_dvc_portal__sync_statuses",
        "int_dossier_changes",
        "int_dossier_contents_summarized",
        "int_dossier_supplement_requests",
        "int_dossier_supplements_summarized",
        "int_dossiers_timed",
        "fct_dossier",
        "fct_sync",
        "int_dossier_metric_inputs",
    }
    # the glob matters: the folder itself would leave the metric inputs out
    folder = [e for e in ACTIONS_UPSTREAM_EXCLUDE if not e.startswith("path:models/marts/indicators")]
    assert "int_dossier_metric_inputs" not in models(
        work, ACTIONS_UPSTREAM_SELECTION, [*folder, "path:models/marts/indicators"]
    )
