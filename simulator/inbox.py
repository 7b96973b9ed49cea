"""The province's inbox for standardized monthly extracts (POST/GET /api/v1/extracts).

A package arrives as multipart/form-data: field `manifest` holds manifest.json, and one field
per file, named after the file. It is accepted (201) when the manifest parses, names its unit,
period and version, and every file it lists arrived with the listed SHA-256; the same unit,
period and version a second time is a conflict (409, success for the sender); anything else is
rejected (400) with the reason. Received packages stay in memory and, with `inbox_dir`, are also
written to `inbox_dir/{unit}/{period}/v{N}/` (complete or absent: a temporary folder renamed).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import orjson

MANIFEST_FIELD = "manifest"
_UNIT = re.compile(r"^[0-9A-Za-z.]{1,40}$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_FILE = re.compile(r"^[0-9A-Za-z_.-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


class Rejected(Exception):
    """A package the inbox refuses (HTTP 400), with the reason."""


class Duplicate(Exception):
    """This unit, period and version was already received (HTTP 409)."""


@dataclass
class Package:
    manifest: dict
    files: dict[str, bytes]
    received_at: str

    @property
    def key(self) -> tuple[str, str, int]:
        return self.manifest["ma_don_vi"], self.manifest["ky_bao_cao"], self.manifest["phien_ban"]


def parse_multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    """multipart/form-data -> {field name: bytes}, exactly as sent; Rejected if malformed."""
    msg = Message()
    msg["Content-Type"] = content_type or ""
    if msg.get_content_type() != "multipart/form-data":
        raise Rejected(f"expected multipart/form-data, got {content_type or 'no Content-Type'!r}")
    boundary = msg.get_param("boundary")
    if not boundary:
        raise Rejected("multipart body without a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise Rejected("multipart body is truncated (no closing boundary)")
    fields: dict[str, bytes] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n"):
            raise Rejected("malformed multipart part")
        head, sep, data = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise Rejected("multipart part without headers")
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part[name.strip()] = value.strip()
        field = part.get_param("name", header="content-disposition")
        if not field:
            raise Rejected("multipart part without a field name")
        if field in fields:
            raise Rejected(f"field {field!r} sent twice")
        fields[field] = data
    return fields


def check_package(fields: dict[str, bytes]) -> tuple[dict, dict[str, bytes]]:
    """Validate a package's fields; returns (manifest, files) or raises Rejected with the reason."""
    if MANIFEST_FIELD not in fields:
        raise Rejected("no 'manifest' field")
    try:
        manifest = orjson.loads(fields[MANIFEST_FIELD])
    except orjson.JSONDecodeError as e:
        raise Rejected(f"manifest.json does not parse: {e}") from None
    if not isinstance(manifest, dict):
        raise Rejected("manifest.json is not a JSON object")
    unit, period, version = manifest.get("ma_don_vi"), manifest.get("ky_bao_cao"), manifest.get("phien_ban")
    if not isinstance(unit, str) or not _UNIT.match(unit):
        raise Rejected(f"manifest: ma_don_vi missing or invalid ({unit!r})")
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise Rejected(f"manifest: ky_bao_cao missing or not YYYY-MM ({period!r})")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Rejected(f"manifest: phien_ban missing or not a positive integer ({version!r})")
    listed = manifest.get("tep")
    if not isinstance(listed, list) or not listed:
        raise Rejected("manifest: tep must list the package's files")
    files: dict[str, bytes] = {}
    for entry in listed:
        name = entry.get("ten") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not _FILE.match(name) or name in (".", "..", "manifest.json"):
            raise Rejected(f"manifest: bad file name in tep ({name!r})")
        if not isinstance(digest, str) or not _SHA.match(digest):
            raise Rejected(f"manifest: {name}: sha256 missing or not 64 hex digits")
        if name in files:
            raise Rejected(f"manifest: {name} listed twice")
        if name not in fields:
            raise Rejected(f"{name}: listed in the manifest but not sent")
        data = fields[name]
        if hashlib.sha256(data).hexdigest() != digest:
            raise Rejected(f"{name}: sha256 differs from the manifest")
        files[name] = data
    extra = sorted(set(fields) - set(files) - {MANIFEST_FIELD})
    if extra:
        raise Rejected(f"files not listed in the manifest: {', '.join(extra)}")
    return manifest, files


class Inbox:
    def __init__(self, inbox_dir: Path | None = None):
        self.inbox_dir = Path(inbox_dir) if inbox_dir else None
        self._packages: list[Package] = []
        self._lock = threading.Lock()

    def receive(self, fields: dict[str, bytes], received_at: str) -> Package:
        """Accept a package (Rejected / Duplicate otherwise)."""
        manifest, files = check_package(fields)
        package = Package(manifest, files, received_at)
        with self._lock:
            if any(p.key == package.key for p in self._packages) or self._on_disk(package):
                raise Duplicate("{} {} v{} was already received".format(*package.key))
            if self.inbox_dir is not None:
                self._write(package, fields[MANIFEST_FIELD])
            self._packages.append(package)
        return package

    def folder(self, package: Package) -> Path | None:
        unit, period, version = package.key
        return None if self.inbox_dir is None else self.inbox_dir / unit / period / f"v{version}"

    def _on_disk(self, package: Package) -> bool:
        # an inbox folder kept from an earlier run remembers what it received
        folder = self.folder(package)
        return folder is not None and folder.exists()

    def _write(self, package: Package, manifest_bytes: bytes) -> None:
        final = self.folder(package)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".v{package.key[2]}-", dir=final.parent))
        try:
            (tmp / "manifest.json").write_bytes(manifest_bytes)
            for name, data in package.files.items():
                (tmp / name).write_bytes(data)
            os.replace(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @property
    def packages(self) -> list[Package]:
        with self._lock:
            return list(self._packages)

    def manifests(self) -> list[dict]:
        return [p.manifest for p in self.packages]

    def listing(self) -> list[dict]:
        return [
            {
                "ma_don_vi": p.key[0],
                "ky_bao_cao": p.key[1],
                "phien_ban": p.key[2],
                "nhan_luc": p.received_at,
                "tep": sorted(p.files),
                "manifest": p.manifest,
            }
            for p in self.packages
        ]
