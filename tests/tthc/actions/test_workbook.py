"""The daily workbook per unit, read back with openpyxl: sheets, headings, frozen headers, real
datetimes and numbers, values equal to the published tables, reproducible and left alone on a
rerun, rewritten atomically when the lists change; written as the publisher, never from
act_list_rows_named."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from openpyxl import load_workbook

from tests.conftest import scratch_database
from tests.tthc.actions.published import AT, COMMUNE, DAY, HANDLER, PROJECTION, PROVINCE, VN, create_published
from tthc.actions.daily import publish_daily
from tthc.actions.labels import LIST_TITLES
from tthc.actions.unit_day import LISTS, ActionsNotPublished
from tthc.actions.workbook import OVERVIEW_SHEET, UNDECIDED_SHEET, WorkbookError, list_columns, workbook_path


@pytest.fixture
def published(pg_cluster, monkeypatch):
    monkeypatch.delenv("TTHC_ACTION_RECIPIENTS", raising=False)
    with scratch_database(pg_cluster) as dsn:
        create_published(dsn)
        yield dsn


def _two(value) -> float:
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _local(ts: datetime) -> datetime:
    return ts.astimezone(VN).replace(tzinfo=None)


def _table_rows(dsn, unit: str, list_name: str) -> dict[str, dict]:
    with psycopg.connect(dsn.conninfo()) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from actions.act_list_rows where unit_code = %s and list_name = %s", (unit, list_name))
        return {r["dossier_code"]: r for r in cur}


def test_workbook_sheets_headings_cells_and_values(published, tmp_path):
    result = publish_daily(published, AT, tmp_path)
    assert [w.unit_code for w in result.workbooks] == [PROVINCE, COMMUNE]
    path = workbook_path(tmp_path, COMMUNE, DAY)
    assert path == tmp_path / "actions" / COMMUNE / "2025-07-21" / f"viec_can_lam_{COMMUNE}_2025-07-21.xlsx"
    assert all(w.written and w.path.is_file() for w in result.workbooks)

    wb = load_workbook(path)
    assert wb.sheetnames == [OVERVIEW_SHEET, *(LIST_TITLES[n] for n in LISTS), UNDECIDED_SHEET]
    for name in LISTS:
        ws = wb[LIST_TITLES[name]]
        assert ws.freeze_panes == "A2"
        headings = [c.value for c in ws[1]]
        assert headings == [c.heading for c in list_columns(name)]
        expected = _table_rows(published, COMMUNE, name)
        body = [dict(zip(headings, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
        assert sorted(r["Mã hồ sơ"] for r in body) == sorted(expected)
        for cells, line in zip(ws.iter_rows(min_row=2), body):
            want = expected[line["Mã hồ sơ"]]
            by_heading = dict(zip(headings, cells))
            for heading in ("Ngày tiếp nhận", "Hạn trả kết quả"):
                cell = by_heading[heading]
                assert cell.is_date and isinstance(cell.value, datetime)
                assert cell.number_format == "yyyy-mm-dd hh:mm:ss"
            assert by_heading["Ngày tiếp nhận"].value == _local(want["received_at"])
            assert by_heading["Hạn trả kết quả"].value == _local(want["due_at"])
            assert line["Mã đơn vị"] == want["row_unit_code"] and line["Mã TTHC"] == want["procedure_code"]
            assert line["Kênh thực hiện"] == "Trực tuyến" and line["Bước hiện tại"] == 2
            figures = [c for c in list_columns(name) if c.kind.name in ("HOURS", "POINTS")]
            for column in figures:
                cell = by_heading[column.heading]
                source = want["points_gain"] if "điểm" in column.heading.lower() else want["list_value"]
                assert cell.data_type == "n" and not isinstance(cell.value, str)
                assert cell.number_format == "0.00"
                assert cell.value == _two(source)
    # orders for people: least time left first, most overdue first
    due_soon = [r[1].value for r in wb[LIST_TITLES["sap_den_han"]].iter_rows(min_row=2)]
    assert due_soon == [f"{COMMUNE}-250714-0001", f"{COMMUNE}-250714-0002"]
    overdue = {r[1].value: r for r in wb[LIST_TITLES["qua_han"]].iter_rows(min_row=2)}
    headings = [c.value for c in wb[LIST_TITLES["qua_han"]][1]]
    apology = headings.index("Văn bản xin lỗi")
    assert overdue[f"{COMMUNE}-250701-0003"][apology].value == "Chưa có"
    assert overdue[f"{COMMUNE}-250701-0004"][apology].value == "Có"
    assert [r[1].value for r in wb[LIST_TITLES["qua_han"]].iter_rows(min_row=2)][0] == f"{COMMUNE}-250701-0003"

    undecided = wb[UNDECIDED_SHEET]
    assert undecided.freeze_panes == "A2"
    assert [[c.value for c in r] for r in undecided.iter_rows(min_row=2)] == [
        [i, f"{COMMUNE}-250714-000{i}", COMMUNE, datetime(2025, 7, 22 + i, 10, 0)] for i in (1, 2, 3)
    ]

    overview = {r[0].value: list(r[1:]) for r in wb[OVERVIEW_SHEET].iter_rows() if r[0].value is not None}
    assert overview["Mã đơn vị"][0].value == COMMUNE and overview["Tên đơn vị"][0].value == "Xã Mẫu"
    assert (
        overview["Số liệu tính đến"][0].value == datetime(2025, 7, 21, 9, 0) and overview["Số liệu tính đến"][0].is_date
    )
    rows = list(wb[OVERVIEW_SHEET].iter_rows(values_only=True))
    start = rows.index(("Thứ tự", "Chỉ số", "Danh sách", "Số điểm có thể tăng hoặc giữ", "Số hồ sơ"))
    assert rows[start + 1] == (1, "2.1 Giải quyết đúng hạn", "Sắp đến hạn", 0.08, 2)
    assert rows[start + 2] == (2, "4.1 Cấp kết quả điện tử", "Thiếu kết quả điện tử", 0.05, 1)
    assert rows[start + 3] == (3, "1.4 Hồ sơ đồng bộ lên Cổng DVCQG", "Chưa đồng bộ", 0.03, 1)  # 0.03065 → 0.03
    counts = {r[0]: r[1] for r in rows if r[0] in LIST_TITLES.values()}
    assert counts == {LIST_TITLES[n]: len(_table_rows(published, COMMUNE, n)) for n in LISTS}
    assert overview["Quá hạn chưa có văn bản xin lỗi"][0].value == 1
    rate = overview["Tỷ lệ giải quyết đúng hạn (2.1)"]
    assert [c.value for c in rate[:2]] == [0.925, 1.0] and rate[0].number_format == "0.00%"
    assert [c.value for c in overview["Tổng điểm"][:2]] == [70.13, 72.99]  # 70.125 half away from zero
    assert overview["Tổng điểm"][0].number_format == "0.00"
    assert overview["Số hồ sơ chưa quyết định"][0].value == PROJECTION["undecided"]
    assert any("không được dự báo" in str(r[0]) for r in rows)

    # the handler's name (act_list_rows_named) is nowhere in the file
    with zipfile.ZipFile(path) as z:
        assert not any(HANDLER.encode() in z.read(n) for n in z.namelist())


def test_the_days_first_workbook_is_kept_through_the_days_later_refreshes(published, tmp_path):
    first = publish_daily(published, AT, tmp_path)
    path = workbook_path(tmp_path, PROVINCE, DAY)
    content, inode, mtime = path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns

    again = publish_daily(published, AT + timedelta(hours=3), tmp_path)  # later the same day
    assert [w.written for w in again.workbooks] == [False, False]
    assert path.read_bytes() == content and path.stat().st_ino == inode and path.stat().st_mtime_ns == mtime
    assert [w.path for w in again.workbooks] == [w.path for w in first.workbooks]

    # the lists move during the day: the file a message pointed to stays as it was
    with psycopg.connect(published.conninfo(), autocommit=True) as conn:
        conn.execute(
            "update actions.act_list_rows set list_value = 0.5 where unit_code = %s and list_name = "
            "'sap_den_han' and dossier_code like '%%0002'",
            (PROVINCE,),
        )
    changed = publish_daily(published, AT, tmp_path)
    assert {w.unit_code: w.written for w in changed.workbooks} == {PROVINCE: False, COMMUNE: False}
    assert path.read_bytes() == content and path.stat().st_ino == inode

    # a day's file that went missing is written again, from the lists as they are now
    path.unlink()
    rewritten = publish_daily(published, AT, tmp_path)
    assert {w.unit_code: w.written for w in rewritten.workbooks} == {PROVINCE: True, COMMUNE: False}
    sheet = load_workbook(path)[LIST_TITLES["sap_den_han"]]
    assert [r[1].value for r in sheet.iter_rows(min_row=2)][0].endswith("0002")  # 0.5 h left: first now
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


def test_a_day_without_a_published_refresh_writes_nothing(published, tmp_path):
    with pytest.raises(ActionsNotPublished, match="2025-07-22.*latest published: 2025-07-21T09:00:00"):
        publish_daily(published, AT + timedelta(days=1), tmp_path)
    assert not (tmp_path / "actions").exists()


def test_unit_codes_cannot_escape_the_outbox(tmp_path):
    for bad in ("..", "../x", "a/b", ""):
        with pytest.raises(WorkbookError):
            workbook_path(tmp_path, bad, DAY)


def test_the_publisher_reads_every_row_of_the_lists_but_never_the_handlers_names(published):
    from tthc.warehouse.stages import as_stage

    with psycopg.connect(as_stage(published, "publisher").conninfo(), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "tthc_publisher"
        units = conn.execute("select count(distinct unit_code), count(*) from actions.act_list_rows").fetchone()
        assert units == (2, 18)  # row-level security lets it read every unit's rows
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select handler_name from actions.act_list_rows_named")


def test_a_newer_refresh_swapped_in_between_units_is_noticed(published):
    from tthc.actions.unit_day import RefreshMoved, published_refresh, read_day_tables, read_unit_day
    from tthc.warehouse.stages import as_stage

    with psycopg.connect(as_stage(published, "publisher").conninfo(), autocommit=True) as conn:
        first = read_day_tables(conn, published_refresh(conn, DAY))
        assert read_unit_day(conn, first, COMMUNE, None).total_rows == 9
        with psycopg.connect(published.conninfo(), autocommit=True) as admin:  # as a swap would leave it
            for table in (
                "act_refresh",
                "act_list_rows",
                "act_three_things",
                "act_projection",
                "act_undecided_dossiers",
            ):
                admin.execute(f"update actions.{table} set at_ts = at_ts + interval '1 hour'")
        with pytest.raises(RefreshMoved):
            read_unit_day(conn, first, COMMUNE, None)
        with pytest.raises(RefreshMoved):
            read_day_tables(conn, first.refresh)
        later = published_refresh(conn, DAY)
        assert later.at_ts == AT + timedelta(hours=1)
        unit = read_unit_day(conn, read_day_tables(conn, later), COMMUNE, None)
        assert unit.total_rows == 9 and len(unit.three_things) == 3 and len(unit.undecided) == 3
        assert unit.projection["undecided"] == 3
