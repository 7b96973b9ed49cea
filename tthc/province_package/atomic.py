"""Write a folder of files so that it appears complete or not at all."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from tthc.faults import crash_point
from tthc.province_package.errors import PackageError


def write_folder_atomically(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` into a hidden temporary folder beside `target`, fsync, then rename it into place.

    On any error the temporary folder is removed and `target` does not exist. A hard kill can leave a
    `.{name}.tmp-*` folder behind; its name never matches a version, so it is only litter.
    """
    if target.exists():
        raise PackageError(f"{target} already exists; an issued version is never rewritten")
    temp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    temp.mkdir()
    try:
        for name, data in files.items():
            with open(temp / name, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            crash_point("package.file_written")  # failure tests only; off by default
        _fsync_dir(temp)
        os.rename(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)  # make the rename itself durable


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
