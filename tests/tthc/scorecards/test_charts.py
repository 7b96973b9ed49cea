"""The scorecard's charts: matplotlib SVG with one identified mark per data point, glyphs as paths,
nothing external, ids that do not collide when both charts sit in one page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal as D

from tests.tthc.scorecards.sample_card import sample_card
from tthc.scorecards import charts
from tthc.scorecards.model import GROUPS

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {el.get("id"): el for el in root.iter() if el.get("id")}


def test_group_bars_one_bar_per_group_with_its_id():
    card = sample_card()
    root = ET.fromstring(charts.group_bars_svg(card.groups))
    ids = by_id(root)
    bars = sorted(i for i in ids if i.startswith("group-bar-"))
    assert bars == sorted(f"group-bar-{code}" for code, _ in GROUPS)
    for code, _ in GROUPS:
        assert ids[f"group-bar-{code}"].find(f"{SVG}path") is not None
        assert f"group-max-{code}" in ids and f"group-label-{code}" in ids

    # a bar's length follows its points: CKMB (17,74 of 18) is longer than TTTT (4,85 of 10)
    def width(code):
        d = ids[f"group-bar-{code}"].find(f"{SVG}path").get("d")
        xs = [float(x) for x in re.findall(r"[ML] ([\d.]+) ", d)]
        return max(xs) - min(xs)

    assert width("CKMB") > 3 * width("TTTT")


def test_trend_one_marker_per_period_and_a_gap_still_marked():
    card = sample_card()
    assert len(card.trend) == 12 and card.trend[4].total is None
    root = ET.fromstring(charts.trend_svg(card.trend))
    group = by_id(root)["trend-points"]
    points = list(group)
    assert [p.get("id") for p in points] == [f"trend-point-{i}" for i in range(12)]
    for p in points:  # each holds exactly one drawn marker
        assert len(list(p.iter(f"{SVG}use"))) == 1
    # the unscored period breaks the line: the line's path has two runs (two M commands)
    line = by_id(root)["trend-line"].find(f"{SVG}path").get("d")
    assert line.count("M") == 2


def test_glyphs_are_paths_and_nothing_is_external():
    card = sample_card()
    for svg in (charts.group_bars_svg(card.groups), charts.trend_svg(card.trend)):
        assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
        root = ET.fromstring(svg)
        assert root.findall(f".//{SVG}text") == []  # svg.fonttype = path
        assert "font-family" not in svg and "@font-face" not in svg
        for el in root.iter():
            href = el.get(XLINK_HREF) or el.get("href")
            assert href is None or href.startswith("#"), href
        assert not re.search(r"url\((?!#)", svg)
        assert "http" not in re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[^"]+"', "", svg)


def test_both_charts_in_one_page_have_unique_ids_and_resolvable_references():
    card = sample_card()
    page = charts.group_bars_svg(card.groups) + charts.trend_svg(card.trend)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    refs = set(re.findall(r'href="#([^"]+)"', page)) | set(re.findall(r"url\(#([^)]+)\)", page))
    assert refs and refs <= set(ids)


def test_same_input_same_bytes_and_labels_vietnamese():
    card = sample_card()
    assert charts.trend_svg(card.trend) == charts.trend_svg(card.trend)
    changed = list(card.groups)
    changed[1] = replace(changed[1], points=D("3.5"))
    assert charts.group_bars_svg(changed) != charts.group_bars_svg(card.groups)
    # matplotlib keeps each text as a comment beside its outlines: the labels are formatted the Vietnamese way
    assert "<!-- 17,74 / 18,00 -->" in charts.group_bars_svg(card.groups)
    assert "<!-- Tiến độ giải quyết -->" in charts.group_bars_svg(card.groups)


def test_short_and_unscored_trends_still_mark_every_period():
    card = sample_card()
    for trend in (card.trend[-1:], card.trend[-3:], [replace(t, total=None) for t in card.trend]):
        root = ET.fromstring(charts.trend_svg(trend))
        points = list(by_id(root)["trend-points"])
        assert len(points) == len(trend)
        assert all(len(list(p.iter(f"{SVG}use"))) == 1 for p in points)
