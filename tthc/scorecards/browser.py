"""One way to start the headless Chromium the project prints and tests with.

The browser is Debian's package (installed by `make setup`), never one downloaded by
`playwright install`: the machine that publishes the scorecards has no business fetching a browser
at run time, and the distribution patches it. Playwright only drives it. Every caller (the
scorecard PDFs, the browser tests, the Superset screenshot) launches it here, with the same flags:
no sandbox (containers run as root), no GPU, and none of the background traffic a desktop browser
makes (component updates, sync, QUIC probes), so a render touches no network at all.

`TTHC_CHROMIUM` names another binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class ChromiumMissing(RuntimeError):
    """The Chromium binary is not where TTHC_CHROMIUM (or the default) says."""


def chromium_path() -> Path:
    """The binary to launch; raises ChromiumMissing with the way to install it."""
    configured = os.environ.get("TTHC_CHROMIUM", DEFAULT_CHROMIUM)
    found = shutil.which(configured)
    if found is None or not os.access(found, os.X_OK):
        raise ChromiumMissing(
            f"Chromium not found at {configured!r} (TTHC_CHROMIUM). Run `make setup` to install "
            "Debian's chromium package, or point TTHC_CHROMIUM at a Chromium binary."
        )
    return Path(found)


@contextmanager
def chromium() -> Iterator[playwright.sync_api.Browser]:  # noqa: F821 (imported lazily)
    """A headless Chromium for the duration of the block, closed (with its driver) at the end.

    Playwright's sync API binds the browser to the calling thread: use it from one thread.
    """
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()
