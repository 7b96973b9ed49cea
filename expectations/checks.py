"""How a suite is written: a table and its checks, each with a severity.

`fail` stops publishing; `warn` is reported and lets the run go on. Suites are plain
Python data, versioned with the project, so a change to a check is a reviewed change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

FAIL = "fail"
WARN = "warn"


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    build: Callable[[], object]  # returns a great_expectations Expectation
    description: str = ""


@dataclass(frozen=True)
class Suite:
    name: str
    schema: str
    table: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"
