"""The demo's last act (tthc/demo/actions.py) on published lists made by hand: it picks the
commune (not the province whose lists pool everything), and prints its three things to do, every
list's count, the projection and its workbook's path. The refresh before it is tested in
tests/tthc/actions/test_refresh.py; `make demo` runs the whole."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import scratch_database
from tests.tthc.actions.published import AT, COMMUNE, DAY, PROVINCE, create_published
from tthc.actions.names import LIST_NAMES
from tthc.actions.workbook import workbook_path
from tthc.demo.actions import demo_unit, report
from tthc.warehouse.stages import bootstrap


@pytest.fixture
def published(pg_cluster):
    with scratch_database(pg_cluster) as dsn:
        create_published(dsn)
        # the reader asks the summary whether the unit has lists at T (its other columns unused here)
        with psycopg.connect(dsn.conninfo(), autocommit=True) as conn:
            conn.execute("create table actions.act_unit_summary (at_ts timestamptz, unit_code text)")
            conn.execute("insert into actions.act_unit_summary values (%s, %s), (%s, %s)", (AT, PROVINCE, AT, COMMUNE))
        bootstrap(dsn)
        yield dsn


def test_the_demo_shows_one_communes_day(published, tmp_path):
    assert demo_unit(published, AT) == COMMUNE
    text = report(published, AT, {}, tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith(f"Act today (docs/acting-today.md, §11), 21/07/2025 09:00: đơn vị {COMMUNE} (Xã Mẫu)")
    assert PROVINCE not in text
    things = [line for line in lines if line.startswith(("  1. ", "  2. ", "  3. "))]
    assert len(things) == 3 and "2.1" in things[0] and "2 hồ sơ" in things[0] and "0,08 điểm" in things[0]
    for name in LIST_NAMES:
        assert any(f"({name}): " in line for line in lines), name
    assert "  Quá hạn (qua_han): 2 (chưa có văn bản xin lỗi: 1)" in lines
    assert "  Sắp đến hạn (sap_den_han): 2" in lines
    assert any(line.startswith("  Tỷ lệ đúng hạn: thấp nhất 92,50 %") for line in lines)
    assert f"Tệp XLSX của ngày: {workbook_path(tmp_path, COMMUNE, DAY)}" in lines
    # a workbook the day's publish wrote is the one named
    written = tmp_path / "elsewhere.xlsx"
    assert f"Tệp XLSX của ngày: {written}" in report(published, AT, {COMMUNE: written}, tmp_path)


def test_no_unit_with_rows_is_said(published, tmp_path):
    later = AT.replace(hour=10)
    assert demo_unit(published, later) is None
    assert "no commune or district" in report(published, later, {}, tmp_path)
