"""The demo's last act (issue 21): what one unit has to do at a working hour.

After the last night, the lists of docs/acting-today.md (§11) are refreshed as of DemoPlan.actions_at from
what the warehouse holds (no ingest: the sources were read on the last night, and §11 reads every
dated fact as it stood at T), the day's workbooks are written, and one unit's three things to do,
list counts, month-end projection and workbook path are printed. The unit is the commune or
district with rows on the most lists (the simulator's showcase puts every case on one).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg

from extractors.timefmt import LOCAL
from tthc.privacy import pii_key
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

# A commune or district first (a province's lists pool everything), then the most lists with rows.
DEMO_UNIT_SQL = """
select r.unit_code
from actions.act_list_rows r
join core.dim_unit u on u.unit_code = r.unit_code
where r.at_ts = %s and u.parent_unit_code is not null
group by r.unit_code, u.unit_level
order by (u.unit_level in ('XA', 'HUYEN')) desc, count(distinct r.list_name) desc, count(*) desc, r.unit_code
limit 1
"""


@contextlib.contextmanager
def _demo_key() -> Iterator[None]:
    """dbt builds only with the applicant key set: the demo's own (as its DAG runs get it)."""
    saved = {k: os.environ.get(k) for k in (pii_key.KEY_ENV, pii_key.KEY_FILE_ENV)}
    os.environ.pop(pii_key.KEY_ENV, None)
    os.environ[pii_key.KEY_FILE_ENV] = str(pii_key.local_key_file())
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """dbt's every line and a line per workbook are for the logs, not for the demo's last screen."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def run(dsn: Dsn, at: datetime, outbox: Path) -> str:
    """Refresh the lists as of `at`, write the day's workbooks, and say what one unit has to do."""
    from tthc.actions.daily import DailyMessagesFailed, publish_daily
    from tthc.actions.refresh import refresh_actions

    with _demo_key(), _quiet("tthc.pipeline.dbt", "tthc.actions"):
        refreshed = refresh_actions(dsn, at=at, ingest=False)
        try:
            daily = publish_daily(dsn, refreshed.at, outbox)
        except DailyMessagesFailed as exc:  # recipients configured by hand and unreachable: the files are written
            log.warning("%s", exc)
            daily = exc.result
    workbooks = {w.unit_code: w.path for w in daily.workbooks}
    return report(dsn, refreshed.at, workbooks, outbox) + (
        f"\n({len(workbooks)} workbooks of the day under {Path(outbox) / 'actions'}; "
        f"refresh steps in seconds: {refreshed.seconds})"
    )


def demo_unit(dsn: Dsn, at: datetime) -> str | None:
    with psycopg.connect(as_stage(dsn, "transformer").conninfo()) as conn:
        row = conn.execute(DEMO_UNIT_SQL, (at,)).fetchone()
    return row[0] if row else None


def report(dsn: Dsn, at: datetime, workbooks: dict[str, Path], outbox: Path) -> str:
    """The unit's three things to do, list counts, projection and workbook path, in Vietnamese
    (officials read it; the words are the workbook's, tthc/actions/labels.py)."""
    from tthc.actions.formats import projection_text, three_things_text
    from tthc.actions.labels import LIST_TITLES
    from tthc.actions.names import LIST_NAMES
    from tthc.actions.readers import unit_actions
    from tthc.actions.workbook import workbook_path

    unit = demo_unit(dsn, at)
    if unit is None:
        return f"Act today: no commune or district has a dossier on any list at {at.isoformat()}."
    actions = unit_actions(dsn, unit)
    not_apologised = sum(1 for r in actions.rows if r["list_name"] == "qua_han" and not r["has_apology_letter"])
    counts = []
    for name in LIST_NAMES:
        extra = f" (chưa có văn bản xin lỗi: {not_apologised})" if name == "qua_han" else ""
        counts.append(f"  {LIST_TITLES[name]} ({name}): {actions.counts.get(name, 0)}{extra}")
    path = workbooks.get(unit) or workbook_path(Path(outbox), unit, at.astimezone(LOCAL).date())
    name = f" ({actions.unit_name})" if actions.unit_name else ""
    return "\n".join(
        [
            f"Act today (docs/acting-today.md, §11), {at.astimezone(LOCAL):%d/%m/%Y %H:%M}: đơn vị {unit}{name}",
            three_things_text(actions).rstrip("\n"),
            "Số hồ sơ theo danh sách:",
            *counts,
            projection_text(actions).rstrip("\n"),
            f"Tệp XLSX của ngày: {path}",
            f"Chi tiết: tthc actions show --unit {unit}  (CSV: --format csv; dự báo: tthc actions projection "
            f"--unit {unit} --format json)",
        ]
    )
