"""raw.<source>__<entity>: every version of every record as received (extractors/raw/schema.py)."""

from __future__ import annotations

from expectations.checks import FAIL, Suite, column_types, columns_are, rows
from extractors.entities import ENTITIES

# Raw only grows: a night checks what it loaded (BRIN on loaded_at), not every version ever
# stored, so the gate's cost follows the night, not the history. Two days cover a missed night.
RECENT_LOADS = "loaded_at > now() - interval '2 days'"

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
        name=f"raw__{table}",
        schema="raw",
        table=table,
        checks=(
            columns_are(
                "columns_as_loaded",
                list(RAW_COLUMNS),
                exact=True,
                description="exactly the loader's columns: staging reads them by name",
            ),
            column_types(
                "column_types", "raw", table, RAW_COLUMNS, "each raw column has the loader's type (payload stays jsonb)"
            ),
            rows(
                "key_and_update_time_present",
                FAIL,
                f"""
                    select record_key, batch_id, loaded_at from {{raw}}."{table}"
                    where (record_key is null or source_updated_at is null) and {RECENT_LOADS}""",
                "every version loaded lately has its business key and the source's update time "
                "(staging picks the latest version by it); older loads were checked on their night",
            ),
        ),
    )


RAW_SUITES = tuple(raw_suite(e.table) for e in ENTITIES)
