"""The scorecard in a real headless Chromium (Debian's, through tthc.scorecards.browser): it loads
from disk with every network request refused and none attempted, no console or page errors, every
section shown, one mark per data point in the live DOM, every character drawn by the embedded font,
and the PDF is A4 with its fonts embedded.

Kept with the test output (for a person to look at): .local/test-output/scorecard.png (full page),
scorecard.pdf and scorecard.html (the district of the sample), and
scorecard_month_to_date.png (the commune's month to date)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from tests.tthc.scorecards.sample_card import sample_card
from tthc.paths import LOCAL
from tthc.scorecards import fonts
from tthc.scorecards.browser import ChromiumMissing, chromium
from tthc.scorecards.html import render_html
from tthc.scorecards.pdf import ExternalFetch, PdfPrinter

OUTPUT = LOCAL / "test-output"
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
A4 = (595.28, 841.89)

# For every distinct character of the page, its width in "FAMILY", monospace and in "FAMILY", serif. A
# character the embedded font draws measures the same in both; one it lacks falls back to two different
# fonts. `probe` is a character the subset lacks on purpose (Cyrillic, which the system fonts have in both):
# the method must see it as missing.
GLYPH_CHECK = """([family, probe]) => {
  const ctx = document.createElement('canvas').getContext('2d');
  const width = (font, ch) => { ctx.font = font; return ctx.measureText(ch).width; };
  const chars = [...new Set([...document.body.innerText].filter(c => c.trim()))];
  const missing = chars.filter(c => width(`16px "${family}", monospace`, c) !== width(`16px "${family}", serif`, c));
  const probeMissing = width(`16px "${family}", monospace`, probe) !== width(`16px "${family}", serif`, probe);
  const faces = [...document.fonts].filter(f => f.family.replace(/"/g, '') === family && f.status === 'loaded')
    .map(f => f.weight);
  return {chars: chars.length, missing, probeMissing, faces,
          check: document.fonts.check(`16px "${family}"`, 'Ắ Đắk Rơ Nga Ưở'),
          used: getComputedStyle(document.body).fontFamily};
}"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    folder = tmp_path_factory.mktemp("scorecards")
    files = {}
    for kind in ("month", "month_to_date"):
        path = folder / f"bang_diem_{kind}.html"
        path.write_text(render_html(sample_card(kind)), encoding="utf-8")
        files[kind] = path
    (OUTPUT / "scorecard.html").write_text(files["month"].read_text(encoding="utf-8"), encoding="utf-8")
    return files


def open_offline(browser, path: Path):
    """The file from disk; every request but the file itself recorded and aborted."""
    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    record = {"requests": [], "blocked": [], "console": [], "errors": []}
    url = path.as_uri()
    page.on("request", lambda r: record["requests"].append(r.url) if r.url != url else None)
    page.on(
        "console", lambda m: record["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: record["errors"].append(str(e)))

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            record["blocked"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return context, page, record


@pytest.mark.parametrize("kind", ["month", "month_to_date"])
def test_loads_offline_every_section_and_mark(browser, pages, kind):
    context, page, record = open_offline(browser, pages[kind])
    try:
        assert record == {"requests": [], "blocked": [], "console": [], "errors": []}
        assert page.evaluate("document.documentElement.lang") == "vi"
        assert page.evaluate("document.characterSet") == "UTF-8"
        for section in SECTIONS:
            box = page.locator(f"section#{section}").bounding_box()
            assert page.locator(f"section#{section}").is_visible() and box and box["height"] > 20, section
            assert page.locator(f"section#{section} h1, section#{section} h2").first.is_visible()
        bars = page.evaluate("""() => [...document.querySelectorAll('[id^="group-bar-"]')]
            .map(el => [el.id, el.getBoundingClientRect().width])""")
        assert [b[0] for b in bars] == [
            "group-bar-CKMB",
            "group-bar-TDGQ",
            "group-bar-CLGQ",
            "group-bar-TTTT",
            "group-bar-MDSH",
            "group-bar-MDHL",
        ]
        assert all(width > 5 for _, width in bars)
        marks = page.evaluate("""() => [...document.querySelectorAll('#trend-points > g')]
            .map(g => [g.id, g.querySelectorAll('use').length, g.getBoundingClientRect().width])""")
        assert [m[0] for m in marks] == [f"trend-point-{i}" for i in range(12)]
        assert all(count == 1 and width > 2 for _, count, width in marks)
        # the page is as wide as the window: no table pushes out of it
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        OUTPUT.mkdir(parents=True, exist_ok=True)
        name = "scorecard.png" if kind == "month" else "scorecard_month_to_date.png"
        page.screenshot(path=str(OUTPUT / name), full_page=True)
    finally:
        context.close()


def test_vietnamese_drawn_by_the_embedded_font(browser, pages):
    context, page, _ = open_offline(browser, pages["month"])
    try:
        assert "Đắk Rơ Nga" in page.inner_text("body") and "Ẳng Tở" in page.inner_text("body")
        result = page.evaluate(GLYPH_CHECK, [fonts.FAMILY, "Ж"])
        assert result["probeMissing"], "the measurement cannot tell a missing glyph"
        assert result["chars"] > 80
        assert result["missing"] == []
        assert sorted(result["faces"]) == ["bold", "normal"]
        assert result["check"] is True
        assert result["used"].startswith(f'"{fonts.FAMILY}"')
    finally:
        context.close()


def font_descriptors(reader: pypdf.PdfReader):
    """(name, descriptor) of every font the pages and their forms use."""
    seen = set()

    def walk(resources):
        if not resources:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            for f in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                if "/FontDescriptor" in f and id(f) not in seen:
                    seen.add(id(f))
                    yield str(f.get("/BaseFont")), f["/FontDescriptor"].get_object()
            if font.get("/Subtype") == "/Type3":
                yield from walk(font.get("/Resources"))
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                yield from walk(xobject.get("/Resources"))

    for p in reader.pages:
        yield from walk(p.get("/Resources"))


def test_pdf_is_a4_with_embedded_fonts(browser, pages):
    with PdfPrinter(browser) as printer:
        district = printer.pdf(pages["month"].read_text(encoding="utf-8"))
        ten = printer.pdf(render_html(sample_card("month", children_count=10)))
        busy = printer.pdf(render_html(sample_card("month_to_date", children_count=10)))
        assert printer.blocked == []
        with pytest.raises(ExternalFetch, match="example.org"):
            printer.pdf('<html lang="vi"><body><img src="https://example.org/logo.png"></body></html>')
    (OUTPUT / "scorecard.pdf").write_bytes(district)
    for data, most_pages in ((district, 2), (ten, 2), (busy, 3)):
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert 1 <= len(reader.pages) <= most_pages
        for p in reader.pages:
            assert abs(float(p.mediabox.width) - A4[0]) <= 1 and abs(float(p.mediabox.height) - A4[1]) <= 1
        descriptors = list(font_descriptors(reader))
        assert descriptors
        for name, descriptor in descriptors:
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), f"{name} not embedded"
        text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())  # a long name may wrap
        assert "Xã Đắk Rơ Nga" in text and "Phường Hòa Cường Bắc" in text and "Thị trấn Mường Tè" in text


def test_a_missing_chromium_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TTHC_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(ChromiumMissing, match="make setup"):
        with chromium():
            pass
