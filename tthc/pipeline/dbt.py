"""Run dbt from its own environment against the warehouse, with its output in our logs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
from datetime import date, datetime
from pathlib import Path

from tthc.paths import DBT_PROJECT_DIR, LOCAL, dbt_executable
from tthc.pipeline.locks import advisory_lock
from tthc.privacy import pii_key
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

# The two halves of a build; the quality gate runs between them.
# The dbt folders are in build order (dbt/README.md, "Layout"): the warehouse is the folders up
# to the core facts.
WAREHOUSE_SELECTION = ["path:models/staging", "path:models/intermediate", "path:models/marts/core"]
# The indicator marts and their steps (models/marts/indicators/intermediate: rebuilt over every
# period, or kept per dossier and replaced for the dossiers a night changed: docs/decisions/005),
# which refresh after the gate, not in the nightly warehouse increment.
MARTS_SELECTION = ["path:models/marts/indicators"]
FULL_CHECKS_WEEKDAY = 7  # Sunday (ISO): the night whose checks read every row

# Act today (docs/acting-today.md, §11, tthc/actions/refresh.py). The lists are the models tagged `actions`;
# what an intraday refresh rebuilds before them is what lies between the raw entities it ingests
# (dossiers, process steps, sync records) and those models: the stored staging models, the
# per-dossier intermediates (the metric inputs kept per dossier among them) and the core facts,
# all incremental, so a refresh merges the hour's changes. Seeds, units, procedures, payments,
# feedback, the monthly indicator counts and the marts are not ancestors of both, and do not
# change during the day. Each incremental model keeps its own bookkeeping (the newest load it
# merged: macros/incremental.sql; the change set int_dossier_changes, which the refresh builds
# too, and the kept models' rows in intermediate.kept_model_state: docs/decisions/009), so the
# night merges on from the last refresh (tests/tthc/actions/test_refresh.py compares the night
# after with one without).
ACTIONS_TAG = "tag:actions"
ACTIONS_SOURCES = (
    "source:one_stop.one_stop__ho_so",
    "source:one_stop.one_stop__qua_trinh_xu_ly",
    "source:dvc_portal.dvc_portal__sync_status",
)
ACTIONS_UPSTREAM_SELECTION = [f"{source}+,+{ACTIONS_TAG}" for source in ACTIONS_SOURCES]
# The indicator marts themselves (the folder's top-level models, a glob: not its intermediate/,
# whose metric inputs kept per dossier the actions models read) are never rebuilt by day.
ACTIONS_UPSTREAM_EXCLUDE = [ACTIONS_TAG, "resource_type:seed", "path:models/marts/indicators/*.sql", "test_type:unit"]
ACTIONS_AT_ENV = "TTHC_ACTIONS_AT"  # the moment T of the actions models (dbt var actions_at)


# dbt commands that build staging, whose applicant_key needs the PII key; the others (docs,
# compile, ls) get it when it is set and run without it otherwise.
KEYED_COMMANDS = ("build", "run", "test")
# dbt commands that write models; one at a time per warehouse (an advisory lock of this name).
WRITING_COMMANDS = ("build", "run", "seed", "snapshot")
BUILD_LOCK = "tthc-dbt-build"


class DbtError(RuntimeError):
    pass


def _pii_key(required: bool) -> bytes | None:
    try:
        return pii_key.load_key()
    except pii_key.PiiKeyError as err:
        if required:
            raise DbtError(f"dbt not started: {err}") from None
        return None


def run_dbt(
    args: list[str],
    dsn: Dsn,
    as_of: date | None = None,
    extra_vars: dict | None = None,
    phase: str = "adhoc",
    test_scope: str | None = None,
    run_settings: dict | None = None,
) -> None:
    """dbt with its output in our logs. `phase` names the target folder, which keeps dbt's parsed
    project between runs: dbt re-parses all of it (seconds, whatever the data size) when the vars
    differ from its last run there. So what changes from night to night stays out of the vars:
    the as-of day goes in an environment variable that the macros read only when executing
    (macro run_setting; `run_settings` adds more, the actions' moment T), the tests' scope in
    the session setting tthc.test_scope (checks_scope_option)."""
    exe = dbt_executable()
    if not exe.exists():
        raise DbtError(f"dbt is not installed at {exe}: run 'make setup' (or set TTHC_DBT_BIN)")
    variables = dict(extra_vars or {})
    # The applicant key's secret reaches dbt's sessions as a setting, never as SQL text or a var
    # (docs/decisions/007). Commands that build models refuse to run without a strong one.
    key = _pii_key(required=bool(args) and args[0] in KEYED_COMMANDS)
    dsn = as_stage(dsn, "transformer")  # an admin's DSN: bootstrapped, then dbt logs in as the transformer
    settings = {"TTHC_AS_OF_DATE": as_of.isoformat() if as_of is not None else ""} | dict(run_settings or {})
    cmd = [
        str(exe),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        "warehouse",
    ]
    if variables:
        cmd += ["--vars", json.dumps(variables)]
    # dbt gets the key only as the session setting: not the variables it came from
    inherited = {k: v for k, v in os.environ.items() if k not in (pii_key.KEY_ENV, pii_key.KEY_FILE_ENV)}
    env = (
        inherited
        | dsn.dbt_env()
        | settings
        | {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # JIT compiles for seconds per query when the planner overestimates rows (joins to the
            # calendar), which an incremental merge of a few thousand rows never repays. libpq
            # applies it to every dbt connection.
            "PGOPTIONS": f"-c jit=off {checks_scope_option(test_scope)}"
            + (f" {pii_key.pg_options(key)}" if key else ""),
            # One target folder per warehouse: concurrent builds (tests, two projects) must not share one.
            "DBT_LOG_PATH": str(LOCAL / "dbt" / f"{dsn.dbname}-{dsn.port}" / "logs"),
            "DBT_TARGET_PATH": str(LOCAL / "dbt" / f"{dsn.dbname}-{dsn.port}" / phase),
        }
    )
    # Builds take turns: the nightly build, the marts and an intraday refresh all write the
    # per-dossier intermediates (tthc/pipeline/locks.py).
    turn = (
        advisory_lock(dsn.conninfo(), BUILD_LOCK, "another dbt build of this warehouse", build_lock_wait())
        if args and args[0] in WRITING_COMMANDS
        else contextlib.nullcontext()
    )
    with turn:
        log.info("dbt %s", " ".join(args))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            log.info("dbt | %s", line)
            tail = (tail + [line])[-40:]
        if proc.wait() != 0:
            raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n" + "\n".join(tail))


def checks_scope_option(scope: str | None) -> str:
    """The data tests' scope as the session setting tthc.test_scope, which the tests whose YAML
    says `where: "{{ var('night_rows') }}"` read when they run (dbt_project.yml, decision 010):
    'night' reads the rows loaded lately, anything else every row. A setting, not a var: dbt
    renders test configs when it parses, and a var that changed would make it parse again."""
    if scope not in (None, "night", "all"):
        raise ValueError(f"test scope must be 'night' or 'all', not {scope!r}")
    return f"-c tthc.test_scope={scope or 'all'}"


def build_lock_wait() -> float:
    """How long a build waits for another one to end (TTHC_DBT_LOCK_WAIT_SECONDS, default 1800)."""
    return float(os.environ.get("TTHC_DBT_LOCK_WAIT_SECONDS", "1800"))


def build_warehouse(dsn: Dsn, as_of: date | None = None, full_refresh: bool = False, checks: str | None = None) -> None:
    """Seeds, staging, intermediate and core models with their data tests, in one dbt process.

    Seeds are always recreated (config full_refresh in dbt_project.yml): they are small and
    versioned with the code, so a seed that gained a column loads without a manual step.
    dbt unit tests check the code, not the data: they run in CI (`make test`), not nightly.
    full_refresh rebuilds incremental models from raw: needed after a model's columns change,
    a change of the TTHC catalogue's limits, or of the holiday calendar.
    The data tests read the night's rows or every row (`checks`: 'night' or 'all'; by default
    as checks_scope says for `as_of`)."""
    refresh = ["--full-refresh"] if full_refresh else []
    scope = checks or checks_scope(as_of, full_refresh)
    # cautious: a test that also reads a model outside the selection (e.g. a mart) waits for it
    try:
        run_dbt(
            [
                "build",
                "--select",
                "resource_type:seed",
                *WAREHOUSE_SELECTION,
                "--exclude",
                "test_type:unit",
                "--indirect-selection",
                "cautious",
                *refresh,
            ],
            dsn,
            test_scope=scope,
            phase="warehouse",
        )
    except BaseException:
        with contextlib.suppress(Exception):  # the build's own error is the one to report
            grant_publisher_reads_as_owner(dsn)
        raise
    grant_publisher_reads_as_owner(dsn)


def grant_publisher_reads_as_owner(dsn: Dsn) -> None:
    """dbt replaced core.dim_unit and intermediate.int_unit_closure without their grants: the
    publisher's SELECT on them again, by their owner (also after a failed build, for what it kept)."""
    import psycopg

    from tthc.warehouse.roles import grant_publisher_reads

    with psycopg.connect(as_stage(dsn, "transformer").conninfo(), autocommit=True) as conn:
        grant_publisher_reads(conn)


def checks_scope(as_of: date | None, full_refresh: bool = False) -> str:
    """'night': the checks of incremental tables read the rows the night loaded (dbt tests:
    var night_rows in their YAML; the gate: expectations.runner); 'all': every row. Every row after
    a full refresh, on FULL_CHECKS_WEEKDAY and when no day is given, so a row a night merged
    outside its window (a dossier re-merged for a late payment) is read within a week. Builds
    by hand (`tthc build`, `tthc gate`) check every row unless told --night."""
    if full_refresh or as_of is None or as_of.isoweekday() == FULL_CHECKS_WEEKDAY:
        return "all"
    return "night"


def build_marts_into(dsn: Dsn, schema: str, as_of: date | None = None, extra_vars: dict | None = None) -> None:
    """The indicator marts with their dbt tests, built into `schema` (generate_schema_name reads
    var marts_schema); the published schema is only ever replaced by a swap. The tests of the
    indicator models kept per dossier read the night's rows on a night (checks_scope)."""
    variables = dict(extra_vars or {}) | {"marts_schema": schema}
    # unit tests check the code: CI runs them (make test), a night does not
    run_dbt(
        ["build", "--select", *MARTS_SELECTION, "--exclude", "test_type:unit", "--indirect-selection", "cautious"],
        dsn,
        as_of,
        variables,
        phase="marts",
        test_scope=checks_scope(as_of),
    )


def build_marts(dsn: Dsn, as_of: date | None = None, run_id: str | None = None, extra_vars: dict | None = None):
    """Build the marts into the shadow schema, gate them there, swap them in when they pass.

    Raises QualityGateFailed (and leaves the published marts as they were) when the last core
    gate or the marts gate failed. Returns the marts gate's GateResult."""
    from tthc.pipeline.marts import publish_marts

    return publish_marts(dsn, as_of, run_id=run_id, extra_vars=extra_vars)


def actions_settings(at: datetime) -> dict[str, str]:
    if at.tzinfo is None:
        raise ValueError("the actions' moment must be timezone-aware")
    return {ACTIONS_AT_ENV: at.isoformat()}


def build_actions_upstream(dsn: Dsn, at: datetime) -> None:
    """The incremental models between the intraday entities and the actions models, with their
    data tests on the rows the build merged (as a night's: test_scope 'night'). They keep their
    own bookkeeping (the newest loaded_at they hold), so the night after merges from there."""
    try:
        run_dbt(
            [
                "build",
                "--select",
                *ACTIONS_UPSTREAM_SELECTION,
                "--exclude",
                *ACTIONS_UPSTREAM_EXCLUDE,
                "--indirect-selection",
                "cautious",
            ],
            dsn,
            at.date(),
            phase="actions-upstream",
            test_scope="night",
            run_settings=actions_settings(at),
        )
    finally:
        with contextlib.suppress(Exception):  # the build's own error is the one to report
            grant_publisher_reads_as_owner(dsn)


def build_actions_into(dsn: Dsn, schema: str, at: datetime, tests: bool = True, phase: str = "actions") -> None:
    """The actions models for the moment `at`, their published tables into `schema` (var
    actions_schema: generate_schema_name), with their dbt tests unless `tests` is False (a
    scratch build read once by hand)."""
    command = (
        ["build", "--select", ACTIONS_TAG, "--exclude", "test_type:unit", "--indirect-selection", "cautious"]
        if tests
        else ["run", "--select", ACTIONS_TAG]
    )
    run_dbt(
        command,
        dsn,
        at.date(),
        {"actions_schema": schema},
        phase=phase,
        test_scope="all",
        run_settings=actions_settings(at),
    )


def generate_docs(dsn: Dsn) -> Path:
    """dbt's documentation site of the warehouse as it is (models, columns, lineage, catalog),
    as one self-contained HTML file; returns its path."""
    run_dbt(["docs", "generate", "--static"], dsn, phase="docs")
    return LOCAL / "dbt" / f"{dsn.dbname}-{dsn.port}" / "docs" / "static_index.html"
