"""Scorecards (bảng điểm): one page per unit and period that its head reads in a minute, as a
self-contained HTML file and the same as an A4 PDF (docs/scorecards.md).

    <REPORTS>/<unit>/<period>/bang_diem_<unit>_<period>.html|.pdf    (REPORTS: TTHC_REPORTS, else reports/)

Periods: a month ('2025-07'), a quarter ('2025-Q3'), a year ('2025') from the marts, and the
month to date ('2025-07-31', the published lists' day) from act_points_at_stake. The monthly
publish writes the month's, its quarter's and its year's for every unit after the province
packages; the day's first intraday publish writes the month to date (kept for the day);
`tthc scorecard --unit U --period P` writes one by hand.

| module | job |
|---|---|
| `model.py` | the dataclasses the reader fills and the renderer draws (Scorecard, MetricLine, ...) |
| `periods.py` | period keys, Vietnamese labels, the period before, the trend's periods, final or provisional |
| `key_rates.yml`, `key_rates.py` | the rates the sub-unit table colours against thresholds, and their loader |
| `bands.py` | the rating band and the competition rank as mart_score_monthly gives them (the dbt vars, read) |
| `data.py` | `read_period`: every unit of a period in one snapshot, as the publisher; `PeriodData.card(unit)` |
| `numbers.py` | how numbers, rates and times are written (Vietnamese style) |
| `charts.py` | the six groups' bars and the trend as matplotlib SVG |
| `fonts.py` | the embedded DejaVu Sans subset |
| `html.py`, `templates/` | `render_html(card)`: the page |
| `browser.py` | Debian's headless Chromium through Playwright |
| `pdf.py` | `PdfPrinter`: one browser, many A4 PDFs |
| `write.py` | atomic write of a card's HTML and PDF under the reports root |
| `publish.py` | `publish_scorecards`: read once, write every unit; one unit's failure reported, not fatal to the others |
"""
