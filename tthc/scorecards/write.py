"""Write one scorecard's HTML and PDF atomically under the reports root.

    <root>/<unit_code>/<period_key>/bang_diem_<unit_code>_<period_key>.html   (and .pdf beside it)

Each file is written to a temporary name in the same folder, flushed to disk and renamed over the
final name (os.replace), so a reader sees the old file or the new one, never half of one.
Rewriting the same period replaces the files (a scorecard is not a versioned delivery).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tthc.scorecards.model import Scorecard

PREFIX = "bang_diem"


@dataclass(frozen=True)
class Written:
    unit_code: str
    period_key: str
    html: Path
    pdf: Path | None


def scorecard_dir(root: Path, unit_code: str, period_key: str) -> Path:
    return Path(root) / unit_code / period_key


def scorecard_path(root: Path, unit_code: str, period_key: str, suffix: str = ".html") -> Path:
    return scorecard_dir(root, unit_code, period_key) / f"{PREFIX}_{unit_code}_{period_key}{suffix}"


def atomic_write(path: Path, data: bytes) -> None:
    """`data` at `path`, all or nothing: a temporary file beside it, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def default_render_html(card: Scorecard) -> str:
    from tthc.scorecards.html import render_html  # SC-RENDER's module, imported when first used

    return render_html(card)


def write_scorecard(
    root: Path,
    card: Scorecard,
    *,
    render_html: Callable[[Scorecard], str] | None = None,
    pdf: Callable[[str], bytes] | None = None,
) -> Written:
    """Render and write `card` (HTML, and PDF when `pdf` — e.g. PdfPrinter().pdf — is given). The HTML
    is rendered and the PDF printed before either file is replaced, so a render failure leaves both
    files of an earlier run as they were."""
    html = (render_html or default_render_html)(card)
    pdf_bytes = pdf(html) if pdf is not None else None
    html_path = scorecard_path(root, card.unit_code, card.period.key, ".html")
    pdf_path = scorecard_path(root, card.unit_code, card.period.key, ".pdf")
    if pdf_bytes is not None:
        atomic_write(pdf_path, pdf_bytes)
    atomic_write(html_path, html.encode("utf-8"))
    return Written(card.unit_code, card.period.key, html_path, pdf_path if pdf_bytes is not None else None)
