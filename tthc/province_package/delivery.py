"""Delivery of the packages to the province's inbox: one attempt, and a run over the outbox.

One attempt (`deliver_package`): POST {inbox}/api/v1/extracts, multipart: field `manifest` =
manifest.json and one field per file named after it, with a bearer token. 201 delivered; 409
already received (success: the inbox has this unit, period and version); 408/429 and 5xx,
timeouts and connection errors are worth retrying later; any other answer is a rejection a person
must read, and the package stays. Every attempt is a line in {outbox}/deliveries.jsonl; the last
line per package is its state.

A run (`deliver_outbox`): each pending package (never tried, last answered 5xx/timeout, or refused
with 401/403) is sent once, one package at a time, so a damaged package does not stop the others
from going. A 401/403 refuses our token, not the package: it fails the run like a rejection, and
once the token is fixed the next run sends the package again. A package whose files no longer
match their manifest is not sent at all and is reported as damaged, every run, until a person
looks. Rejections and damage are logged at ERROR; `raise_if_failed` turns them into a failed task
(DeliveryFailed), and a package the inbox did not take (5xx, timeout) into a failed task too
(DeliveryNotAnswered), after every package was tried: the task's retries send it again, and when
they run out the alert says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import requests

from tthc.faults import crash_point
from tthc.province_package.errors import PackageError
from tthc.province_package.inbox import InboxSettings, inbox_settings
from tthc.province_package.manifest import MANIFEST_NAME, read_manifest
from tthc.province_package.values import VN_TZ, format_timestamp

LOG_NAME = "deliveries.jsonl"
DELIVERED, ALREADY_RECEIVED, REJECTED, RETRY = "delivered", "already_received", "rejected", "retry"
_DONE = {DELIVERED, ALREADY_RECEIVED}
_TRANSIENT_4XX = {408, 429}
_REASON_LIMIT = 500
_CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class DeliveryResult:
    unit: str
    period: str
    version: int
    status: str  # delivered | already_received | rejected | retry
    http_status: int | None  # None when no answer came (timeout, connection error)
    reason: str | None
    at: str  # attempt time, YYYY-MM-DDTHH:MM:SS+07:00

    @property
    def ok(self) -> bool:
        return self.status in _DONE


def deliver_package(
    package_path: Path, inbox_url: str, token: str, timeout: float = 30, *, now: datetime | None = None
) -> DeliveryResult:
    package = Path(package_path)
    manifest = read_manifest(package)
    fields = _multipart_fields(package, manifest)
    url = inbox_url.rstrip("/") + "/api/v1/extracts"
    try:
        response = requests.post(
            url, files=fields, headers={"Authorization": f"Bearer {token}"}, timeout=timeout, allow_redirects=False
        )
        status, http_status, reason = _classify(response)
    except requests.Timeout:
        status, http_status, reason = RETRY, None, f"no answer within {timeout} s"
    except requests.RequestException as exc:
        status, http_status, reason = RETRY, None, f"{type(exc).__name__}: {exc}"
    result = DeliveryResult(
        unit=manifest["ma_don_vi"],
        period=manifest["ky_bao_cao"],
        version=manifest["phien_ban"],
        status=status,
        http_status=http_status,
        reason=reason,
        at=format_timestamp(now or datetime.now(VN_TZ)),
    )
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
                raise PackageError(f"{path} line {number}: not JSON ({exc})") from exc
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
            raise PackageError(f"{package / name}: sha256 differs from the manifest; not sending a damaged package")
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


# The run over the outbox: what to send, and what the task says about it.

log = logging.getLogger(__name__)


TIMEOUT = 30.0  # seconds to wait for the inbox's answer to one package
REFUSED_US = (401, 403)  # the inbox refused our token: the package is sent again once it is fixed


class DeliveryFailed(RuntimeError):
    """The inbox rejected a package, or a package was damaged: a person must look."""


class DeliveryNotAnswered(RuntimeError):
    """The inbox did not take a package (5xx, 408/429, timeout, no connection): send it again later."""


@dataclass(frozen=True)
class Damaged:
    package: Path
    error: str


@dataclass
class DeliveryReport:
    configured: bool
    results: list[DeliveryResult] = field(default_factory=list)
    damaged: list[Damaged] = field(default_factory=list)

    def _with(self, *statuses: str) -> list[DeliveryResult]:
        return [r for r in self.results if r.status in statuses]

    @property
    def delivered(self) -> list[DeliveryResult]:
        """Received by the inbox now, or already before (409)."""
        return self._with("delivered", "already_received")

    @property
    def rejected(self) -> list[DeliveryResult]:
        return self._with("rejected")

    @property
    def retry(self) -> list[DeliveryResult]:
        return self._with("retry")

    @property
    def failed(self) -> bool:
        return bool(self.rejected or self.damaged)

    def summary(self) -> str:
        if not self.configured:
            return "province inbox not configured: packages stay in the outbox"
        return (
            f"{len(self.delivered)} delivered, {len(self.rejected)} rejected, "
            f"{len(self.retry)} to retry next run, {len(self.damaged)} damaged"
        )

    def as_dict(self) -> dict:
        """For the task's return value (XCom): plain, JSON-friendly, no token."""

        def name(r: DeliveryResult) -> str:
            return f"{r.unit}/{r.period}/v{r.version}"

        return {
            "configured": self.configured,
            "delivered": [name(r) for r in self.delivered],
            "rejected": [{"package": name(r), "http_status": r.http_status, "reason": r.reason} for r in self.rejected],
            "retry": [{"package": name(r), "http_status": r.http_status, "reason": r.reason} for r in self.retry],
            "damaged": [{"package": str(d.package), "error": d.error} for d in self.damaged],
        }

    def raise_if_failed(self) -> None:
        if self.failed:
            problems = [f"{r.unit} {r.period} v{r.version}: HTTP {r.http_status} {r.reason}" for r in self.rejected]
            problems += [f"{d.package}: {d.error}" for d in self.damaged]
            if any(r.http_status in REFUSED_US for r in self.rejected):
                problems.append(
                    "the inbox refused our token: fix the province_inbox token, the next publish "
                    "sends the package again"
                )
            raise DeliveryFailed("province inbox delivery needs a person: " + "; ".join(problems))
        if self.retry:
            waiting = [
                f"{r.unit} {r.period} v{r.version}: "
                + (f"HTTP {r.http_status} " if r.http_status else "")
                + (r.reason or "")
                for r in self.retry
            ]
            raise DeliveryNotAnswered(
                "the province inbox did not take "
                + "; ".join(waiting)
                + ". The packages are in the outbox; a rerun of publish sends them again "
                "(a 409 from the inbox then means it had them already)"
            )


def deliver_outbox(outbox: Path, settings: InboxSettings | None = None, timeout: float = TIMEOUT) -> DeliveryReport:
    """Send every pending package once (oldest version first); settings default to inbox_settings()."""
    settings = settings or inbox_settings()
    if settings is None:
        log.info(
            "province inbox not configured (%s/%s or connection %s): packages stay in %s",
            "PROVINCE_INBOX_URL",
            "PROVINCE_INBOX_TOKEN",
            "province_inbox",
            outbox,
        )
        return DeliveryReport(configured=False)
    report = DeliveryReport(configured=True)
    for package in _to_send(outbox):
        try:
            result = deliver_package(package, settings.url, settings.token, timeout)
        except PackageError as exc:  # damaged on disk: never sent, and the other packages still go
            report.damaged.append(Damaged(package, str(exc)))
            log.error("NOT DELIVERED (damaged package, a person must look): %s", exc)
            continue
        report.results.append(result)
        _log(result)
    log.info("province inbox %s: %s", settings.url, report.summary())
    return report


def _to_send(outbox: Path) -> list[Path]:
    """The pending packages, and those last refused with 401/403 (our token, not the package)."""
    last = {(r["unit"], r["period"], r["version"]): r for r in delivery_log(outbox)}
    out = []
    for package in pending_deliveries(outbox, include_rejected=True):
        manifest = read_manifest(package)
        record = last.get((manifest["ma_don_vi"], manifest["ky_bao_cao"], manifest["phien_ban"]))
        if record and record["status"] == "rejected" and record["http_status"] not in REFUSED_US:
            continue  # the inbox refused this package: a person decides
        out.append(package)
    return out


def _log(result: DeliveryResult) -> None:
    what = f"{result.unit} {result.period} v{result.version}"
    if result.status == "delivered":
        log.info("delivered %s (HTTP %s)", what, result.http_status)
    elif result.status == "already_received":
        log.info("%s was already received by the inbox (HTTP 409)", what)
    elif result.status == "retry":
        log.warning("%s not delivered, will retry next run: HTTP %s %s", what, result.http_status, result.reason)
    else:
        log.error(
            "REJECTED by the province inbox, a person must look: %s: HTTP %s %s",
            what,
            result.http_status,
            result.reason,
        )
