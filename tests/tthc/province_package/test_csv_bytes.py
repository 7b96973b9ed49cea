"""The CSV files byte for byte: encoding, line ends, quoting, numbers, order, contract rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.tthc.province_package.sample import PERIOD, PROVINCE, VN, all_tables, chi_so_rows, qua_han_rows, write
from tthc.province_package import PackageError
from tthc.province_package.spec import Kind
from tthc.province_package.values import normalize, to_text


def read_rows(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def cell(kind: Kind, value) -> str:
    return to_text(normalize(kind, value, "test"))


def test_every_csv_has_bom_crlf_only_and_the_contract_header(outbox):
    result = write(outbox)
    for name, rows in all_tables().items():
        raw = (result.path / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert raw.count(b"\n") == raw.count(b"\r\n") == len(rows) + 1
        assert raw.count(b"\r") == raw.count(b"\r\n")
        assert raw.endswith(b"\r\n")
        header = read_rows(raw)[0]
        assert header == list(rows[0].keys())  # sample rows are built in contract column order


@pytest.mark.parametrize(
    "kind, value, text",
    [
        (Kind.RATE, 0.12345, "0.1235"),
        (Kind.RATE, Decimal("0.12345"), "0.1235"),
        (Kind.RATE, Decimal("0.12344999"), "0.1234"),
        (Kind.RATE, Decimal(2) / Decimal(3), "0.6667"),
        (Kind.RATE, 1, "1.0000"),
        (Kind.RATE, 0, "0.0000"),
        (Kind.POINTS, 2.345, "2.35"),
        (Kind.POINTS, Decimal("2.345"), "2.35"),
        (Kind.POINTS, -2.345, "-2.35"),
        (Kind.POINTS, Decimal("-0.125"), "-0.13"),
        (Kind.POINTS, Decimal("-0.004"), "0.00"),  # no negative zero
        (Kind.POINTS, 20, "20.00"),
        (Kind.POINTS, Decimal("1E+2"), "100.00"),  # never scientific notation
        (Kind.POINTS, Decimal("123456789012345678901234567.555"), "123456789012345678901234567.56"),
        (Kind.HOURS, Decimal("7.125"), "7.13"),
        (Kind.HOURS, 1e-7, "0.00"),
        (Kind.INT, 1104, "1104"),
        (Kind.INT, Decimal("42"), "42"),
        (Kind.INT, 7.0, "7"),
        (Kind.FLAG, True, "1"),
        (Kind.FLAG, 0, "0"),
        (Kind.DATE, date(2024, 5, 31), "2024-05-31"),
        (Kind.TIMESTAMP, datetime(2024, 5, 31, 9, 5, 7, 999999, tzinfo=VN), "2024-05-31T09:05:07+07:00"),
        (Kind.TIMESTAMP, datetime(2024, 5, 31, 17, 30, tzinfo=UTC), "2024-06-01T00:30:00+07:00"),
        (
            Kind.TIMESTAMP,
            datetime(2024, 5, 31, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2024-05-31T13:00:00+07:00",
        ),
        (Kind.TEXT, "Hộ tịch", "Hộ tịch"),
        (Kind.TEXT, 3, "3"),
        (Kind.TEXT, None, ""),
        (Kind.RATE, None, ""),
        (Kind.TIMESTAMP, None, ""),
    ],
)
def test_cell_spelling(kind, value, text):
    assert cell(kind, value) == text


@pytest.mark.parametrize(
    "kind, value, message",
    [
        (Kind.RATE, 1.00005, "0..1"),
        (Kind.RATE, -0.2, "0..1"),
        (Kind.RATE, float("nan"), "finite"),
        (Kind.POINTS, Decimal("Infinity"), "finite"),
        (Kind.POINTS, "2.5", "expected a number"),
        (Kind.INT, 2.5, "integer"),
        (Kind.INT, Decimal("3.01"), "integer"),
        (Kind.INT, True, "bool"),
        (Kind.FLAG, 2, "flag"),
        (Kind.TIMESTAMP, datetime(2024, 5, 31, 9, 0), "no timezone"),
        (Kind.TIMESTAMP, date(2024, 5, 31), "timezone-aware datetime"),
        (Kind.DATE, datetime(2024, 5, 31, tzinfo=VN), "expected a date"),
        (Kind.TEXT, Decimal("1.1"), "expected text"),
        (Kind.TEXT, "Nguyễn\x00Văn", "control character"),
    ],
)
def test_bad_cells_are_refused_with_the_reason(kind, value, message):
    with pytest.raises(PackageError, match=message):
        normalize(kind, value, "tong_hop_diem.csv row 1 column x")


def test_quoting_only_where_needed_and_vietnamese_round_trips(outbox):
    rows = qua_han_rows(count=3)
    rows[0]["ma_tthc"] = 'Cấp "bản sao", trích lục'
    rows[1]["ma_tthc"] = "Đăng ký khai sinh\nkết hợp thường trú"
    rows[2]["ma_tthc"] = "Thủ tục đăng ký kết hôn có yếu tố nước ngoài"
    result = write(outbox, tables={"ho_so_qua_han.csv": rows})
    raw = (result.path / "ho_so_qua_han.csv").read_bytes()
    assert '"Cấp ""bản sao"", trích lục"'.encode() in raw
    assert '"Đăng ký khai sinh\r\nkết hợp thường trú"'.encode() in raw  # embedded break written CRLF
    assert ",Thủ tục đăng ký kết hôn có yếu tố nước ngoài,".encode() in raw  # no needless quotes
    assert b'"2024-' not in raw and b'"0' not in raw
    parsed = {r[1]: r[3] for r in read_rows(raw)[1:]}
    assert sorted(parsed.values()) == sorted(
        [
            'Cấp "bản sao", trích lục',
            "Đăng ký khai sinh\r\nkết hợp thường trú",
            "Thủ tục đăng ký kết hôn có yếu tố nước ngoài",
        ]
    )
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_rows_are_sorted_by_key_whatever_order_they_come_in(outbox):
    rows = chi_so_rows()
    result = write(outbox, tables={"chi_so_766.csv": list(reversed(rows))})
    written = [(r[1], r[6]) for r in read_rows((result.path / "chi_so_766.csv").read_bytes())[1:]]
    assert written == sorted((r["ma_don_vi"], r["ma_chi_so"]) for r in rows)
    assert written[0] == (PROVINCE, "1.1") and written[-1] == ("000.31.24.H56", "5.3")


def test_metric_22_and_53_follow_the_contract(outbox):
    result = write(outbox, tables={"chi_so_766.csv": chi_so_rows()})
    data = read_rows((result.path / "chi_so_766.csv").read_bytes())
    rows = [dict(zip(data[0], r)) for r in data[1:]]
    source = {(r["ma_don_vi"], r["ma_chi_so"]): r for r in chi_so_rows()}
    m22 = next(r for r in rows if r["ma_don_vi"] == PROVINCE and r["ma_chi_so"] == "2.2")
    expected_hours = source[(PROVINCE, "2.2")]["tu_so"].quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert m22["tu_so"] == str(expected_hours) and len(m22["tu_so"].split(".")[1]) == 2
    assert m22["mau_so"] == str(source[(PROVINCE, "2.2")]["mau_so"])
    assert (m22["ty_le"], m22["diem"], m22["diem_toi_da"]) == ("", "0.00", "0.00")
    m53 = next(r for r in rows if r["ma_don_vi"] == PROVINCE and r["ma_chi_so"] == "5.3")
    assert m53["tu_so"] == "" and m53["mau_so"] == str(source[(PROVINCE, "2.1")]["mau_so"])
    m11 = next(r for r in rows if r["ma_don_vi"] == PROVINCE and r["ma_chi_so"] == "1.1")
    assert m11["tu_so"].isdigit() and m11["mau_so"].isdigit()  # counts carry no decimals
    assert len(m11["ty_le"].split(".")[1]) == 4 and len(m11["diem"].split(".")[1]) == 2


@pytest.mark.parametrize(
    "metric, column, value, message",
    [
        ("2.2", "ty_le", Decimal("0.5"), "empty"),
        ("2.2", "diem", Decimal("1.5"), "0.00"),
        ("5.3", "tu_so", 12, "empty"),
    ],
)
def test_contract_cells_of_22_and_53_refuse_other_values(outbox, metric, column, value, message):
    rows = chi_so_rows()
    next(r for r in rows if r["ma_chi_so"] == metric)[column] = value
    with pytest.raises(PackageError, match=message):
        write(outbox, tables={"chi_so_766.csv": rows})
    assert not (outbox / PROVINCE / PERIOD / "v1").exists()


def test_row_errors_name_the_file_row_and_columns(outbox):
    rows = chi_so_rows()
    rows[3]["ghi_chu"] = "thừa"
    del rows[3]["ap_dung"]
    with pytest.raises(
        PackageError, match=r"chi_so_766.csv row 4: unknown columns \['ghi_chu'\], missing columns \['ap_dung'\]"
    ):
        write(outbox, tables={"chi_so_766.csv": rows})


def test_duplicate_keys_wrong_period_and_unknown_files_are_refused(outbox):
    rows = chi_so_rows()
    with pytest.raises(PackageError, match="duplicate key"):
        write(outbox, tables={"chi_so_766.csv": rows + [dict(rows[5])]})
    other = chi_so_rows(period="2024-04")
    with pytest.raises(PackageError, match="not the package's period"):
        write(outbox, tables={"chi_so_766.csv": other})
    with pytest.raises(PackageError, match="unknown package files"):
        write(outbox, tables={"chi_so_766.csv": rows, "ho_so.csv": []})
    with pytest.raises(PackageError, match="not a MaDinhDanh"):
        write(outbox, unit_code="../000.00.00.H56")
    with pytest.raises(PackageError, match="no timezone"):
        write(outbox, now=datetime(2024, 6, 3, 2, 14))
    assert list(outbox.rglob("v*")) == []


def test_an_empty_table_is_a_header_only_file(outbox):
    result = write(outbox, tables={"chi_so_766.csv": chi_so_rows(), "ho_so_qua_han.csv": []})
    raw = (result.path / "ho_so_qua_han.csv").read_bytes()
    assert (
        raw
        == (
            "\ufeff"
            + ",".join(
                [
                    "ky_bao_cao",
                    "ma_ho_so",
                    "ma_don_vi",
                    "ma_tthc",
                    "ma_linh_vuc",
                    "kenh",
                    "ngay_tiep_nhan",
                    "ngay_hen_tra",
                    "ngay_ket_thuc_xu_ly",
                    "so_gio_lam_viec_qua_han",
                    "co_phieu_xin_loi",
                    "trang_thai",
                ]
            )
            + "\r\n"
        ).encode()
    )
