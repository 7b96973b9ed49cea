"""Data Docs that read well without a network: GX's pages load Bootstrap, jQuery, Font Awesome
and Vega from CDNs, which a warehouse host or an official's laptop often cannot reach, and the
site then renders unstyled.

`fetch` (run by `make setup`) takes each asset from the npm registry at a pinned version, checks
the tarball against its pinned sha512, and keeps the files the pages use under
.local/vendor/data_docs/. After each build, `localize` copies them into the site
(static/vendor/) and points the pages just written at them by relative paths, so the folder can
be opened from disk, copied or served as it is. Without the fetched assets the pages are left as
GX wrote them (and a warning says how to fix it).

    python -m expectations.data_docs_assets fetch
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import shutil
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tthc.paths import LOCAL

log = logging.getLogger(__name__)

REGISTRY = os.environ.get("TTHC_NPM_REGISTRY", "https://registry.npmjs.org")
CACHE = LOCAL / "vendor" / "data_docs"
VENDOR = Path("static") / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball
    files: tuple[str, ...]  # paths inside the tarball's package/ folder (a trailing / = a folder)

    @property
    def folder(self) -> str:
        return f"{self.name.replace('/', '+')}@{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


PACKAGES = (
    Package(
        "bootstrap",
        "4.3.1",
        "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
        ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"),
    ),
    Package(
        "jquery",
        "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        ("dist/jquery.min.js",),
    ),
    Package(
        "popper.js",
        "1.12.9",
        "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
        ("dist/umd/popper.min.js",),
    ),
    Package(
        "bootstrap-table",
        "1.19.1",
        "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
        (
            "dist/bootstrap-table.min.js",
            "dist/bootstrap-table.min.css",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
        ),
    ),
    Package(
        "bootstrap-table",
        "1.19.0",
        "sha512-L+USHm3X9FKocx/6yngGu12yF6r6s1Ntuc+hoIK2a2QQJjHw5kcySLiE2HY/9sEaSGAOfPbfQOtBH3uKkcpqEA==",
        (
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
            "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        ),
    ),
    Package(
        "bootstrap-datepicker",
        "1.9.0",
        "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
        ("dist/js/bootstrap-datepicker.min.js", "dist/css/bootstrap-datepicker.min.css"),
    ),
    Package(
        "@fortawesome/fontawesome-free",
        "6.6.0",
        "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
        ("css/all.min.css", "webfonts/"),
    ),
    Package(
        "@forevolve/bootstrap-dark",
        "1.1.0",
        "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
        ("dist/css/bootstrap-prefers-dark.css",),
    ),
    # GX asks for the newest 5.x / 6.x; these are the newest when pinned.
    Package(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        ("build/vega.min.js",),
    ),
    Package(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        ("build/vega-lite.min.js",),
    ),
    Package(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        ("build/vega-embed.min.js",),
    ),
)
_BY_KEY = {(p.name, p.version): p for p in PACKAGES}


def _local(name: str, version: str, path: str) -> str:
    return f"{_BY_KEY[(name, version)].folder}/{path}"


# Every external URL GX's templates load (great_expectations/render/view/templates), and the file
# under static/vendor/ that replaces it. The GX logo is in the site's own static/images already.
URLS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": _local(
        "bootstrap", "4.3.1", "dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": _local(
        "bootstrap", "4.3.1", "dist/js/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": _local("jquery", "3.7.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": _local(
        "popper.js", "1.12.9", "dist/umd/popper.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": _local(
        "bootstrap-table", "1.19.1", "dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": _local(
        "bootstrap-table", "1.19.1", "dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": _local(
        "bootstrap-table", "1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": _local(
        "bootstrap-table", "1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": _local(
        "bootstrap-table", "1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": _local(
        "bootstrap-datepicker", "1.9.0", "dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": _local(
        "bootstrap-datepicker", "1.9.0", "dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": _local(
        "@fortawesome/fontawesome-free", "6.6.0", "css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": _local(
        "@forevolve/bootstrap-dark", "1.1.0", "dist/css/bootstrap-prefers-dark.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": _local("vega", "5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": _local("vega-lite", "5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": _local("vega-embed", "6.29.0", "build/vega-embed.min.js"),
}
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[^\"']*/logo-long\.png[^\"']*")
# Subresource integrity and CORS mode are for CDNs; on a file:// page they would block the local copy.
_SRI = re.compile(r"\s+(?:integrity|crossorigin)=\"[^\"]*\"")


class AssetError(RuntimeError):
    pass


def fetch(cache: Path = CACHE) -> Path:
    """Download and verify every package, keep its files under `cache`; a present file is kept."""
    import requests

    for package in PACKAGES:
        target = cache / package.folder
        if all((target / f).exists() for f in package.files):
            continue
        response = requests.get(package.tarball_url, timeout=60)
        response.raise_for_status()
        algorithm, expected = package.integrity.split("-", 1)
        actual = base64.b64encode(hashlib.new(algorithm, response.content).digest()).decode()
        if actual != expected:
            raise AssetError(f"{package.tarball_url}: {algorithm} {actual} is not the pinned {expected}")
        with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
            for member in tar.getmembers():
                inner = member.name.removeprefix("package/")
                wanted = any(inner == f or (f.endswith("/") and inner.startswith(f)) for f in package.files)
                if not member.isfile() or not wanted or ".." in Path(inner).parts:
                    continue
                out = target / inner
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(member).read())
        log.info("Data Docs asset %s@%s kept in %s", package.name, package.version, target)
    return cache


def available(cache: Path = CACHE) -> bool:
    return all((cache / path).is_file() for path in URLS.values())


def localize(docs_dir: Path, pages: list[Path], cache: Path = CACHE) -> bool:
    """Copy the assets into the site and rewrite `pages` to use them; False (pages untouched)
    when the assets were never fetched."""
    if not available(cache):
        log.warning(
            "Data Docs load their styles and scripts from CDNs: the local copies are missing "
            "(`make setup`, or `python -m expectations.data_docs_assets fetch`)"
        )
        return False
    vendor = docs_dir / VENDOR
    if not (vendor / ".complete").exists():
        shutil.copytree(cache, vendor, dirs_exist_ok=True)
        (vendor / ".complete").touch()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(docs_dir, page.parent)).as_posix()
        new = text
        for url, local in URLS.items():
            new = new.replace(f'"{url}"', f'"{prefix}/{VENDOR.as_posix()}/{local}"')
        new = _LOGO.sub(f"{prefix}/static/images/logo-long.png", new)
        new = re.sub(r"<(?:script|link)\b[^>]*>", lambda m: _SRI.sub("", m.group(0)), new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if argv[:1] != ["fetch"]:
        print(__doc__)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"Data Docs assets in {fetch()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
