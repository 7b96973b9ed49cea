"""A later night breaks on a warehouse that already holds a first night: the incremental merges
and the marts swap.

The second night (a day after the first, tests/failure/conftest.py) merges the day's changes
into the stored facts and swaps freshly built marts over the first night's. Each test kills it
at one point, checks what the kill left, runs the failed step and everything after it again,
and compares with a second night that never failed (every schema, raw and meta).
"""

from __future__ import annotations

import re
import signal

import psycopg
import pytest

from tests.failure import fingerprint
from tests.failure.conftest import assert_same_as
from tests.failure.night import lock_waiters, query, relations_in, run_night, start_cli, wait_for

pytestmark = pytest.mark.slow

MERGE = re.compile(r"\bmerge\s+into\b[^;]*fct_dossier\b", re.IGNORECASE | re.DOTALL)


def tables(prints: fingerprint.Fingerprint, schema: str) -> dict[str, str]:
    return {n: f.digest for n, f in prints.warehouse.items() if n.startswith(schema + ".")}


def test_build_killed_mid_merge_on_the_second_night(second_reference, scenario, tmp_path):
    """SIGKILL of the second night's build (the CLI and its dbt) while dbt merges the night's
    dossiers into core.fct_dossier (held at its MERGE by a lock that lets readers through): the
    models before it have merged the night, fct_dossier has not. Building again, then the gate
    and the marts, gives the second night that never failed."""
    night = scenario(second_reference.templates["build"], second=True)
    before = fingerprint.take(night.dsn.conninfo())
    with psycopg.connect(night.dsn.conninfo()) as blocker:
        blocker.execute("LOCK TABLE core.fct_dossier IN SHARE MODE")  # reads pass, writes wait
        run = start_cli(night, ["build", "--as-of", night.as_of.isoformat()], tmp_path)
        [merge] = wait_for(
            lambda: [q for q in lock_waiters(night.dsn) if MERGE.search(q)],
            run,
            "dbt to merge into core.fct_dossier",
            timeout=240,
        )
        assert run.kill() == -signal.SIGKILL
        blocker.rollback()
    killed = fingerprint.take(night.dsn.conninfo())
    assert killed.warehouse["core.fct_dossier"] == before.warehouse["core.fct_dossier"], (
        "the killed merge left rows in core.fct_dossier"
    )
    merged = [
        n
        for n, d in tables(killed, "staging").items() | tables(killed, "intermediate").items()
        if d != tables(before, n.split(".")[0]).get(n)
    ]
    assert merged, "nothing had merged the night before the kill: the build was not interrupted mid-way"
    assert second_reference.prints.diff(killed), "the killed build had finished"

    report = run_night(night, start="build", until="marts")
    assert report.stages_run == ["build", "gate", "marts"], report
    assert_same_as(night, second_reference, packages=False)


SWAP_KILLS = (
    ("tthc.pipeline.marts:swap_in", "after marts__next was built and gated, before the swap"),
    ("tthc.pipeline.marts:grant_marts", "inside the swap transaction, after both renames, before its commit"),
)


def test_marts_step_killed_at_the_swap_twice_then_the_marts_again(second_reference, scenario, tmp_path):
    """SIGKILL of the second night's marts step at the swap, twice in a row: first after the
    shadow was built and gated, before the swap began; then, on the rerun, inside the swap's
    transaction after both schema renames, before its commit. Each time BI still reads the first
    night's marts, whole (one transaction: a kill before its commit undoes both renames), and the
    built shadow stays. The marts step again gives the second night that never failed."""
    night = scenario(second_reference.templates["marts"], second=True)
    published = tables(fingerprint.take(night.dsn.conninfo()), "marts")
    tonight = tables(second_reference.prints, "marts")
    assert published and published != tonight, "the second night changes no mart: nothing to swap"
    for point, where in SWAP_KILLS:
        run = start_cli(night, ["marts", "--as-of", night.as_of.isoformat()], tmp_path, kill_at=point)
        assert run.wait(timeout=300) == -signal.SIGKILL, run.output()
        assert f"kill_at {point}" in run.output(), f"killed elsewhere than {where}:\n{run.output()}"

        killed = fingerprint.take(night.dsn.conninfo())
        assert tables(killed, "marts") == published, f"the published marts changed although the kill came {where}"
        shadow = {n.replace("marts__next.", "marts.", 1): d for n, d in tables(killed, "marts__next").items()}
        assert shadow == tonight, f"the shadow did not hold the night's marts when killed {where}"
        assert not relations_in(night.dsn, "marts__prev")
        assert query(night.dsn, "SELECT has_schema_privilege('tthc_bi', 'marts', 'USAGE')") == [(True,)]

    report = run_night(night, start="marts", until="marts")
    assert report.stages_run == ["marts"], report
    assert_same_as(night, second_reference, packages=False)
