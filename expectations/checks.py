"""How a suite is written: a table and its checks, each with a severity.

`fail` stops publishing; `warn` is reported and lets the run go on. Suites are plain
Python data, versioned with the project, so a change to a check is a reviewed change.

A check builds its Great Expectations expectation from a `Scope`, which knows where each
logical schema really is on this run: the marts gate checks the shadow schema `marts__next`
with the same SQL that names `{marts}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import great_expectations as gx

FAIL = "fail"
WARN = "warn"

LOGICAL_SCHEMAS = ("raw", "meta", "staging", "restricted", "intermediate", "core", "marts")


@dataclass(frozen=True)
class Scope:
    """Where each logical schema lives for this run (default: under its own name), and the
    rows of the lookups a check reads (`{name}` → a VALUES list; see Lookup)."""

    schemas: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)

    def schema(self, logical: str) -> str:
        return self.schemas.get(logical, logical)

    def with_values(self, values: Mapping[str, str]) -> Scope:
        return Scope(self.schemas, {**self.values, **values})

    def render(self, query: str) -> str:
        """Fill `{core}`, `{marts}`, … with real schema names and `{<lookup>}` with its rows;
        `{batch}` is left for GX."""
        names = {name: _quote(self.schema(name)) for name in LOGICAL_SCHEMAS}
        return query.format(batch="{batch}", **names, **self.values)


@dataclass(frozen=True)
class Lookup:
    """A query the gate runs once, before Great Expectations, whose rows a check's SQL then
    reads as `{name}`: a VALUES list of literals with typed columns.

    GX evaluates an UnexpectedRowsExpectation through two metrics (the rows, and their count),
    and each runs the query: an expensive part belongs in a lookup, paid once (the load
    reconciliation after a first load counts every raw key of the history)."""

    name: str
    query: str  # may name logical schemas, like a check's SQL
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type), in the query's order

    def values(self, rows: list[tuple], literal: Callable[[object], str]) -> str:
        """`rows` as a query; `literal` renders one value as SQL (psycopg's, for the connection)."""
        if not rows:
            return "select " + ", ".join(f"null::{kind} as {name}" for name, kind in self.columns) + " where false"
        tuples = ", ".join(
            "("
            + ", ".join(f"{literal(value)}::{kind}" for value, (_, kind) in zip(row, self.columns, strict=True))
            + ")"
            for row in rows
        )
        # GX fills {batch} with str.format later: a brace inside a literal must come out single
        tuples = tuples.replace("{", "{{").replace("}", "}}")
        return f"select * from (values {tuples}) as v({', '.join(name for name, _ in self.columns)})"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    build: Callable[[Scope], object]  # returns a great_expectations Expectation
    description: str = ""
    lookups: tuple[Lookup, ...] = ()  # run by the gate first; the scope carries their rows


@dataclass(frozen=True)
class Suite:
    name: str
    schema: str  # logical schema: Scope says where it is on a given run
    table: str
    checks: tuple[Check, ...] = field(default_factory=tuple)
    # For a table that incremental builds merge into: which rows a night merged. A gate run
    # with night_only checks those rows instead of the whole table (see run_gate).
    night_rows: NightRows | None = None
    # Run by the gate after the checks, to keep the suite's measures with the run:
    # record(dsn, run_id, scope with the lookups' rows) -> the rows a failure message names.
    record: Callable | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


E = gx.expectations


@dataclass(frozen=True)
class NightRows:
    """The rows with `column` at or after the instant `since` (a query on `{table}`, the
    table's real name) returns. The gate runs `since` once and puts its value in the batch's
    query as a literal: with the subquery there, the planner cannot see how few rows pass, and
    every check scanned the whole table."""

    column: str
    since: str

    def condition(self, bound) -> str:
        """The batch's condition for the value `since` returned (None: an empty table)."""
        if bound is None:
            return "false"
        return f"{self.column} >= '{bound.isoformat()}'::timestamptz"


# The rows an incremental build merged lately: loaded within two days of the table's newest row
# (btree index on loaded_at). A night merges what raw loaded since the table's newest row minus
# the one-day lookback, so these cover it; uniqueness across older rows is the unique index's.
MERGED_LATELY = NightRows(column="loaded_at", since="select max(loaded_at) - interval '2 days' from {table}")


def rows(name: str, severity: str, query: str, description: str, lookups: tuple[Lookup, ...] = ()) -> Check:
    """A check that fails when `query` returns rows (they become the sample).

    The query may name `{batch}` (the suite's table), any logical schema (`{core}`,
    `{marts}`, …) and its lookups (`{<name>}`). Queries about other tables still mention
    `{batch}` in a comment, which keeps GX from warning that the batch is unused.
    """
    if "{batch}" not in query:
        query = query + "\n/* gate batch: {batch} */"
    return Check(
        name,
        severity,
        lambda scope: E.UnexpectedRowsExpectation(unexpected_rows_query=scope.render(query), description=description),
        description,
        lookups,
    )


def column(name: str, severity: str, make: Callable[[], object], description: str = "") -> Check:
    """A check built from a plain GX column or table expectation (no SQL to place)."""
    return Check(name, severity, lambda scope: make(), description)


def columns_are(name: str, columns: list[str], exact: bool, description: str) -> Check:
    """The table has these columns (exactly, or at least these)."""
    return column(
        name, FAIL, lambda: E.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=exact), description
    )


def column_types(name: str, schema: str, table: str, types: Mapping[str, str], description: str) -> Check:
    """Each named column exists with this PostgreSQL type (information_schema's data_type)."""
    expected = " union all ".join(
        f"select '{col}'::text as column_name, '{kind}'::text as expected_type" for col, kind in types.items()
    )
    query = f"""
        select e.column_name, e.expected_type, c.data_type as actual_type
        from ({expected}) e
        left join information_schema.columns c
          on c.table_schema = trim(both '"' from '{{{schema}}}') and c.table_name = '{table}'
         and c.column_name = e.column_name
        where c.data_type is distinct from e.expected_type"""
    return rows(name, FAIL, query, description)
