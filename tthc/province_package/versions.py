"""The versions already issued for one unit and period, and whether new content differs."""

from __future__ import annotations

import re
from pathlib import Path

from tthc.province_package.errors import PackageError
from tthc.province_package.manifest import MANIFEST_NAME, read_manifest

_VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")


def issued_versions(period_dir: Path) -> dict[int, Path]:
    """v{N} folders that hold a manifest. Temporary folders of unfinished writes never match."""
    found = {}
    if period_dir.is_dir():
        for child in period_dir.iterdir():
            match = _VERSION_DIR.match(child.name)
            if match and child.is_dir():
                if not (child / MANIFEST_NAME).is_file():
                    raise PackageError(
                        f"{child}: a version folder without {MANIFEST_NAME}; "
                        "the outbox was changed by hand, a person must look"
                    )
                found[int(match.group(1))] = child
    return found


def same_content(package: Path, csv_files: dict[str, bytes], status: str) -> bool:
    """True when the package has exactly these CSVs, byte for byte, and the same trang_thai.

    The workbook and the manifest are left out on purpose: they carry the generation time.
    """
    manifest = read_manifest(package)
    if manifest.get("trang_thai") != status:
        return False
    issued_csvs = {e["ten"] for e in manifest.get("tep", []) if e.get("ten", "").endswith(".csv")}
    if issued_csvs != set(csv_files):
        return False
    try:
        return all((package / name).read_bytes() == data for name, data in csv_files.items())
    except OSError as exc:
        raise PackageError(f"{package}: an issued file cannot be read ({exc}); a person must look") from exc
