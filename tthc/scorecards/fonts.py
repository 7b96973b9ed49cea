"""The scorecard's own font, embedded in the page so it reads the same on any machine.

A scorecard is one HTML file that must render offline and print the same everywhere, including on
an official's computer without Vietnamese fonts. So the page carries its font: DejaVu Sans regular
and bold as shipped inside matplotlib (`matplotlib.get_data_path()/fonts/ttf`, the same faces the
charts are drawn with, and present wherever the project is installed), cut down with
fontTools.subset to the characters a Vietnamese page needs and embedded as base64 WOFF in
`@font-face` rules.

The subset is by Unicode range, not by the characters of one page: the same few dozen kilobytes
serve every card, are made once per process (`font_face_css` is cached) and do not depend on
what a unit happens to be called. The ranges: Basic Latin and Latin-1, Latin Extended-A and the
Ơ/Ư of Latin Extended-B, the combining accents (a name stored decomposed still renders), Latin
Extended Additional (every precomposed Vietnamese letter), general punctuation, and the few
symbols the page draws (▲ ▼ ✓ ✗ − ≥ …). A character outside them falls back to the reader's
fonts, which the browser test would catch.

The family is called FAMILY ("TTHC DejaVu Sans"), not "DejaVu Sans": a machine with DejaVu
installed must not make a missing embedding look fine.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

FAMILY = "TTHC DejaVu Sans"

# (first, last) code points, inclusive.
UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement (non-breaking space, ·, ×, à á â ã è é ê ì í ò ó ô õ ù ú ý)
    (0x0100, 0x017F),  # Latin Extended-A (Ă ă Đ đ Ĩ ĩ Ũ ũ)
    (0x01A0, 0x01B0),  # Latin Extended-B: Ơ ơ Ư ư
    (0x0300, 0x0323),  # combining accents (decomposed Vietnamese)
    (0x1EA0, 0x1EF9),  # Latin Extended Additional (every precomposed Vietnamese letter)
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x2030),  # ‰
    (0x2190, 0x2193),  # arrows
    (0x2212, 0x2212),  # minus sign
    (0x2264, 0x2265),  # ≤ ≥
    (0x25A0, 0x25CF),  # geometric shapes: ■ □ ▲ △ ▼ ▽ ● ○ ◐
    (0x2713, 0x2717),  # ✓ ✔ ✕ ✖ ✗
)

_FACES = (("normal", "DejaVuSans.ttf"), ("bold", "DejaVuSans-Bold.ttf"))


def font_path(filename: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / filename


def unicodes() -> list[int]:
    return [cp for first, last in UNICODE_RANGES for cp in range(first, last + 1)]


@cache
def subset_woff(filename: str) -> bytes:
    """The face cut down to UNICODE_RANGES, as WOFF (zlib; needs no extra compressor)."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["kern", "liga", "mark", "mkmk", "ccmp", "locl"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keep the copyright and licence notice's names
    options.notdef_outline = True
    options.hinting = False  # screens and PDFs scale the outlines anyway
    options.desubroutinize = True
    options.drop_tables = [*options.drop_tables, "FFTM"]  # FontForge's timestamps: nothing to render
    font = subset.load_font(str(font_path(filename)), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes())
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


@cache
def font_face_css() -> str:
    """The @font-face rules of FAMILY (regular and bold), data URLs, ready for a <style> element."""
    rules = []
    for weight, filename in _FACES:
        data = base64.b64encode(subset_woff(filename)).decode("ascii")
        rules.append(
            '@font-face{font-family:"%s";font-style:normal;font-weight:%s;font-display:block;'
            'src:url(data:font/woff;base64,%s) format("woff");}' % (FAMILY, weight, data)
        )
    return "\n".join(rules)
