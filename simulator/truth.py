"""Ground truth on disk: every entity's records as of a time, as the server would serve them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from simulator.faults import FaultConfig
from simulator.world import World


def write_truth(world: World, as_of: datetime, out: Path, faults: FaultConfig | None = None) -> dict:
    """Write `{source}__{entity}.jsonl` per entity plus `summary.json`; returns the summary.

    With record faults, rows are written as served under them, and `malformed` lists the keys
    a pipeline should quarantine.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts, malformed = {}, {}
    for source, entity in world.entities():
        name = f"{source}__{entity}"
        rows = world.records(source, entity, as_of, faults=faults)
        with (out / f"{name}.jsonl").open("wb") as f:
            for row in rows:
                f.write(orjson.dumps(row))
                f.write(b"\n")
        counts[name] = len(rows)
        if faults is not None and faults.has_record_faults:
            malformed[name] = sorted("|".join(map(str, k)) for k in world.malformed_keys(source, entity, as_of, faults))
    summary = {
        "as_of": as_of.isoformat(),
        "seed": world.config.seed,
        "dossiers_per_year": world.config.dossiers_per_year,
        "counts": counts,
    }
    if malformed:
        summary["malformed"] = malformed
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary
