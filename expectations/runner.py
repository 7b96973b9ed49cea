"""Run the quality gate: every suite through Great Expectations, results kept in the warehouse.

An ephemeral GX context is built on each run from the suites in code, so there is no GX
state to drift; what GX found is written to `meta.quality_results`, one row per check, and
rendered as Data Docs (a static site, expectations/data_docs.py).

Each schema gets its own GX data source whose connection sets `search_path` to it: GX 1.x
deprecates `schema_name` on table assets in favour of the schema in the connection.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from expectations import data_docs
from expectations.checks import FAIL, Lookup, Scope, Suite
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

RESULTS_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.quality_results (
    run_id        text        NOT NULL,
    suite         text        NOT NULL,
    check_name    text        NOT NULL,
    severity      text        NOT NULL,
    success       boolean     NOT NULL,
    observed      text,
    sample        jsonb,
    description   text,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, suite, check_name)
);
"""
SAMPLE_ROWS = 5
_DEFAULT_DOCS = object()  # run_gate(docs_dir=…) unset: the configured folder


class QualityGateFailed(RuntimeError):
    """A `fail` check did not pass: nothing downstream may publish.

    `loss`: the entities whose quarantined or missing records passed their thresholds
    (expectations/loss.py EntityLoss), for the alert; empty when the gate failed on other checks."""

    def __init__(self, message: str, loss: list | None = None):
        super().__init__(message)
        self.loss = list(loss or [])


@dataclass
class CheckResult:
    suite: str
    check: str
    severity: str
    success: bool
    observed: str
    sample: list
    description: str = ""


@dataclass
class GateResult:
    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    docs_index: Path | None = None
    loss: list = field(default_factory=list)  # entities over their loss thresholds (suite records)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == FAIL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity != FAIL]

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"quality gate {'PASSED' if self.passed else 'FAILED'}: {len(self.results)} checks, "
            f"{len(self.failures)} failing, {len(self.warnings)} warnings ({self.seconds:.1f}s)"
        ]
        if self.loss:
            lines.append("  records lost past the thresholds (keys and reasons only):")
            lines += [f"    {x.line()}" for x in self.loss]
        for r in self.failures + self.warnings:
            tag = "FAIL" if r.severity == FAIL else "WARN"
            lines.append(
                f"  [{tag}] {r.suite}.{r.check}: {r.observed}; sample {json.dumps(r.sample, default=str, ensure_ascii=False)[:400]}"
            )
        if self.docs_index is not None:
            lines.append(f"Data Docs: {self.docs_index.as_uri()}")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise QualityGateFailed(self.summary(), self.loss)


def _quiet_gx(context) -> None:
    """GX draws progress bars per metric; in logs of a nightly job they are noise."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)


def _observed(result) -> tuple[str, list]:
    detail = result.result or {}
    if "unexpected_count" in detail:
        return f"{detail['unexpected_count']} unexpected", list(detail.get("partial_unexpected_list") or [])[
            :SAMPLE_ROWS
        ]
    rows = (detail.get("details") or {}).get("unexpected_rows") or []
    if "observed_value" in detail:
        return f"observed {detail['observed_value']}", list(rows)[:SAMPLE_ROWS]
    return "", []


def _error_of(result) -> str | None:
    """GX reports a check that could not run (bad SQL, missing table) in exception_info,
    flat or keyed by metric; such a check counts as failed, with the message."""
    info = result.exception_info or {}
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception"):
            return str(item.get("exception_message"))
    return None


def _schema_url(dsn: Dsn, schema: str) -> str:
    """The warehouse URL with `search_path` set to one schema (libpq `options`), and JIT off:
    each check is a short query whose plan cost crosses the JIT threshold, so it compiled for
    longer than it ran (dbt's sessions have it off for the same reason)."""
    return dsn.sqlalchemy_url() + "?options=" + quote(f"-csearch_path={schema} -cjit=off", safe="")


def _night_condition(dsn: Dsn, suite: Suite, table: str) -> str:
    """The condition of the rows `suite` checks on a night, its bound computed first."""
    with psycopg.connect(dsn.conninfo()) as conn:
        bound = conn.execute(suite.night_rows.since.format(table=table)).fetchone()[0]
    return suite.night_rows.condition(bound)


def _with_lookups(dsn: Dsn, scope: Scope, lookups: tuple[Lookup, ...], cache: dict | None = None) -> Scope:
    """`scope` with each lookup's rows, each lookup's query run once here (JIT off, as GX's);
    `cache` keeps them for the gate run, so checks naming the same lookup share one run of it."""
    cache = {} if cache is None else cache
    missing = [lookup for lookup in lookups if lookup.name not in cache]
    if not missing:
        return scope.with_values({lookup.name: cache[lookup.name] for lookup in lookups})
    values = cache
    with psycopg.connect(dsn.conninfo(), options="-cjit=off") as conn:
        for lookup in missing:
            started = time.monotonic()
            found = conn.execute(scope.render(lookup.query)).fetchall()
            values[lookup.name] = lookup.values(found, lambda v: sql.Literal(v).as_string(conn))
            log.info("gate: lookup %s, %d rows in %.1f s", lookup.name, len(found), time.monotonic() - started)
    return scope.with_values({lookup.name: values[lookup.name] for lookup in lookups})


def run_gate(
    dsn: Dsn,
    suites: tuple[Suite, ...],
    run_id: str | None = None,
    schemas: Mapping[str, str] | None = None,
    docs_dir=_DEFAULT_DOCS,
    night_only: bool = False,
) -> GateResult:
    """Run `suites`; `schemas` places logical schemas (e.g. {"marts": "marts__next"});
    `docs_dir` is the Data Docs folder (default: data_docs.default_docs_dir(); None: no docs).
    `night_only`: suites with `night_rows` check the rows the night merged, not the whole table
    (tthc.pipeline.dbt.checks_scope says when; whole-table checks grow with the history)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.datasource.fluent.interfaces import TestConnectionError

    from tthc.warehouse.stages import as_stage

    dsn = as_stage(dsn, "transformer")  # an admin's DSN: the gate still reads and writes as the transformer
    run_id = run_id or uuid.uuid4().hex
    docs = data_docs.default_docs_dir() if docs_dir is _DEFAULT_DOCS else (Path(docs_dir) if docs_dir else None)
    scope = Scope(dict(schemas or {}))
    started = time.monotonic()
    if docs is not None:
        data_docs.prune(docs, keep=max(data_docs.KEEP_RUNS - 1, 0))
    context = gx.get_context(mode="ephemeral", project_config=data_docs.context_config(docs))
    _quiet_gx(context)
    gate = GateResult(run_id=run_id)
    definitions, checks, sources, validated, looked_up = [], {}, {}, [], {}
    for suite in suites:
        schema = scope.schema(suite.schema)
        if schema not in sources:
            sources[schema] = context.data_sources.add_postgres(
                name=f"warehouse_{schema}", connection_string=_schema_url(dsn, schema)
            )
        try:
            if night_only and suite.night_rows:
                table = f'"{schema}"."{suite.table}"'
                asset = sources[schema].add_query_asset(
                    name=suite.name, query=f"select * from {table} where {_night_condition(dsn, suite, table)}"
                )
            else:
                asset = sources[schema].add_table_asset(name=suite.name, table_name=suite.table)
        except TestConnectionError as exc:  # GX probes the table: a missing one fails its checks
            gate.results += [
                CheckResult(
                    suite.name,
                    c.name,
                    c.severity,
                    False,
                    f"error: {schema}.{suite.table} cannot be read: {str(exc)[:300]}",
                    [],
                    c.description,
                )
                for c in suite.checks
            ]
            continue
        batch = asset.add_batch_definition_whole_table(f"{suite.name}_whole")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
        for check in suite.checks:
            try:
                expectation = check.build(_with_lookups(dsn, scope, check.lookups, looked_up))
            except psycopg.Error as exc:  # a lookup that cannot run fails its check, not the gate
                gate.results.append(
                    CheckResult(
                        suite.name,
                        check.name,
                        check.severity,
                        False,
                        f"error: lookup failed: {str(exc)[:300]}",
                        [],
                        check.description,
                    )
                )
                continue
            except ValueError as exc:  # a check built from settings (loss thresholds) that do not read
                gate.results.append(
                    CheckResult(
                        suite.name, check.name, check.severity, False, f"error: {str(exc)[:300]}", [], check.description
                    )
                )
                continue
            expectation.meta = {"suite": suite.name, "check": check.name}
            expectation.severity = "critical" if check.severity == FAIL else "warning"
            if check.description and not getattr(expectation, "description", None):
                expectation.description = check.description
            gx_suite.add_expectation(expectation)
            checks[(suite.name, check.name)] = check
        validated.append(suite.name)
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite.name}_gate", data=batch, suite=gx_suite)
            )
        )
    if definitions:
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="quality_gate",
                validation_definitions=definitions,
                result_format={"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS},
            )
        )
        outcome = checkpoint.run(run_id=RunIdentifier(run_name=run_id))
        for suite_result in outcome.run_results.values():
            for result in suite_result.results:
                meta = result.expectation_config.meta
                check = checks[(meta["suite"], meta["check"])]
                observed, sample = _observed(result)
                error = _error_of(result)
                if error:
                    observed = f"error: {error[:500]}"
                gate.results.append(
                    CheckResult(
                        meta["suite"],
                        check.name,
                        check.severity,
                        bool(result.success),
                        observed,
                        sample,
                        check.description,
                    )
                )
        if docs is not None:
            gate.docs_index = data_docs.build(context, docs, list(outcome.run_results), list(validated))
    for suite in suites:
        if suite.record is not None:
            try:
                gate.loss += suite.record(dsn, run_id, scope.with_values(looked_up))
            except (psycopg.Error, ValueError) as exc:  # the checks above already failed on it
                log.error("gate: %s could not keep its measures: %s", suite.name, exc)
    gate.seconds = time.monotonic() - started
    _persist(dsn, gate)
    (log.info if gate.passed else log.error)(gate.summary())
    return gate


def _persist(dsn: Dsn, gate: GateResult) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(RESULTS_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta.quality_results (run_id, suite, check_name, severity, success, observed, sample, description) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, suite, check_name) DO UPDATE "
                "SET success = EXCLUDED.success, observed = EXCLUDED.observed, sample = EXCLUDED.sample, checked_at = now()",
                [
                    (
                        gate.run_id,
                        r.suite,
                        r.check,
                        r.severity,
                        r.success,
                        r.observed,
                        json.dumps(r.sample, default=str, ensure_ascii=False),
                        r.description,
                    )
                    for r in gate.results
                ],
            )
