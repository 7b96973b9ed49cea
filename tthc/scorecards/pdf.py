"""Scorecard HTML to A4 PDF, printed by the same headless Chromium the tests look through.

Printing the page itself (rather than drawing a PDF separately) means the PDF says exactly what the
HTML says, with the same embedded font and the same SVG charts, and Chromium embeds the fonts it
uses as subsets. The page's own print CSS (templates/scorecard.css: @page A4, sections kept whole
where they fit, table headers repeated) lays it out; the margins here match its @page rule.

`PdfPrinter` opens one browser and one page and reuses them for every card, so a publish of a
whole province pays Chromium's start once. Every request the page would make is aborted: a card
is self-contained, and a printer that fetched would hide a card that is not. Playwright's sync API
binds the browser to its thread: use one printer per thread.

    with PdfPrinter() as printer:
        for card in cards:
            pdf_bytes = printer.pdf(render_html(card))
"""

from __future__ import annotations

from contextlib import ExitStack

from tthc.scorecards.browser import chromium

MARGINS = {"top": "12mm", "right": "12mm", "bottom": "14mm", "left": "12mm"}


class ExternalFetch(RuntimeError):
    """The HTML given to PdfPrinter.pdf referred to something outside itself."""


class PdfPrinter:
    """`browser`: print in this (already open) browser instead of starting one; it stays open."""

    def __init__(self, browser=None) -> None:
        self._browser = browser
        self._stack: ExitStack | None = None
        self._page = None
        self.blocked: list[str] = []  # URLs a page tried to fetch (aborted); empty for a good card

    def __enter__(self) -> PdfPrinter:
        stack = ExitStack()
        try:
            browser = self._browser or stack.enter_context(chromium())
            context = browser.new_context(offline=True)
            stack.callback(context.close)
            page = context.new_page()
            page.route("**/*", self._abort)
        except BaseException:
            stack.close()
            raise
        self._stack, self._page = stack, page
        return self

    def __exit__(self, *exc) -> None:
        stack, self._stack, self._page = self._stack, None, None
        if stack is not None:
            stack.close()

    def _abort(self, route) -> None:
        self.blocked.append(route.request.url)
        route.abort()

    def pdf(self, html: str) -> bytes:
        """The page printed on A4 with its backgrounds (the key rates' shading).

        Raises ExternalFetch if the page asked for anything (the request was refused): such a page is
        not self-contained, and its PDF would differ from what a reader sees online.
        """
        if self._page is None:
            raise RuntimeError("PdfPrinter.pdf() outside its `with` block")
        before = len(self.blocked)
        self._page.set_content(html, wait_until="load")
        self._page.evaluate("document.fonts.ready.then(() => true)")
        data = self._page.pdf(format="A4", print_background=True, margin=MARGINS, prefer_css_page_size=False)
        if len(self.blocked) > before:
            raise ExternalFetch(f"the page asked for {self.blocked[before:]!r}; a scorecard must not fetch anything")
        return data
