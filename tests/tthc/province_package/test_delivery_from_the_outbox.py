"""Publish, then deliver to the simulator's real province inbox: 201, 409, 400, damaged, 503 then retry."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest

from simulator import FaultConfig, SimulatorServer, World
from tests.simulator.conftest import EMPTY_PROVINCE
from tests.tthc.province_package.province import PERIOD, PROVINCE
from tthc.province_package import delivery_log, pending_deliveries
from tthc.province_package.delivery import DeliveryFailed, DeliveryNotAnswered, deliver_outbox
from tthc.province_package.inbox import InboxSettings
from tthc.province_package.monthly import publish_month
from tthc.province_package.periods import Month

pytestmark = pytest.mark.slow

NOW = datetime.fromisoformat("2025-08-01T03:00:00+07:00")
TOKEN = "demo-inbox-token"  # the simulator's default


@pytest.fixture
def inbox():
    world = World(EMPTY_PROVINCE)
    with SimulatorServer(world) as server:  # a free loopback port
        yield server


@pytest.fixture
def package(warehouse, outbox):
    return publish_month(warehouse, PROVINCE, Month.parse(PERIOD), NOW, outbox).path


def settings(server) -> InboxSettings:
    return InboxSettings(server.url, TOKEN)


def test_delivered_with_201_then_409_on_a_resend(inbox, package, outbox):
    first = deliver_outbox(outbox, settings(inbox), timeout=10)
    assert [(r.unit, r.period, r.version, r.http_status) for r in first.delivered] == [(PROVINCE, PERIOD, 1, 201)]
    assert not first.failed and first.summary() == "1 delivered, 0 rejected, 0 to retry next run, 0 damaged"
    [received] = inbox.inbox
    assert received == json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert deliver_outbox(outbox, settings(inbox)).results == []  # nothing pending any more

    (outbox / "deliveries.jsonl").unlink()  # the outbox forgot it sent v1: the inbox remembers
    again = deliver_outbox(outbox, settings(inbox), timeout=10)
    assert [(r.status, r.http_status) for r in again.results] == [("already_received", 409)]
    assert again.delivered == again.results and not again.failed
    assert len(inbox.inbox) == 1


def test_a_package_the_inbox_rejects_is_reported_loudly_and_kept(inbox, package, outbox, caplog):
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    manifest["ky_bao_cao"] = "2025-7"  # tampered after writing: the inbox refuses it
    (package / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    kept = {p.name: p.read_bytes() for p in package.iterdir()}

    with caplog.at_level(logging.INFO, logger="tthc.province_package.delivery"):
        report = deliver_outbox(outbox, settings(inbox), timeout=10)
    [rejected] = report.rejected
    assert (rejected.http_status, rejected.reason) == (400, "manifest: ky_bao_cao missing or not YYYY-MM ('2025-7')")
    assert report.failed and report.as_dict()["rejected"] == [
        {"package": f"{PROVINCE}/2025-7/v1", "http_status": 400, "reason": rejected.reason}
    ]
    assert any(
        r.levelno == logging.ERROR and "REJECTED" in r.getMessage() and "2025-7" in r.getMessage()
        for r in caplog.records
    )
    with pytest.raises(DeliveryFailed, match="HTTP 400"):
        report.raise_if_failed()
    assert {p.name: p.read_bytes() for p in package.iterdir()} == kept
    assert inbox.inbox == []
    # it waits for a person: the next run does not send it again
    assert deliver_outbox(outbox, settings(inbox)).results == []
    assert pending_deliveries(outbox, include_rejected=True) == [package]


def test_a_damaged_file_is_never_sent_and_the_other_packages_still_go(inbox, warehouse, package, outbox, caplog):
    with (package / "chi_so_766.csv").open("ab") as handle:  # tampered after writing
        handle.write(b"2025-07,000.00.00.H56,x,TINH,,CKMB,1.2,y,1,1,1.0000,1.00,1.00,1\r\n")
    other = publish_month(warehouse, "000.00.11.H56", Month.parse(PERIOD), NOW, outbox).path

    with caplog.at_level(logging.INFO, logger="tthc.province_package.delivery"):
        report = deliver_outbox(outbox, settings(inbox), timeout=10)
    assert [d.package for d in report.damaged] == [package]
    assert "sha256 differs" in report.damaged[0].error
    assert [(r.unit, r.http_status) for r in report.delivered] == [("000.00.11.H56", 201)]
    assert [m["ma_don_vi"] for m in inbox.inbox] == ["000.00.11.H56"]
    assert any(r.levelno == logging.ERROR and "damaged" in r.getMessage() for r in caplog.records)
    with pytest.raises(DeliveryFailed, match="sha256 differs"):
        report.raise_if_failed()
    assert (other / "manifest.json").is_file() and (package / "chi_so_766.csv").is_file()
    # reported again next run until a person looks
    assert [d.package for d in deliver_outbox(outbox, settings(inbox)).damaged] == [package]


def test_a_busy_inbox_503_is_retried_on_the_next_run(inbox, package, outbox):
    inbox.set_faults(FaultConfig(error_envelope=1.0))  # the inbox answers 503 "Hệ thống đang bận"
    busy = deliver_outbox(outbox, settings(inbox), timeout=10)
    [waiting] = busy.retry
    assert (waiting.http_status, waiting.reason) == (503, "Hệ thống đang bận, vui lòng thử lại")
    assert not busy.failed and inbox.inbox == []
    assert pending_deliveries(outbox) == [package]
    with pytest.raises(DeliveryNotAnswered, match="HTTP 503"):  # the task fails, so Airflow retries it
        busy.raise_if_failed()

    inbox.set_faults(None)
    next_run = deliver_outbox(outbox, settings(inbox), timeout=10)
    assert [(r.version, r.http_status) for r in next_run.delivered] == [(1, 201)]
    assert [r["status"] for r in delivery_log(outbox)] == ["retry", "delivered"]
    assert len(inbox.inbox) == 1


def test_without_an_inbox_packages_stay_in_the_outbox(package, outbox, monkeypatch):
    monkeypatch.delenv("PROVINCE_INBOX_URL", raising=False)
    monkeypatch.delenv("PROVINCE_INBOX_TOKEN", raising=False)
    report = deliver_outbox(outbox)
    assert (report.configured, report.results, report.failed) == (False, [], False)
    assert pending_deliveries(outbox) == [package]
