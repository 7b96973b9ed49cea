"""Write the scorecards of one period for every unit (or some): read once, render, write each.

    publish_scorecards(dsn, "2025-07", now)            -> ScorecardsResult
    publish_scorecards(dsn, "mtd", now, keep_existing=True)   # the day's month to date, kept once written

The period's data is read in one snapshot (tthc/scorecards/data.py); each unit's card is rendered
to HTML (tthc/scorecards/html.py) and printed to PDF (tthc/scorecards/pdf.py), then written
atomically (tthc/scorecards/write.py). Rendering and printing are CPU-bound, so the units are
shared among forked processes, one per CPU (TTHC_SCORECARD_WORKERS), each with one browser for
all its pages; few units, or a daemonic process (which may not fork children), write in this
process. One unit's failure is logged and the others go on; at the end ScorecardsFailed names
every unit that failed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tthc.paths import REPORTS
from tthc.scorecards.data import PeriodData, UnknownUnit, read_period
from tthc.scorecards.model import Scorecard, ScorecardPeriod
from tthc.scorecards.write import Written, scorecard_path, write_scorecard
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

PROGRESS_EVERY = 20
MIN_UNITS_PER_WORKER = 8
# What the pipeline's publishes write (the monthly and the daily hooks; `tthc scorecard` ignores it):
# "pdf" HTML and PDF (default), "html" the HTML only (a host without Chromium), "off" none.
MODE_ENV = "TTHC_SCORECARDS"
MODES = ("pdf", "html", "off")


def pipeline_mode() -> str:
    mode = os.environ.get(MODE_ENV, "pdf").strip().lower() or "pdf"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


@dataclass
class ScorecardsResult:
    period_key: str
    period_kind: str
    written: list[Written] = field(default_factory=list)
    kept: list[Written] = field(default_factory=list)  # already there (keep_existing): not rewritten
    failed: dict[str, str] = field(default_factory=dict)  # unit -> reason
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"scorecards {self.period_key} ({self.period_kind}): {len(self.written)} written, "
            f"{len(self.kept)} kept, {len(self.failed)} failed in {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        """For a task's return value (XCom): counts, one example path, the failed units and why."""
        return {
            "period": self.period_key,
            "kind": self.period_kind,
            "written": len(self.written),
            "kept": len(self.kept),
            "example": str(self.written[0].html) if self.written else None,
            "failed": dict(self.failed),
            "seconds": round(self.seconds, 3),
        }


class ScorecardsFailed(RuntimeError):
    """Some units' scorecards were not written; `result` holds what was."""

    def __init__(self, message: str, result: ScorecardsResult):
        super().__init__(message)
        self.result = result


def subtree(data: PeriodData, root: str) -> set[str]:
    """`root` and every unit below it in the period (by the parent links of the period's scores)."""
    children: dict[str | None, list[str]] = {}
    for unit, score in data.scores.items():
        children.setdefault(score.parent_unit_code, []).append(unit)
    found, todo = set(), [root] if root in data.scores else []
    while todo:
        unit = todo.pop()
        found.add(unit)
        todo.extend(children.get(unit, []))
    return found


def _printer(pdf: bool, factory: Callable[[], contextlib.AbstractContextManager] | None):
    if not pdf:
        return contextlib.nullcontext(None)
    if factory is not None:
        return factory()
    from tthc.scorecards.pdf import PdfPrinter  # SC-RENDER's module: one Chromium for every page

    return PdfPrinter()


@dataclass(frozen=True)
class _Job:
    data: PeriodData
    now: datetime
    root: Path
    render_html: Callable[[Scorecard], str] | None
    printer: Callable[[], contextlib.AbstractContextManager] | None
    pdf: bool


_FORKED: _Job | None = None  # what a forked worker writes (inherited, not pickled)


def worker_count(units: int, asked: int | None = None) -> int:
    """Processes to write `units` with: TTHC_SCORECARD_WORKERS, else one per CPU; at most one per
    MIN_UNITS_PER_WORKER units (a browser takes about a second to start)."""
    if multiprocessing.current_process().daemon:
        return 1
    wanted = asked or int(os.environ.get("TTHC_SCORECARD_WORKERS") or os.cpu_count() or 1)
    return max(1, min(wanted, units // MIN_UNITS_PER_WORKER))


def _write_forked(units: list[str]) -> tuple[list[Written], dict[str, str]]:
    return _write_units(_FORKED, units)


def _write_units(job: _Job, units: list[str]) -> tuple[list[Written], dict[str, str]]:
    """Render and write `units`' cards with one browser; a unit's failure is recorded, not raised."""
    key = job.data.period.key
    written, failed = [], {}
    with _printer(job.pdf, job.printer) as browser:
        for done, unit in enumerate(units, 1):
            try:
                card = job.data.card(unit, job.now)
                written.append(
                    write_scorecard(
                        job.root, card, render_html=job.render_html, pdf=browser.pdf if browser is not None else None
                    )
                )
            except UnknownUnit as exc:
                failed[unit] = str(exc)
                log.error("scorecard %s %s: %s", unit, key, exc)
            except Exception as exc:  # one unit's failure must not stop the others
                failed[unit] = f"{exc.__class__.__name__}: {exc}"
                log.exception("scorecard %s %s failed; going on with the other units", unit, key)
            if done % PROGRESS_EVERY == 0 or done == len(units):
                log.info(
                    "scorecards %s: %d/%d units done%s (%d failed)",
                    key,
                    done,
                    len(units),
                    f" by process {os.getpid()}" if _FORKED is not None else "",
                    len(failed),
                )
    return written, failed


def publish_scorecards(
    dsn: Dsn,
    period: str | ScorecardPeriod,
    now: datetime,
    root: Path = REPORTS,
    units: list[str] | None = None,
    pdf: bool = True,
    *,
    under: str | None = None,
    keep_existing: bool = False,
    render_html: Callable[[Scorecard], str] | None = None,
    printer: Callable[[], contextlib.AbstractContextManager] | None = None,
    workers: int | None = None,
) -> ScorecardsResult:
    """Write the period's scorecards (HTML, and PDF unless pdf=False) for `units` (default: every
    unit with a score in the period; with `under`, those of that unit's subtree in the period) under
    `root`. keep_existing: a unit whose files are already
    there is left as it is (the day's month to date is written by its first publish and kept).
    `render_html` and `printer` (a context manager yielding an object with .pdf(html) -> bytes)
    replace the real renderer and browser, for tests. `workers`: processes (default
    TTHC_SCORECARD_WORKERS, else one per CPU, fewer for few units). Raises ScorecardsFailed at the end when any
    unit failed, BadPeriod / ScorecardsUnavailable before writing anything."""
    started = time.monotonic()
    data = read_period(dsn, period, now)
    key = data.period.key
    result = ScorecardsResult(key, data.period.kind)
    wanted = list(units) if units is not None else data.units
    if under is not None:
        inside = subtree(data, under)
        wanted = [u for u in wanted if u in inside]
    todo = []
    for unit in wanted:
        html_path = scorecard_path(root, unit, key, ".html")
        pdf_path = scorecard_path(root, unit, key, ".pdf")
        if keep_existing and html_path.exists() and (not pdf or pdf_path.exists()):
            result.kept.append(Written(unit, key, html_path, pdf_path if pdf else None))
        else:
            todo.append(unit)
    log.info("scorecards %s: %d units to write, %d kept, into %s", key, len(todo), len(result.kept), root)
    job = _Job(data, now, Path(root), render_html, printer, pdf)
    chunks = [todo[i::n] for n in [worker_count(len(todo), workers)] for i in range(n)] if todo else []
    if len(chunks) <= 1:
        for chunk in chunks:
            written, failed = _write_units(job, chunk)
            result.written += written
            result.failed.update(failed)
    else:
        # Rendering (matplotlib) and printing (Chromium) are CPU-bound: one process per core, each
        # with its own browser, forked so the period's data is inherited, never pickled.
        global _FORKED
        _FORKED = job
        try:
            fork = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=len(chunks), mp_context=fork) as pool:
                futures = {pool.submit(_write_forked, chunk): chunk for chunk in chunks}
                for future, chunk in futures.items():
                    try:
                        written, failed = future.result()
                    except Exception as exc:  # the worker died (e.g. out of memory): its units failed
                        written, failed = [], dict.fromkeys(chunk, f"worker failed: {exc.__class__.__name__}: {exc}")
                        log.error(
                            "scorecards %s: a worker failed (%s); its %d units are not written", key, exc, len(chunk)
                        )
                    result.written += written
                    result.failed.update(failed)
        finally:
            _FORKED = None
        result.written.sort(key=lambda w: w.unit_code)
    result.seconds = time.monotonic() - started
    log.info(result.summary())
    if result.failed:
        names = ", ".join(sorted(result.failed))
        raise ScorecardsFailed(
            f"scorecards of {key}: {len(result.failed)} of {len(wanted)} units failed ({names}); "
            f"first reason: {next(iter(result.failed.values()))}",
            result,
        )
    return result
