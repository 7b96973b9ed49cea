"""The linters are wired (docs/decisions/011-lint.md): `make test` (so CI) runs `make lint` first,
pre-commit calls the same pinned binaries with the same arguments, `make lock` re-pins them, and
sqlfluff renders the dbt models with the project's vars rather than its placeholders."""

from __future__ import annotations

import shlex
import subprocess

import pytest
import yaml

from tests.paths import REPO

LINT_BIN = ".venv-lint/bin/"
# Tests marked slow run the linters themselves: they need .venv-lint, which `make test` sets up
# first and `make test-fast` does not.


def make_dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run, in order (make -n runs nothing)."""
    proc = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def linter_commands(lines: list[str]) -> list[str]:
    """The ruff and sqlfluff calls among them (not the set-up's pip lines when .venv-lint is new)."""
    return [line for line in lines if line.startswith((LINT_BIN + "ruff ", LINT_BIN + "sqlfluff "))]


def test_make_test_runs_every_linter_before_the_suite():
    lines = make_dry_run("test")
    lint = linter_commands(lines)
    assert lint == linter_commands(make_dry_run("lint")), "`make test` runs other lint commands than `make lint`"
    tools = {shlex.split(cmd)[0].removeprefix(LINT_BIN) + " " + shlex.split(cmd)[1] for cmd in lint}
    assert tools == {"ruff check", "ruff format", "sqlfluff lint"}, lint
    assert ".venv-lint/bin/ruff format --check ." in lint, "make lint must check formatting, not apply it"
    suite = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert all(lines.index(cmd) < suite for cmd in lint), "lint must run before the test suite"


def test_make_fix_rewrites_what_make_lint_checks():
    fix = linter_commands(make_dry_run("fix"))
    assert ".venv-lint/bin/ruff format ." in fix
    # --exit-zero: what no rule can fix is printed, and the steps after it still run
    assert ".venv-lint/bin/ruff check --fix --exit-zero ." in fix
    assert ".venv-lint/bin/sqlfluff fix dbt" in fix
    # the last ruff step formats, so what check --fix rewrote is formatted as make lint wants
    assert [c for c in fix if c.startswith(LINT_BIN + "ruff")][-1] == ".venv-lint/bin/ruff format ."


def test_precommit_hooks_call_the_binaries_and_arguments_of_make_lint():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(repo["repo"] == "local" for repo in config["repos"]), "hooks must not pin a second version"
    assert all(hook["language"] == "system" for hook in hooks)
    entries = sorted(hook["entry"] + " " + " ".join(hook.get("args", [])) for hook in hooks)
    # make lint names the tree to check ('.' or 'dbt'); pre-commit names the staged files instead
    make_lint = sorted(cmd.rsplit(" ", 1)[0] for cmd in linter_commands(make_dry_run("lint")))
    assert [e.strip() for e in entries] == make_lint
    sql_hook = next(hook for hook in hooks if "sqlfluff" in hook["entry"])
    assert sql_hook["files"].startswith("^dbt/")


def test_lock_pins_exactly_what_lint_in_asks_and_make_lock_repins_it():
    def pins(name: str) -> dict[str, str]:
        lines = (REPO / "requirements" / name).read_text(encoding="utf-8").splitlines()
        return {
            pkg.lower().replace("_", "-"): version
            for pkg, _, version in (line.partition("==") for line in lines if "==" in line and not line.startswith("#"))
        }

    wanted, locked = pins("lint.in"), pins("lint.lock")
    assert set(wanted) == {"ruff", "sqlfluff", "pre-commit"}
    assert {name: locked.get(name) for name in wanted} == wanted
    assert any("requirements/lint.in" in line for line in make_dry_run("lock"))
    assert any("> requirements/lint.lock" in line for line in make_dry_run("lock"))


def test_sqlfluff_never_uses_the_dbt_templater():
    config = (REPO / ".sqlfluff").read_text(encoding="utf-8")
    assert "\ntemplater = jinja\n" in config and "templater = dbt" not in config
    assert "apply_dbt_builtins = True" in config


@pytest.mark.slow
def test_sqlfluff_renders_a_model_with_the_projects_vars():
    """Without lint/sqlfluff's var() shim, sqlfluff renders every var as 'item' and models that
    loop over a list var fail to template; with it, the calendar model reads dbt_project.yml's range."""
    sqlfluff = REPO / LINT_BIN / "sqlfluff"
    assert sqlfluff.exists(), "run `make setup-lint` first"
    (model,) = [
        p for p in (REPO / "dbt" / "models").rglob("*.sql") if "calendar_start" in p.read_text(encoding="utf-8")
    ]
    project = yaml.safe_load((REPO / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    proc = subprocess.run(
        [str(sqlfluff), "render", str(model.relative_to(REPO))], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"date '{project['calendar_start']}'" in proc.stdout
    assert f"date '{project['calendar_end']}'" in proc.stdout
    assert "'item'" not in proc.stdout


@pytest.mark.slow
def test_ruff_reads_the_projects_settings():
    """ruff takes [tool.ruff] from pyproject.toml (a stray ruff.toml would silently win over it)."""
    ruff = REPO / LINT_BIN / "ruff"
    assert ruff.exists(), "run `make setup-lint` first"
    proc = subprocess.run(
        [str(ruff), "check", "--show-settings", "tthc/cli.py"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    settings = proc.stdout
    assert f'Settings path: "{REPO / "pyproject.toml"}"' in settings
    assert "linter.line_length = 120" in settings
    enabled = settings.split("linter.rules.enabled = [", 1)[1].split("]", 1)[0]
    # a loop closure (B023) and a naive datetime (DTZ005) are checked in the pipeline's code
    assert "(B023)" in enabled and "(DTZ005)" in enabled and "(I001)" in enabled
    assert "(E501)" not in enabled, "the formatter owns line length (docs/decisions/011-lint.md)"
