"""One place per metric: the registry seed names every metric of the scoring rules once, and
everything it names exists (models, their documented columns, oracle functions, §11 lists);
docs/metrics.md is what the generator writes from it now.

The checks are a function of the seed files, so the tests below also run them on broken copies
and see each kind of defect named."""

from __future__ import annotations

import ast
import csv
import re
import shutil
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from tests import oracle
from tthc.actions.labels import LIST_TITLES, METRIC_TITLES
from tthc.metrics import docs_page as docs_metrics
from tthc.metrics import registry as metric_registry
from tthc.scorecards.model import GROUPS

REPO = Path(__file__).resolve().parents[3]
MODELS = REPO / "dbt" / "models"
MACROS = REPO / "dbt" / "macros"
ORACLE = REPO / "tests" / "oracle.py"
THREE_THINGS_SQL = MODELS / "marts" / "actions" / "act_three_things.sql"


@lru_cache(maxsize=1)
def model_columns() -> dict[str, set[str]]:
    """{model: documented column names} of every model with a .sql file under dbt/models."""
    sql = {p.stem for p in MODELS.rglob("*.sql")}
    columns: dict[str, set[str]] = {name: set() for name in sql}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            if model["name"] in columns:
                columns[model["name"]] |= {c["name"] for c in model.get("columns") or []}
    return columns


@lru_cache(maxsize=1)
def macro_bodies() -> dict[str, str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in MACROS.glob("*.sql"))
    return {m.group(1): m.group(2) for m in re.finditer(r"{%-?\s*macro\s+(\w+)\(.*?%}(.*?){%-?\s*endmacro", text, re.S)}


def model_sql_with_macros(model: str) -> str:
    """The model's SQL and the bodies of the project macros it calls, transitively."""
    path = next(MODELS.rglob(f"{model}.sql"))
    bodies, seen, todo, texts = macro_bodies(), set(), [path.read_text(encoding="utf-8")], []
    while todo:
        text = todo.pop()
        texts.append(text)
        for name in set(re.findall(r"\b(\w+)\(", text)) & set(bodies) - seen:
            seen.add(name)
            todo.append(bodies[name])
    return "\n".join(texts)


def reads(model: str, table: str) -> str:
    """The SQL that reads `table`'s columns for a count model: the model's SQL and macros, and
    those of the models it refs other than `table` itself (which only selects them)."""
    own = model_sql_with_macros(model)
    refs = set(re.findall(r"ref\('(\w+)'\)", own)) & set(model_columns()) - {table}
    return "\n".join([own, *(model_sql_with_macros(r) for r in sorted(refs))])


def oracle_functions(path: Path = ORACLE) -> dict[str, str]:
    """{name: source} of the top-level functions of tests/oracle.py."""
    source = path.read_text(encoding="utf-8")
    return {
        node.name: ast.get_source_segment(source, node)
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
    }


def registry_problems(registry_csv: Path, rules_csv: Path) -> list[str]:
    """Every way the registry fails to be the one place per metric, in words."""
    problems = []
    with open(registry_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(rules_csv, encoding="utf-8", newline="") as handle:
        scored = {r["metric_code"] for r in csv.DictReader(handle)}
    codes = [r["metric_code"] for r in rows]
    problems += [f"{c}: {codes.count(c)} registry rows" for c in sorted(set(codes)) if codes.count(c) > 1]
    problems += [f"{c}: scored but has no registry row" for c in sorted(scored - set(codes))]
    problems += [f"{c}: in the registry but not in the scoring rules" for c in sorted(set(codes) - scored)]
    columns, functions = model_columns(), oracle_functions()
    for r in rows:
        code, model = r["metric_code"], r["count_model"]
        if model not in columns:
            problems.append(f"{code}: count model {model} does not exist")
        elif not re.search(rf"'{re.escape(code)}'\s*,", model_sql_with_macros(model)):
            problems.append(f"{code}: count model {model} does not emit metric '{code}'")
        for ref in (c.strip() for c in r["input_columns"].split(";") if c.strip()):
            table, _, column = ref.partition(".")
            if table not in columns:
                problems.append(f"{code}: model {table} (of {ref}) does not exist")
            elif column not in columns[table]:
                problems.append(f"{code}: column {ref} is not documented in {table}'s YAML")
            elif model in columns and not re.search(rf"\b{column}\b", reads(model, table)):
                problems.append(f"{code}: {model} and the models it refs never read {column}")
        names = [f.strip() for f in r["oracle_function"].split(";") if f.strip()]
        if not names:
            problems.append(f"{code}: no oracle function")
        problems += [f"{code}: oracle function {f} is not in tests/oracle.py" for f in names if f not in functions]
        if names and names[0] in functions and f'"{code}"' not in functions[names[0]]:
            problems.append(f'{code}: oracle function {names[0]} never counts "{code}"')
        if r["action_list"] and r["action_list"] not in LIST_TITLES:
            problems.append(f"{code}: list {r['action_list']} is not one of §11's seven")
    return problems


def test_the_registry_names_every_metric_once_and_only_what_exists():
    assert registry_problems(metric_registry.REGISTRY_CSV, metric_registry.RULES_CSV) == []


@pytest.mark.parametrize(
    "break_it, named",
    [
        (lambda rows: [r for r in rows if r["metric_code"] != "4.5"], "4.5: scored but has no registry row"),
        (lambda rows: rows + [dict(rows[0], metric_code="6.1")], "6.1: in the registry but not in the scoring rules"),
        (lambda rows: rows + [rows[0]], "1.1: 2 registry rows"),
        (
            lambda rows: [dict(r, count_model="int_metric_counts") if r["metric_code"] == "2.1" else r for r in rows],
            "2.1: count model int_metric_counts does not exist",
        ),
        (
            lambda rows: [
                dict(r, count_model="int_metric_feedback_counts") if r["metric_code"] == "3.3" else r for r in rows
            ],
            "3.3: count model int_metric_feedback_counts does not emit metric '3.3'",
        ),
        (
            lambda rows: [
                dict(r, input_columns="fct_dossier.is_synced") if r["metric_code"] == "1.4" else r for r in rows
            ],
            "1.4: column fct_dossier.is_synced is not documented in fct_dossier's YAML",
        ),
        (
            lambda rows: [
                dict(r, input_columns="fct_feedback.category") if r["metric_code"] == "5.2" else r for r in rows
            ],
            "5.2: int_metric_feedback_counts and the models it refs never read category",
        ),
        (
            lambda rows: [dict(r, oracle_function="_payments") if r["metric_code"] == "3.4" else r for r in rows],
            "3.4: oracle function _payments is not in tests/oracle.py",
        ),
        (
            lambda rows: [dict(r, oracle_function="_feedback") if r["metric_code"] == "4.1" else r for r in rows],
            '4.1: oracle function _feedback never counts "4.1"',
        ),
        (
            lambda rows: [dict(r, action_list="tre_han") if r["metric_code"] == "2.1" else r for r in rows],
            "2.1: list tre_han is not one of §11's seven",
        ),
    ],
)
def test_each_kind_of_defect_is_named(tmp_path, break_it, named):
    with open(metric_registry.REGISTRY_CSV, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    broken = tmp_path / "metric_registry.csv"
    with open(broken, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(break_it(rows))
    assert named in registry_problems(broken, metric_registry.RULES_CSV)


def test_the_oracle_and_the_simulated_portal_score_the_registry_metrics():
    from simulator.portal.scores import METRICS as PORTAL_METRICS

    assert set(oracle.METRICS) == set(PORTAL_METRICS) == set(metric_registry.registry())


def test_the_lists_that_move_a_metric_are_the_pairs_of_the_three_things():
    """§11's pairs live in act_three_things.sql and the oracle; the registry says the same."""
    registry_pairs = {(m.code, m.action_list) for m in metric_registry.registry().values() if m.action_list}
    sql_pairs = set(re.findall(r"\('(\d\.\d)',\s*'(\w+)'", THREE_THINGS_SQL.read_text(encoding="utf-8")))
    assert registry_pairs == sql_pairs == set(oracle.PAIRS)


def test_names_read_from_the_seeds_where_python_shows_them():
    registry = metric_registry.registry()
    assert {code: m.short_name_vi for code, m in registry.items() if code in METRIC_TITLES} == METRIC_TITLES
    assert [code for code, _ in GROUPS] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"]
    with open(metric_registry.RULES_CSV, encoding="utf-8", newline="") as handle:
        scored_groups = {r["group_code"] for r in csv.DictReader(handle)}
    assert scored_groups == {code for code, _ in GROUPS}


def test_docs_metrics_md_is_current():
    assert docs_metrics.PAGE.read_text(encoding="utf-8") == docs_metrics.render(), (
        "docs/metrics.md is stale: run python -m tthc.metrics.docs_page"
    )


def test_every_metric_has_its_anchor_on_the_page():
    page = docs_metrics.PAGE.read_text(encoding="utf-8")
    for code in metric_registry.registry():
        assert page.count(f'<a id="metric-{code.replace(".", "-")}"></a>') == 1


def test_the_check_flag_fails_on_a_stale_page(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "metrics.md"
    shutil.copyfile(docs_metrics.PAGE, stale)
    stale.write_text(stale.read_text(encoding="utf-8").replace("20·r", "21·r"), encoding="utf-8")
    monkeypatch.setattr(docs_metrics, "PAGE", stale)
    assert docs_metrics.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert docs_metrics.main([]) == 0
    assert docs_metrics.main(["--check"]) == 0


def test_tthc_docs_metrics_checks_the_page():
    from tthc.cli import main

    assert main(["docs", "metrics", "--check"]) == 0


def test_the_page_links_to_files_that_exist():
    page = docs_metrics.PAGE.read_text(encoding="utf-8")
    targets = {t.split("#")[0] for t in re.findall(r"\]\(([^)#][^)]*)\)", page)}
    assert targets and all((docs_metrics.PAGE.parent / t).is_file() for t in targets), targets
