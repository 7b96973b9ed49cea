"""The dbt folders are in build order (dbt/README.md, "Layout"): a model reads only models of its
own folder or of folders before it in FOLDERS, a model of a phase's steps
(models/marts/<phase>/intermediate/) counting as its phase's folder; only staging reads sources.
Checked on dbt's own manifest (depends_on, what ref() and source() resolved to), so a new ref
that reaches forward fails here, and a model in a folder the order does not know fails too."""

from __future__ import annotations

import pytest

from tests.dbt.dbt_runner import parsed_manifest

FOLDERS = ("staging", "intermediate", "marts/core", "marts/indicators", "marts/actions")


def folder_of(path: str) -> str | None:
    """The folder of FOLDERS a model file belongs to ('models/marts/indicators/intermediate/x.sql'
    -> 'marts/indicators'), None when it is in none."""
    inside = path.removeprefix("models/")
    matches = [f for f in FOLDERS if inside.startswith(f + "/")]
    return max(matches, key=len) if matches else None


def layout_violations(models: dict[str, tuple[str, list[str]]]) -> list[str]:
    """What breaks the order, for models given as {unique_id: (file path, depends_on nodes)}."""
    wrong = []
    for node, (path, depends_on) in sorted(models.items()):
        folder = folder_of(path)
        if folder is None:
            wrong.append(f"{node}: {path} is in no folder of {FOLDERS}")
            continue
        for parent in depends_on:
            if parent.startswith("source.") and folder != "staging":
                wrong.append(f"{node} ({folder}) reads the source {parent}: only staging reads sources")
            elif parent.startswith("model."):
                parent_path = models[parent][0] if parent in models else "?"
                parent_folder = folder_of(parent_path)
                if parent_folder is None or FOLDERS.index(parent_folder) > FOLDERS.index(folder):
                    wrong.append(
                        f"{node} ({folder}) reads {parent} ({parent_folder or parent_path}), a folder after its own"
                    )
    return wrong


def test_the_rule_fails_on_a_model_reading_forward_or_out_of_the_order():
    ok = {
        "model.t.stg_a": ("models/staging/one_stop/stg_a.sql", ["source.t.one_stop.a"]),
        "model.t.int_b": ("models/intermediate/dossiers/int_b.sql", ["model.t.stg_a"]),
        "model.t.fct_c": ("models/marts/core/fct_c.sql", ["model.t.int_b", "seed.t.holidays"]),
        "model.t.int_d": ("models/marts/indicators/intermediate/int_d.sql", ["model.t.fct_c"]),
        "model.t.mart_e": ("models/marts/indicators/mart_e.sql", ["model.t.int_d"]),
        "model.t.int_f": ("models/marts/actions/intermediate/int_f.sql", ["model.t.int_d", "model.t.fct_c"]),
        "model.t.act_g": ("models/marts/actions/act_g.sql", ["model.t.int_f", "model.t.mart_e"]),
    }
    assert layout_violations(ok) == []
    # core reading an indicator step: a folder after its own
    forward = ok | {"model.t.fct_c": ("models/marts/core/fct_c.sql", ["model.t.int_b", "model.t.int_d"])}
    assert layout_violations(forward) == [
        "model.t.fct_c (marts/core) reads model.t.int_d (marts/indicators), a folder after its own"
    ]
    # an indicator step reading an actions step
    back = ok | {"model.t.int_d": ("models/marts/indicators/intermediate/int_d.sql", ["model.t.int_f"])}
    assert len(layout_violations(back)) == 1
    # an intermediate reading a source; a model in a folder of no phase
    assert (
        len(
            layout_violations(
                ok | {"model.t.int_b": ("models/intermediate/dossiers/int_b.sql", ["source.t.one_stop.a"])}
            )
        )
        == 1
    )
    assert layout_violations(ok | {"model.t.x": ("models/scratch/x.sql", [])}) == [
        f"model.t.x: models/scratch/x.sql is in no folder of {FOLDERS}"
    ]


@pytest.fixture(scope="module")
def manifest(dbt_work):
    return parsed_manifest(dbt_work)


def test_every_model_reads_its_own_folder_or_one_before_it(manifest):
    models = {
        k: (n["original_file_path"], n["depends_on"]["nodes"])
        for k, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
    }
    assert len(models) > 60
    assert layout_violations(models) == []
    # every folder of the order holds models, and the phases' steps keep the schema intermediate
    assert {folder_of(path) for path, _ in models.values()} == set(FOLDERS)
    steps = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and "/intermediate/" in n["original_file_path"]
        and n["original_file_path"].startswith("models/marts/")
    ]
    assert len(steps) == 20 and {n["config"]["schema"] for n in steps} == {"intermediate"}
    assert not [n["name"] for n in steps if n["config"]["contract"]["enforced"]]
