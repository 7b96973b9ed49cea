"""bench/partitioning.py's core at a tiny scale: the plain and the partitioned layouts hold the
same rows and every workload answers alike on both. Timings are the benchmark's business."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.paths import REPO

pytestmark = pytest.mark.slow


def load_benchmark():
    """bench/ is a folder of scripts, not a package: load the script as a module."""
    spec = importlib.util.spec_from_file_location("bench_partitioning", REPO / "bench" / "partitioning.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def table_rows(digest: str) -> int:
    """A DML fingerprint starts with the table's row count after the DML."""
    return int(digest.split(" rows/")[0])


def test_both_layouts_hold_the_same_rows_and_answer_alike(fresh_db):
    bench = load_benchmark()
    scale = bench.Scale(20_000)
    report = bench.run(fresh_db.conninfo(), scale, repetitions=1, exact_equality=True, log=lambda *_: None)

    for name, check in report["equality"].items():
        assert check["rows_only_in_one_layout"] == 0, name
        assert check["same_count_and_checksum"], name
    assert report["equality"]["fct_dossier"]["rows"] == 20_000
    assert report["equality"]["fct_dossier_step"]["rows"] > 2 * 20_000
    assert report["equality"]["raw_ho_so"]["rows"] > 2 * 20_000
    # fifteen months of receipts in fifteen partitions; the two months ahead stay empty
    assert report["sizes"]["fct_dossier.partitioned"]["partitions"] == 17
    assert report["sizes"]["fct_dossier.partitioned"]["partitions_with_rows"] == 15
    assert report["inputs"]["changed_dossiers"] == scale.changed
    # the night moves a dossier to another month: its row must leave its old partition
    assert report["inputs"]["moved_to_other_month"] >= 1

    by_key = {w["key"]: w for w in report["workloads"]}
    for w in report["workloads"]:
        assert w["same_result"], w["key"]
    # after the night each fact table has its new dossiers and no leftover of a moved one
    prints = by_key["1b_dossier_merge"]["fingerprints"]
    assert table_rows(prints["plain"]) == table_rows(prints["partitioned"]) == 20_000 + scale.new

    # pruning where the plan can prune, and not where it cannot
    scanned = {k: w["plan"]["partitioned"]["first_statement"]["relations_scanned"] for k, w in by_key.items()}
    assert scanned["3a_month_received"] == 1
    assert scanned["3b_month_resolved"] == 17
    assert scanned["5b_raw_lookup_range"] < scanned["5a_raw_lookup"]
