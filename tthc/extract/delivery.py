"""Push packages to the province's inbox and remember every attempt.

POST {inbox}/api/v1/extracts, multipart: field `manifest` = manifest.json and one field per
file named after it, with a bearer token. 201 delivered; 409 already received (success: the
inbox has this unit, period and version); 408/429 and 5xx, timeouts and connection errors are
worth retrying later; any other answer is a rejection a person must read, and the package stays.
Every attempt is a line in {outbox}/deliveries.jsonl; the last line per package is its state.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import requests

from tthc.extract.errors import ExtractError
from tthc.extract.manifest import MANIFEST_NAME, read_manifest
from tthc.extract.values import VN_TZ, format_timestamp
from tthc.faults import crash_point

LOG_NAME = "deliveries.jsonl"
DELIVERED, ALREADY_RECEIVED, REJECTED, RETRY = "delivered", "already_received", "rejected", "retry"
_DONE = {DELIVERED, ALREADY_RECEIVED}
_TRANSIENT_4XX = {408, 429}
_REASON_LIMIT = 500
_CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class DeliveryResult:
    unit: str
    period: str
    version: int
    status: str              # delivered | already_received | rejected | retry
    http_status: int | None  # None when no answer came (timeout, connection error)
    reason: str | None
    at: str                  # attempt time, YYYY-MM-DDTHH:MM:SS+07:00

    @property
    def ok(self) -> bool:
        return self.status in _DONE


def deliver_package(package_path: Path, inbox_url: str, token: str, timeout: float = 30,
                    *, now: datetime | None = None) -> DeliveryResult:
    package = Path(package_path)
    manifest = read_manifest(package)
    fields = _multipart_fields(package, manifest)
    url = inbox_url.rstrip("/") + "/api/v1/extracts"
    try:
        response = requests.post(url, files=fields, headers={"Authorization": f"Bearer {token}"},
                                 timeout=timeout, allow_redirects=False)
        status, http_status, reason = _classify(response)
    except requests.Timeout:
        status, http_status, reason = RETRY, None, f"no answer within {timeout} s"
    except requests.RequestException as exc:
        status, http_status, reason = RETRY, None, f"{type(exc).__name__}: {exc}"
    result = DeliveryResult(unit=manifest["ma_don_vi"], period=manifest["ky_bao_cao"],
                            version=manifest["phien_ban"], status=status, http_status=http_status,
                            reason=reason, at=format_timestamp(now or datetime.now(VN_TZ)))
    crash_point("delivery.answered")  # the inbox has answered; the answer is not yet recorded
    _record(outbox_of(package), result)
    return result


def pending_deliveries(outbox: Path, include_rejected: bool = False) -> list[Path]:
    """Packages not delivered yet (never tried, or last attempt to retry), oldest version first.

    Rejected packages wait for a person unless include_rejected is set.
    """
    outbox = Path(outbox)
    last = {(r["unit"], r["period"], r["version"]): r["status"] for r in delivery_log(outbox)}
    wanted = []
    for manifest_path in outbox.glob(f"*/*/v*/{MANIFEST_NAME}"):
        package = manifest_path.parent
        manifest = read_manifest(package)
        state = last.get((manifest["ma_don_vi"], manifest["ky_bao_cao"], manifest["phien_ban"]))
        if state is None or state == RETRY or (include_rejected and state == REJECTED):
            wanted.append((manifest["ma_don_vi"], manifest["ky_bao_cao"], manifest["phien_ban"], package))
    return [package for *_, package in sorted(wanted)]


def delivery_log(outbox: Path) -> list[dict]:
    path = Path(outbox) / LOG_NAME
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise ExtractError(f"{path} line {number}: not JSON ({exc})") from exc
    return records


def outbox_of(package: Path) -> Path:
    """{outbox}/{unit}/{period}/v{N} → {outbox}."""
    return Path(package).resolve().parents[2]


def _multipart_fields(package: Path, manifest: dict) -> list[tuple]:
    """The manifest and every listed file, each checked against its sha256 before it leaves."""
    fields = [("manifest", (MANIFEST_NAME, (package / MANIFEST_NAME).read_bytes(), _CONTENT_TYPES[".json"]))]
    for entry in manifest["tep"]:
        name = entry["ten"]
        data = (package / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ExtractError(f"{package / name}: sha256 differs from the manifest; not sending a damaged package")
        fields.append((name, (name, data, _CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"))))
    return fields


def _classify(response: requests.Response) -> tuple[str, int, str | None]:
    code = response.status_code
    if code == 201:
        return DELIVERED, code, None
    if code == 409:
        return ALREADY_RECEIVED, code, _reason(response)
    if code >= 500 or code in _TRANSIENT_4XX:
        return RETRY, code, _reason(response)
    return REJECTED, code, _reason(response)


def _reason(response: requests.Response) -> str | None:
    """The inbox's own words: a JSON reason/error/detail/message field, else the body text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("reason", "ly_do", "error", "detail", "message"):
            if body.get(key):
                text = body[key] if isinstance(body[key], str) else json.dumps(body[key], ensure_ascii=False)
                return text[:_REASON_LIMIT]
    text = response.text.strip()
    return text[:_REASON_LIMIT] if text else (response.reason or None)


def _record(outbox: Path, result: DeliveryResult) -> None:
    line = json.dumps(asdict(result), ensure_ascii=False) + "\n"
    # One write of one line with O_APPEND: concurrent runs interleave whole lines only.
    fd = os.open(outbox / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
