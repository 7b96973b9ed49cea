"""raw.<source>__<entity>: every version of every record as received (extractors/raw/schema.py)."""
from __future__ import annotations

from expectations.checks import FAIL, E, Suite, column, column_types, columns_are
from extractors.entities import ENTITIES

RAW_COLUMNS = {
    "record_key": "text",
    "source_updated_at": "timestamp with time zone",
    "payload": "jsonb",
    "payload_hash": "text",
    "batch_id": "bigint",
    "loaded_at": "timestamp with time zone",
}


def raw_suite(table: str) -> Suite:
    return Suite(
        name=f"raw__{table}", schema="raw", table=table,
        checks=(
            columns_are("columns_as_loaded", list(RAW_COLUMNS), exact=True,
                        description="exactly the loader's columns: staging reads them by name"),
            column_types("column_types", "raw", table, RAW_COLUMNS,
                         "each raw column has the loader's type (payload stays jsonb)"),
            column("record_key_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="record_key"),
                   "the business key of every stored version"),
            column("source_update_time_present", FAIL,
                   lambda: E.ExpectColumnValuesToNotBeNull(column="source_updated_at"),
                   "staging picks the latest version by the source's update time: never null"),
        ),
    )


RAW_SUITES = tuple(raw_suite(e.table) for e in ENTITIES)
