"""Before and after in one run: bench/pipeline.py from two commits, one after the other, on the
same machine in the same hour, and their nights side by side.

    .venv/bin/python bench/state_ab.py --before 0489edf --dossiers-per-year 2000000

Each commit is checked out into a worktree under .local/bench-ab/ and runs its own
bench/pipeline.py with this checkout's environments (.venv, .venv-dbt), so only the code differs.
Issue 23 asks this of the incremental state's redesign (docs/decisions/009): the 2 M night no more
than 10 % slower than the code before it. Writes bench/results/state-ab-<label>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORKTREES = ROOT / ".local" / "bench-ab"
NIGHT_PREFIX = "night"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def worktree(rev: str) -> Path:
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = WORKTREES / sha[:12]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", str(path), sha)
    return path


def run_pipeline(tree: Path, label: str, dossiers: int) -> dict:
    env = os.environ | {
        "PYTHONPATH": str(tree),
        "TTHC_HOME": str(tree),
        "TTHC_DBT_BIN": str(ROOT / ".venv-dbt" / "bin" / "dbt"),
    }
    subprocess.run(
        [
            sys.executable,
            str(tree / "bench" / "pipeline.py"),
            "--dossiers-per-year",
            str(dossiers),
            "--label",
            label,
            "--backtest-months",
            "0",
        ],
        cwd=tree,
        env=env,
        check=True,
    )
    return json.loads((tree / "bench" / "results" / f"pipeline-{label}.json").read_text())


def night_stages(report: dict) -> dict[str, float]:
    return {s["stage"]: s["seconds"] for s in report["stages"] if s["stage"].startswith(NIGHT_PREFIX)}


def compare(before: dict, after: dict) -> list[str]:
    b, a = night_stages(before), night_stages(after)
    ratio = after["nightly_seconds"] / before["nightly_seconds"]
    lines = [f"| stage | before ({before['commit']}) | after ({after['commit']}) |", "|---|---|---|"]
    lines += [f"| {name} | {b.get(name, '—')} | {a.get(name, '—')} |" for name in dict.fromkeys([*b, *a])]
    lines += [
        f"| **night** | **{before['nightly_seconds']}** | **{after['nightly_seconds']}** |",
        f"| end to end | {before['end_to_end_seconds']} | {after['end_to_end_seconds']} |",
        f"| calibration | {before.get('calibration')} | {after.get('calibration')} |",
        "",
        f"After / before, the night: **{ratio:.3f}** (target ≤ 1.10: {'met' if ratio <= 1.10 else 'NOT met'}).",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the commit before the change")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--dossiers-per-year", type=int, default=2_000_000)
    parser.add_argument("--label", default="large")
    args = parser.parse_args()
    reports = {}
    for side, rev in (("before", args.before), ("after", args.after)):
        tree = worktree(rev)
        print(f"== {side}: {rev} in {tree}", flush=True)
        reports[side] = run_pipeline(tree, f"ab-{side}-{args.label}", args.dossiers_per_year)
        reports[side]["commit"] = git("rev-parse", "--short", "HEAD", cwd=tree)
    lines = [f"# Before and after, {args.dossiers_per_year:,} dossiers a year, one run", "", *compare(**reports)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"state-ab-{args.label}.json").write_text(json.dumps(reports, indent=2, ensure_ascii=False))
    (RESULTS / f"state-ab-{args.label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
