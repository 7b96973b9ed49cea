"""Writing the scorecards: every unit of a period, atomically, one unit's failure reported while
the others are written; the `tthc scorecard` command end to end (real renderer and Chromium); the
monthly publish (month, quarter, year after the packages) and the day's month to date (kept)."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from extractors.timefmt import LOCAL
from tests.conftest import scratch_database
from tests.tthc.scorecards import warehouse as W
from tthc.scorecards import publish as publish_module
from tthc.scorecards import write
from tthc.scorecards.publish import ScorecardsFailed, publish_scorecards
from tthc.scorecards.write import atomic_write, scorecard_path

NOW = datetime(2025, 8, 10, 12, 0, tzinfo=LOCAL)
JULY_UNITS = [W.P, W.D, W.C1, W.C2, W.C3]


@pytest.fixture(scope="module")
def made(pg_cluster):
    with scratch_database(pg_cluster) as dsn:
        W.create_warehouse(dsn)
        yield dsn


def stand_in_html(card) -> str:
    return f"<html><body>{card.unit_code} {card.period.key} {card.total} {card.band}</body></html>"


class StandInPrinter:
    """What PdfPrinter offers (a context manager, .pdf(html) -> bytes), without a browser."""

    opened = 0

    def __enter__(self):
        StandInPrinter.opened += 1
        return self

    def __exit__(self, *exc):
        return False

    def pdf(self, html: str) -> bytes:
        return b"%PDF-1.7 stand-in " + html.encode("utf-8")


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix not in (".html", ".pdf")]


def test_every_unit_of_the_period_is_written(made, tmp_path):
    StandInPrinter.opened = 0
    result = publish_scorecards(made, "2025-07", NOW, root=tmp_path, render_html=stand_in_html, printer=StandInPrinter)
    assert result.ok and sorted(w.unit_code for w in result.written) == sorted(JULY_UNITS)
    assert StandInPrinter.opened == 1  # one browser for every unit
    for unit in JULY_UNITS:
        html = tmp_path / unit / "2025-07" / f"bang_diem_{unit}_2025-07.html"
        pdf = html.with_suffix(".pdf")
        assert html.read_text(encoding="utf-8").startswith(f"<html><body>{unit} 2025-07 ")
        assert pdf.read_bytes() == b"%PDF-1.7 stand-in " + html.read_bytes()
    assert leftovers(tmp_path) == []
    assert result.as_dict()["written"] == 5 and result.as_dict()["failed"] == {}
    # the HTML only
    only = publish_scorecards(
        made, "2025-Q3", NOW, root=tmp_path / "q", pdf=False, render_html=stand_in_html, printer=StandInPrinter
    )
    assert all(w.pdf is None for w in only.written)
    assert sorted(p.name for p in (tmp_path / "q" / W.C1 / "2025-Q3").iterdir()) == [f"bang_diem_{W.C1}_2025-Q3.html"]
    # a subtree
    assert [
        w.unit_code
        for w in publish_scorecards(
            made, "2025-07", NOW, root=tmp_path / "s", under=W.C1, render_html=stand_in_html, printer=StandInPrinter
        ).written
    ] == [W.C1]


def test_one_unit_failing_does_not_stop_the_others(made, tmp_path, caplog):
    publish_scorecards(made, "2025-07", NOW, root=tmp_path, render_html=stand_in_html, printer=StandInPrinter)
    before = scorecard_path(tmp_path, W.C2, "2025-07").read_bytes()

    def breaks_on_c2(card):
        if card.unit_code == W.C2:
            raise RuntimeError("template blew up")
        return stand_in_html(card).replace("<body>", "<body>v2 ")

    with pytest.raises(ScorecardsFailed, match=rf"1 of 5 units failed \({W.C2}\).*template blew up") as failed:
        publish_scorecards(made, "2025-07", NOW, root=tmp_path, render_html=breaks_on_c2, printer=StandInPrinter)
    assert set(failed.value.result.failed) == {W.C2} and len(failed.value.result.written) == 4
    assert scorecard_path(tmp_path, W.C2, "2025-07").read_bytes() == before  # the last good file stays
    assert scorecard_path(tmp_path, W.C1, "2025-07").read_text(encoding="utf-8").startswith("<html><body>v2 ")
    assert leftovers(tmp_path) == []
    with pytest.raises(ScorecardsFailed, match="000.99.99.H99.*has no score for 2025-07"):
        publish_scorecards(
            made,
            "2025-07",
            NOW,
            root=tmp_path,
            units=["000.99.99.H99", W.C1],
            render_html=stand_in_html,
            printer=StandInPrinter,
        )


def test_a_half_written_file_is_never_visible(tmp_path, monkeypatch):
    target = tmp_path / "U" / "2025-07" / "bang_diem_U_2025-07.html"
    atomic_write(target, b"old")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(write.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new content")
    assert target.read_bytes() == b"old" and list(target.parent.iterdir()) == [target]
    monkeypatch.undo()
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content" and oct(target.stat().st_mode & 0o777) == "0o644"


def test_keep_existing_keeps_the_days_first_scorecards(made, tmp_path):
    first = publish_scorecards(
        made, "mtd", W.AT, root=tmp_path, keep_existing=True, render_html=stand_in_html, printer=StandInPrinter
    )
    assert first.period_key == "2025-07-21" and len(first.written) == 5
    path = scorecard_path(tmp_path, W.C1, "2025-07-21", ".pdf")
    stamp = path.stat().st_mtime_ns
    again = publish_scorecards(
        made,
        "2025-07-21",
        W.AT + timedelta(hours=2),
        root=tmp_path,
        keep_existing=True,
        render_html=lambda card: "changed",
        printer=StandInPrinter,
    )
    assert (len(again.written), len(again.kept)) == (0, 5) and path.stat().st_mtime_ns == stamp
    os.unlink(path)  # a unit whose PDF is missing is written again
    third = publish_scorecards(
        made, "mtd", W.AT, root=tmp_path, keep_existing=True, render_html=stand_in_html, printer=StandInPrinter
    )
    assert [w.unit_code for w in third.written] == [W.C1]


def test_the_scorecard_command(made, tmp_path, monkeypatch, capsys):
    """End to end: the real renderer and Chromium."""
    from tthc.cli import main

    monkeypatch.setenv("WAREHOUSE_DSN", made.url())
    assert (
        main(
            [
                "scorecard",
                "--unit",
                W.C3,
                "--period",
                "2025-07",
                "--root",
                str(tmp_path),
                "--now",
                "2025-08-10T12:00:00+07:00",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.split()
    html, pdf = scorecard_path(tmp_path, W.C3, "2025-07"), scorecard_path(tmp_path, W.C3, "2025-07", ".pdf")
    assert printed == [str(html), str(pdf)]
    text = html.read_text(encoding="utf-8")
    assert "UBND xã Thanh An" in text and "Tháng 7/2025" in text
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["scorecard", "--unit", W.C1, "--period", "mtd", "--root", str(tmp_path), "--no-pdf"]) == 0
    assert capsys.readouterr().out.split() == [str(scorecard_path(tmp_path, W.C1, "2025-07-21"))]

    assert main(["scorecard", "--unit", "000.99.99.H99", "--period", "2025-07", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "không lập được bảng điểm của đơn vị 000.99.99.H99" in err and "has no score for 2025-07" in err
    assert main(["scorecard", "--unit", W.C1, "--period", "2023-01", "--root", str(tmp_path)]) == 2
    assert "no scores for 2023-01" in capsys.readouterr().err
    assert main(["scorecard", "--unit", W.C1, "--period", "July", "--root", str(tmp_path)]) == 2
    assert "is not YYYY-MM" in capsys.readouterr().err


@pytest.fixture
def stand_ins(monkeypatch):
    """The hooks render with the stand-ins (the renderer is tested on its own)."""
    monkeypatch.setattr(write, "default_render_html", stand_in_html)
    monkeypatch.setattr(
        publish_module, "_printer", lambda pdf, factory: StandInPrinter() if pdf else contextlib.nullcontext(None)
    )


def test_the_monthly_publish_writes_the_month_quarter_and_year_after_the_packages(
    pg_cluster, tmp_path, monkeypatch, stand_ins
):
    from tests.tthc.province_package.province import PROVINCE, UNITS, create_marts
    from tthc.orchestration.tasks import ScorecardsNotWritten, publish

    monkeypatch.delenv("PROVINCE_INBOX_URL", raising=False)
    monkeypatch.delenv("TTHC_MONTH_CLOSING_DAY", raising=False)
    with scratch_database(pg_cluster) as dsn:
        create_marts(dsn.conninfo())  # July and Q3 in the marts, but no year 2025; another province too
        monkeypatch.setenv("WAREHOUSE_DSN", dsn.url())
        with pytest.raises(
            ScorecardsNotWritten,
            match=r"packages of 2025-07 are written and delivered, but "
            r"scorecards not written: 2025: .*no scores for 2025",
        ):
            publish(NOW, "2025-07", PROVINCE, outbox=tmp_path / "outbox", reports=tmp_path / "reports")
        assert list((tmp_path / "outbox" / PROVINCE / "2025-07").iterdir())  # the package is there
        units = {u for u, (_, _, parent) in UNITS.items() if u == PROVINCE or parent == PROVINCE} - {"000.00.12.H56"}
        for key in ("2025-07", "2025-Q3"):
            assert {p.parent.parent.name for p in (tmp_path / "reports").glob(f"*/{key}/*.pdf")} == units
        assert not list((tmp_path / "reports").glob("*/2025/*"))
        with psycopg.connect(dsn.conninfo()) as conn:  # with the year in the marts the task succeeds
            conn.execute(
                "insert into marts.mart_score_monthly select 'year', '2025', '2025-01-01', '2026-01-01', "
                "unit_code, unit_name, unit_level, parent_unit_code, score_ckmb, score_tdgq, score_clgq, "
                "score_tttt, score_mdhl, score_mdsh, total_score, max_score, rank_in_level, rating_band "
                "from marts.mart_score_monthly where period_type = 'month' and period_key = '2025-07'"
            )
        out = publish(NOW, "2025-07", PROVINCE, outbox=tmp_path / "outbox", reports=tmp_path / "reports")
        assert {k: v["written"] for k, v in out["scorecards"].items()} == {"2025-07": 3, "2025-Q3": 3, "2025": 3}


def test_the_daily_publish_writes_the_month_to_date_once_a_day(made, tmp_path, monkeypatch, stand_ins):
    from tthc.orchestration.actions import publish_daily

    monkeypatch.setenv("WAREHOUSE_DSN", made.url())
    monkeypatch.delenv("TTHC_ACTION_RECIPIENTS", raising=False)
    first = publish_daily(W.AT, outbox=tmp_path / "outbox", reports=tmp_path / "reports")
    assert first["scorecards"]["written"] == 5 and first["scorecards"]["period"] == "2025-07-21"
    assert scorecard_path(tmp_path / "reports", W.P, "2025-07-21", ".pdf").exists()
    later = publish_daily(W.AT + timedelta(hours=3), outbox=tmp_path / "outbox", reports=tmp_path / "reports")
    assert (later["scorecards"]["written"], later["scorecards"]["kept"]) == (0, 5)


def test_the_demo_prints_the_busiest_communes_month(made, tmp_path, monkeypatch, stand_ins):
    import tthc.paths
    from tthc.demo.pipeline import _scorecard_line

    monkeypatch.setattr(tthc.paths, "REPORTS", tmp_path)
    with psycopg.connect(made.conninfo()) as conn:  # C3 the busiest commune in July
        conn.execute(
            "update marts.mart_metric_monthly set denominator = 500 where unit_code = %s "
            "and metric_code = '2.1' and period_key = '2025-07'",
            (W.C3,),
        )
    try:
        line = _scorecard_line(made, "2025-07")
    finally:
        with psycopg.connect(made.conninfo()) as conn:
            conn.execute(
                "update marts.mart_metric_monthly set denominator = 20 where unit_code = %s "
                "and metric_code = '2.1' and period_key = '2025-07'",
                (W.C3,),
            )
    path = scorecard_path(tmp_path, W.C3, "2025-07")
    assert line.startswith(f"Scorecard: {path} (PDF beside it) - UBND xã Thanh An, 2025-07")
    assert path.exists() and path.with_suffix(".pdf").exists()


def test_the_pipeline_writes_what_tthc_scorecards_says(made, tmp_path, monkeypatch, stand_ins):
    from tthc.orchestration.actions import publish_daily

    monkeypatch.setenv("WAREHOUSE_DSN", made.url())
    monkeypatch.delenv("TTHC_ACTION_RECIPIENTS", raising=False)
    monkeypatch.setenv("TTHC_SCORECARDS", "off")
    assert "scorecards" not in publish_daily(W.AT, outbox=tmp_path / "outbox", reports=tmp_path / "off")
    assert not (tmp_path / "off").exists()
    monkeypatch.setenv("TTHC_SCORECARDS", "html")
    assert publish_daily(W.AT, outbox=tmp_path / "outbox", reports=tmp_path / "html")["scorecards"]["written"] == 5
    assert {p.suffix for p in (tmp_path / "html").rglob("*") if p.is_file()} == {".html"}
    monkeypatch.setenv("TTHC_SCORECARDS", "svg")
    with pytest.raises(ValueError, match="TTHC_SCORECARDS='svg'"):
        publish_daily(W.AT, outbox=tmp_path / "outbox", reports=tmp_path / "bad")


def test_units_shared_among_processes(made, tmp_path, monkeypatch):
    """Two forked workers: every unit written once; a unit's error and a worker's death reported."""
    monkeypatch.setattr(publish_module, "MIN_UNITS_PER_WORKER", 1)
    both = publish_scorecards(
        made, "2025-07", NOW, root=tmp_path / "a", render_html=stand_in_html, printer=StandInPrinter, workers=2
    )
    assert [w.unit_code for w in both.written] == sorted(JULY_UNITS)
    assert all(scorecard_path(tmp_path / "a", u, "2025-07", ".pdf").exists() for u in JULY_UNITS)

    def dies_on_c2(card):
        if card.unit_code == W.C2:
            os._exit(3)  # the worker process dies: every unit of its share fails, the rest go on
        if card.unit_code == W.C3:
            raise RuntimeError("bad C3")
        return stand_in_html(card)

    with pytest.raises(ScorecardsFailed) as failed:
        publish_scorecards(
            made, "2025-07", NOW, root=tmp_path / "b", render_html=dies_on_c2, printer=StandInPrinter, workers=2
        )
    result = failed.value.result
    assert W.C2 in result.failed and "worker failed" in result.failed[W.C2]
    assert set(result.failed) | {w.unit_code for w in result.written} == set(JULY_UNITS)
    assert "bad C3" in result.failed.get(W.C3, "") or "worker failed" in result.failed[W.C3]
    assert result.written and all(w.html.exists() for w in result.written)
