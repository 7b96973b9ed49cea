"""Data Docs read well without a network: every page the gate writes loads its styles and
scripts from the site's own static/vendor/ (fetched and pinned by `make setup`), checked in
Debian's Chromium with every request outside the site refused."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from expectations import data_docs_assets
from expectations.runner import run_gate
from expectations.suites import GATE_SUITES, MARTS_SUITES
from tests.expectations import warehouse
from tthc.scorecards.browser import chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assets() -> Path:
    return data_docs_assets.fetch()  # what `make setup` does; a no-op when already fetched


@pytest.fixture
def site(fresh_db, assets) -> Path:
    warehouse.build(fresh_db.conninfo())
    folder = Path(tempfile.mkdtemp(prefix="tthc-docs-offline-"))
    suites = (GATE_SUITES[0], MARTS_SUITES[0])
    assert run_gate(fresh_db, suites, "offline", docs_dir=folder).docs_index is not None
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def open_offline(browser, page_path: Path) -> dict:
    """Load a page from disk, refusing anything not under file://; what it asked for and how it drew."""
    page = browser.new_page()
    outside, errors, failed = [], [], []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file://")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(page_path.as_uri(), wait_until="load")
    drawn = page.evaluate("""() => ({
        jquery: typeof window.jQuery === 'function',
        bootstrapTable: !!(window.jQuery && window.jQuery.fn.bootstrapTable),
        vega: typeof window.vegaEmbed === 'function',
        // Bootstrap's reboot sets the body's margin to 0 (a browser's own default is 8px)
        bodyMargin: getComputedStyle(document.body).marginTop,
        sheets: Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => !!l.sheet),
        iconFont: document.fonts.check('16px "Font Awesome 6 Free"'),
    })""")
    page.close()
    return {"outside": outside, "errors": errors, "failed": failed, **drawn}


def test_every_page_loads_its_assets_from_the_site_itself(site):
    pages = [
        site / "index.html",
        next((site / "validations").rglob("*.html")),
        next((site / "expectations").glob("*.html")),
    ]
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in text and "bootstrapcdn" not in text and "unpkg.com" not in text, path
    with chromium() as browser:
        for path in pages:
            seen = open_offline(browser, path)
            assert seen["outside"] == [] and seen["failed"] == [], (path, seen)
            assert seen["errors"] == [], (path, seen["errors"])
            assert seen["jquery"] and seen["bootstrapTable"] and seen["vega"], (path, seen)
            assert seen["bodyMargin"] == "0px" and all(seen["sheets"]), (path, seen)


def test_without_the_fetched_assets_the_pages_stay_as_gx_wrote_them(tmp_path):
    page = tmp_path / "index.html"
    original = '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
    page.write_text(original, encoding="utf-8")
    assert data_docs_assets.localize(tmp_path, [page], cache=tmp_path / "nothing-here") is False
    assert page.read_text(encoding="utf-8") == original
