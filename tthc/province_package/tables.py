"""Turn the caller's rows into checked, normalised rows in key order, one table at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tthc.province_package.errors import PackageError
from tthc.province_package.spec import TABLES, TABLES_BY_FILE, Kind, TableSpec, row_kinds
from tthc.province_package.values import normalize, to_text


@dataclass(frozen=True)
class PreparedTable:
    spec: TableSpec
    rows: list[list]  # canonical values in column order
    kinds: list[list[Kind]]  # the kind each cell was written as (2.2/5.3 rows differ)


def prepare_tables(tables: Mapping[str, list[dict]], period: str) -> list[PreparedTable]:
    """All given tables, checked and sorted, in contract order."""
    if not tables:
        raise PackageError("no tables given: a package needs at least one of " + ", ".join(TABLES_BY_FILE))
    unknown = sorted(set(tables) - set(TABLES_BY_FILE))
    if unknown:
        raise PackageError(f"unknown package files {unknown}; the contract has {list(TABLES_BY_FILE)}")
    return [prepare_table(spec, tables[spec.file_name], period) for spec in TABLES if spec.file_name in tables]


def prepare_table(spec: TableSpec, rows: list[dict], period: str) -> PreparedTable:
    expected = spec.column_names
    expected_set = set(expected)
    keyed = []
    for index, row in enumerate(rows):
        where_row = f"{spec.file_name} row {index + 1}"
        if not isinstance(row, Mapping):
            raise PackageError(f"{where_row}: expected a mapping of column → value, got {type(row).__name__}")
        extra = [c for c in row if c not in expected_set]
        missing = [c for c in expected if c not in row]
        if extra or missing:
            raise PackageError(
                f"{where_row}: unknown columns {extra}, missing columns {missing}; "
                f"the contract's columns are {expected}"
            )
        overrides = row_kinds(spec, row)
        kinds = [overrides.get(c.name, c.kind) for c in spec.columns]
        values = [normalize(kind, row[c.name], f"{where_row} column {c.name}") for c, kind in zip(spec.columns, kinds)]
        record = dict(zip(expected, values))
        if record["ky_bao_cao"] != period:
            raise PackageError(
                f"{where_row}: ky_bao_cao {record['ky_bao_cao']!r} is not the package's period {period!r}"
            )
        # Sort on the written text, which is what the province (and validate_extract.py) compares.
        key = tuple(to_text(record[k]) for k in spec.key)
        if any(part == "" for part in key):
            raise PackageError(f"{where_row}: key {spec.key} has an empty part: {key}")
        keyed.append((key, values, kinds))
    keyed.sort(key=lambda item: item[0])
    for before, after in zip(keyed, keyed[1:]):
        if before[0] == after[0]:
            raise PackageError(f"{spec.file_name}: duplicate key {dict(zip(spec.key, after[0]))}")
    return PreparedTable(spec, [v for _, v, _ in keyed], [k for _, _, k in keyed])
