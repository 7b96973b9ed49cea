"""Push the outbox's pending packages to the province's inbox and say plainly what happened.

Each pending package (never tried, last answered 5xx/timeout, or refused with 401/403) is sent
once per run through tthc.extract.deliver_package: 201/409 delivered, other 4xx rejected (kept;
waits for a person), 408/429/5xx/timeouts retried on the next run (one package at a time, so a
damaged package does not stop the others from going). A 401/403 refuses our
token, not the package: it fails the run like a rejection, and once the token is fixed the next
run sends the package again. A package whose files no longer match their manifest is not sent at
all and is reported as damaged, every run, until a person looks. Rejections and damage are
logged at ERROR; `raise_if_failed` turns them into a failed task (DeliveryFailed), and a package
the inbox did not take (5xx, timeout) into a failed task too (DeliveryNotAnswered), after every
package was tried: the task's retries send it again, and when they run out the alert says so.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tthc.extract import DeliveryResult, ExtractError, deliver_package, delivery_log, pending_deliveries
from tthc.extract.manifest import read_manifest
from tthc.publish.inbox import InboxSettings, inbox_settings

log = logging.getLogger(__name__)


TIMEOUT = 30.0           # seconds to wait for the inbox's answer to one package
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
        return (f"{len(self.delivered)} delivered, {len(self.rejected)} rejected, "
                f"{len(self.retry)} to retry next run, {len(self.damaged)} damaged")

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
                problems.append("the inbox refused our token: fix the province_inbox token, the next publish "
                                "sends the package again")
            raise DeliveryFailed("province inbox delivery needs a person: " + "; ".join(problems))
        if self.retry:
            waiting = [f"{r.unit} {r.period} v{r.version}: " + (f"HTTP {r.http_status} " if r.http_status else "")
                       + (r.reason or "") for r in self.retry]
            raise DeliveryNotAnswered("the province inbox did not take " + "; ".join(waiting)
                                      + ". The packages are in the outbox; a rerun of publish sends them again "
                                      "(a 409 from the inbox then means it had them already)")


def deliver_outbox(outbox: Path, settings: InboxSettings | None = None, timeout: float = TIMEOUT) -> DeliveryReport:
    """Send every pending package once (oldest version first); settings default to inbox_settings()."""
    settings = settings or inbox_settings()
    if settings is None:
        log.info("province inbox not configured (%s/%s or connection %s): packages stay in %s",
                 "PROVINCE_INBOX_URL", "PROVINCE_INBOX_TOKEN", "province_inbox", outbox)
        return DeliveryReport(configured=False)
    report = DeliveryReport(configured=True)
    for package in _to_send(outbox):
        try:
            result = deliver_package(package, settings.url, settings.token, timeout)
        except ExtractError as exc:  # damaged on disk: never sent, and the other packages still go
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
        log.error("REJECTED by the province inbox, a person must look: %s: HTTP %s %s",
                  what, result.http_status, result.reason)
