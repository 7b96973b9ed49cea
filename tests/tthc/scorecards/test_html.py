"""The scorecard page as text: every section, the sample's values where they belong, formatted the
Vietnamese way, names escaped, and nothing the page would fetch."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from decimal import Decimal as D

import pytest

from tests.tthc.scorecards.sample_card import sample_card
from tthc.scorecards import fonts
from tthc.scorecards.html import render_html
from tthc.scorecards.numbers import fmt_change, fmt_count, fmt_percent, fmt_points

SECTIONS = (
    "tong-quan",
    "nhom-chi-so",
    "xu-huong",
    "chi-so",
    "viec-can-lam",
    "don-vi-truc-thuoc",
    "doi-soat",
    "ghi-chu",
)


def text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def by_id(page: str, element_id: str) -> str:
    match = re.search(r'<(\w+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(element_id), page, re.S)
    assert match, f"no element with id {element_id}"
    return text(match.group(2))


def row(page: str, attr: str, value: str) -> str:
    match = re.search(r'<tr[^>]*\b%s="%s"[^>]*>(.*?)</tr>' % (attr, re.escape(value)), page, re.S)
    assert match, f"no row {attr}={value}"
    return match.group(1)


@pytest.fixture(scope="module")
def district() -> str:
    return render_html(sample_card("month"))


@pytest.fixture(scope="module")
def commune() -> str:
    return render_html(sample_card("month_to_date"))


def test_numbers_the_vietnamese_way():
    assert fmt_points(D("78.245")) == "78,25"  # half away from zero
    assert fmt_points(D("1234.5")) == "1.234,50"
    assert fmt_percent(D("0.87545")) == "87,5%"
    assert fmt_count(D("1234")) == "1.234" and fmt_count(D("4321.5")) == "4.321,50"
    assert fmt_change(D("1.254")) == "▲ +1,25" and fmt_change(D("-0.5")) == "▼ -0,50"
    assert fmt_change(D("0.001")) == "= 0,00"
    assert fmt_points(None) == fmt_percent(None) == "—"


def test_document_frame_and_every_section(district, commune):
    for page in (district, commune):
        assert page.startswith('<!DOCTYPE html>\n<html lang="vi">')
        assert '<meta charset="utf-8">' in page
        for section in SECTIONS:
            match = re.search(r'<section id="%s"[^>]*>\s*(.*?)</section>' % section, page, re.S)
            assert match, section
            assert re.search(r"<h[12][^>]*>[^<]+</h[12]>", match.group(1)), f"{section} has no heading"
        assert page.count("<section") == len(SECTIONS)


def test_nothing_to_fetch(district, commune):
    for page in (district, commune):
        assert not re.search(r"<(script|link|img|iframe|object|embed|base)\b", page, re.I)
        assert not re.search(r"""\b(src|href|srcset|action|poster)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", page):
            assert target.startswith(("data:", "#")), target
        assert "@import" not in page
        # the embedded font is there, under its own family name
        assert page.count("@font-face") == 2 and f'font-family:"{fonts.FAMILY}"' in page
        assert f'font-family: "{fonts.FAMILY}"' in page


def test_overview_values(district, commune):
    card = sample_card("month")
    assert by_id(district, "tong-quan-h") == "Huyện Đắk Hà"
    assert by_id(district, "ky") == "Tháng 7/2025"
    assert by_id(district, "trang-thai") == "Chính thức" and by_id(commune, "trang-thai") == "Tạm tính"
    assert by_id(district, "so-lieu-den") == "01/08/2025 01:00"
    assert by_id(commune, "so-lieu-den") == "31/07/2025 09:00"
    assert by_id(district, "tong-diem") == fmt_points(card.total) == "77,29"
    assert by_id(district, "xep-loai") == "Khá"
    assert by_id(district, "xep-hang") == "hạng 3/12"
    assert by_id(district, "thay-doi") == "▲ +1,25"
    assert "tháng 6/2025: 76,03 điểm" in text(re.search(r'id="tong-quan".*?</section>', district, re.S).group(0))
    worse = render_html(replace(card, previous_total=card.total + D("0.5"), rank=None, rank_of=None))
    assert by_id(worse, "thay-doi") == "▼ -0,50" and by_id(worse, "xep-hang") == "chưa xếp hạng"


def test_metric_table_grouped_with_every_number(district):
    assert (
        text(row(district, "data-metric", "2.1"))
        == "2.1 Tỷ lệ hồ sơ giải quyết đúng hạn 1.012 1.100 92,0% 18,40 20,00 1,60"
    )
    assert text(row(district, "data-metric", "5.3")).endswith("4.321,50 5.000 86,4% 5,76 6,00 0,24")
    assert "(không áp dụng)" in text(row(district, "data-metric", "1.1"))
    tbodies = re.findall(r'<tbody id="nhom-(\w+)">(.*?)</tbody>', district, re.S)
    assert [code for code, _ in tbodies] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"]
    codes = {code: re.findall(r'data-metric="([\d.]+)"', body) for code, body in tbodies}
    assert codes["TTTT"] == ["3.4", "3.5", "3.6"] and len(codes["MDSH"]) == 7
    assert "Thanh toán trực tuyến (TTTT) 4,85 10,00 5,15" in text(dict(tbodies)["TTTT"])


def test_children_coloured_with_a_symbol_in_every_cell(district):
    first = row(district, "data-unit", "000.31.25.X01")
    assert "Thị trấn Đắk Hà" in text(first) and "88,40" in text(first)
    cells = re.findall(
        r'<td class="so muc (muc-[\w-]+)" data-metric="([\d.]+)" title="([^"]+)">'
        r'<span class="ky-hieu">(.)</span>([^<]*)</td>',
        district,
    )
    assert len(cells) == 8 * 5
    symbols = {
        "muc-dat": ("✓", "đạt"),
        "muc-can-co-gang": ("!", "cần cố gắng"),
        "muc-thap": ("✗", "thấp"),
        "muc-khong-co": ("—", "không có số liệu"),
    }
    for css, _, title, symbol, _ in cells:
        assert (symbol, title) == symbols[css]
    by_cell = {(i // 5, metric): (css, value.strip()) for i, (css, metric, _, _, value) in enumerate(cells)}
    assert by_cell[(0, "2.1")] == ("muc-dat", "99,0%")  # 0,99 ≥ 0,95
    assert by_cell[(5, "2.1")] == ("muc-can-co-gang", "89,0%")  # 0,85 ≤ 0,89 < 0,95
    assert by_cell[(0, "3.3")] == ("muc-thap", "20,0%")  # below 0,30
    assert by_cell[(2, "1.4")] == ("muc-khong-co", "")  # no rate
    assert by_cell[(3, "2.1")] == ("muc-can-co-gang", "93,0%")
    assert by_cell[(0, "4.2")] == ("muc-can-co-gang", "64,8%")  # 0,6483 rounds to 64,8%
    assert "đạt&nbsp;≥&nbsp;95,0%" in district and "thấp&nbsp;&lt;&nbsp;85,0%" in district


def test_things_to_do_projection_and_empty_sentences(district, commune):
    card = sample_card("month_to_date")
    things = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r'id="ba-viec">(.*?)</ol>', commune, re.S).group(1)))
    assert "Quá hạn: 12 hồ sơ – chỉ số 2.1 (Tỷ lệ hồ sơ giải quyết đúng hạn), tăng được 1,60 điểm" in things
    assert "Sắp đến hạn: 7 hồ sơ – chỉ số 2.1" in things and "giữ được 0,35 điểm" in things
    p = card.projection
    assert by_id(commune, "du-bao-tong") == f"từ {fmt_points(p.total_min)} đến {fmt_points(p.total_max)}"
    assert by_id(commune, "du-bao-hien-tai") == fmt_points(p.total_now)
    assert by_id(commune, "du-bao-2-1") == "từ 87,1% đến 93,5%"
    assert by_id(commune, "du-bao-chua-quyet-dinh") == "17"
    assert "31/07/2025 09:00" in by_id(commune, "du-bao")
    assert by_id(commune, "danh-sach-luc") == "Theo danh sách việc cần làm lúc 31/07/2025 09:00."
    assert 'id="danh-sach-luc"' not in district
    # the month: no things, no projection, the section still there with its sentences
    assert "Không có việc nào có điểm" in by_id(district, "ba-viec-trong")
    assert "Không có dự báo cho kỳ này" in by_id(district, "du-bao-trong")
    assert "Đơn vị không có đơn vị trực thuộc." == by_id(commune, "don-vi-trong")


def test_official_total_beside_ours(district, commune):
    assert by_id(district, "diem-kho") == "77,29"
    assert by_id(district, "diem-chinh-thuc") == "77,10"
    assert by_id(district, "chenh-lech") == "▲ +0,19"
    assert by_id(commune, "diem-chinh-thuc") == "chưa có điểm chính thức"
    assert by_id(commune, "chenh-lech") == "—"


def test_names_and_notes_are_escaped():
    card = sample_card("month")
    hostile = 'Xã <b>Thử</b> & "Kiểm" <script>alert(1)</script>'
    child = replace(card.children[0], unit_name=hostile)
    page = render_html(
        replace(card, unit_name=hostile, children=[child, *card.children[1:]], notes=["Ghi chú <i>in nghiêng</i> & đủ"])
    )
    assert "<script" not in page and "<b>Thử" not in page and "<i>in" not in page
    assert "Xã &lt;b&gt;Thử&lt;/b&gt; &amp; &#34;Kiểm&#34;" in page
    assert by_id(page, "tong-quan-h") == hostile
    assert hostile in text(row(page, "data-unit", child.unit_code))
    assert "Ghi chú <i>in nghiêng</i> & đủ" == by_id(page, "danh-sach-ghi-chu")


def test_sparse_card_still_has_every_section():
    """A unit with no trend, no rank, children without totals or rates, a projection without 2.1."""
    card = sample_card("month_to_date")
    bare_child = replace(sample_card("month").children[0], total=None, band=None, rank=None, rates={})
    page = render_html(
        replace(
            card,
            trend=[],
            rank=None,
            previous_total=None,
            previous_key=None,
            children=[bare_child],
            notes=[],
            projection=replace(card.projection, rate_2_1_min=None, rate_2_1_max=None),
        )
    )
    for section in SECTIONS:
        assert f'<section id="{section}"' in page
    assert "Chưa có điểm của các kỳ trước." in page and 'id="trend-points"' not in page
    assert by_id(page, "thay-doi") == "—"
    assert by_id(page, "du-bao-2-1") == "không có hồ sơ tính chỉ số 2.1"
    cells = text(row(page, "data-unit", bare_child.unit_code))
    assert cells.count("—") == 3 + 5  # total, band, rank; each key rate
    assert "Không có ghi chú." in page
