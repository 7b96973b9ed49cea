"""Delivery to a real HTTP inbox: statuses, the attempt log, and what is left to send."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest

from tests.tthc.province_package.inbox import Inbox
from tests.tthc.province_package.sample import NOW, PERIOD, PROVINCE, all_tables, chi_so_rows, write
from tthc.province_package import PackageError, deliver_package, delivery_log, pending_deliveries

TOKEN = "thu-nghiem-7f3a"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_201_delivers_the_manifest_and_every_file_as_multipart(outbox):
    package = write(outbox).path
    with Inbox() as inbox:
        result = deliver_package(package, inbox.url + "/", TOKEN, timeout=5)
    assert (result.status, result.http_status, result.ok) == ("delivered", 201, True)
    assert (result.unit, result.period, result.version) == (PROVINCE, PERIOD, 1)
    [got] = inbox.received
    assert got.path == "/api/v1/extracts"
    assert got.authorization == f"Bearer {TOKEN}"
    assert list(got.fields) == ["manifest", *all_tables(), "bao_cao.xlsx"]
    for name, (filename, data) in got.fields.items():
        local = "manifest.json" if name == "manifest" else name
        assert filename == local and data == (package / local).read_bytes()
    [logged] = delivery_log(outbox)
    assert logged["status"] == "delivered" and logged["http_status"] == 201 and logged["version"] == 1
    assert TOKEN not in (outbox / "deliveries.jsonl").read_text(encoding="utf-8")
    assert pending_deliveries(outbox) == []


def test_409_means_the_inbox_already_has_it(outbox):
    package = write(outbox).path
    with Inbox(script=[(409, {"reason": "đã nhận phiên bản này"}, 0)]) as inbox:
        result = deliver_package(package, inbox.url, TOKEN, timeout=5)
    assert (result.status, result.http_status, result.ok) == ("already_received", 409, True)
    assert pending_deliveries(outbox) == []


def test_400_is_a_rejection_with_the_inbox_reason_and_the_package_stays(outbox):
    package = write(outbox).path
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    with Inbox(script=[(400, {"reason": "chi_so_766.csv: thiếu chỉ số 4.7"}, 0)]) as inbox:
        result = deliver_package(package, inbox.url, TOKEN, timeout=5)
    assert (result.status, result.http_status, result.ok) == ("rejected", 400, False)
    assert result.reason == "chi_so_766.csv: thiếu chỉ số 4.7"
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before
    assert delivery_log(outbox)[-1]["reason"] == "chi_so_766.csv: thiếu chỉ số 4.7"
    assert pending_deliveries(outbox) == []  # waits for a person
    assert pending_deliveries(outbox, include_rejected=True) == [package]


def test_plain_text_reason_is_kept(outbox):
    package = write(outbox).path
    with Inbox(script=[(401, b"token het han", 0)]) as inbox:
        result = deliver_package(package, inbox.url, TOKEN, timeout=5)
    assert (result.status, result.reason) == ("rejected", "token het han")


def test_503_timeout_and_refused_connection_are_retried_later(outbox):
    package = write(outbox).path
    with Inbox(script=[(503, {"error": "bảo trì hệ thống"}, 0), (201, {}, 1.5)]) as inbox:
        busy = deliver_package(package, inbox.url, TOKEN, timeout=5)
        slow = deliver_package(package, inbox.url, TOKEN, timeout=0.3)
    refused = deliver_package(package, f"http://127.0.0.1:{closed_port()}", TOKEN, timeout=2)
    assert (busy.status, busy.http_status, busy.reason) == ("retry", 503, "bảo trì hệ thống")
    assert (slow.status, slow.http_status) == ("retry", None) and "0.3" in slow.reason
    assert (refused.status, refused.http_status) == ("retry", None) and "ConnectionError" in refused.reason
    assert [r["status"] for r in delivery_log(outbox)] == ["retry", "retry", "retry"]
    assert pending_deliveries(outbox) == [package]


def test_a_later_run_delivers_what_is_pending_oldest_version_first(outbox):
    v1 = write(outbox).path
    tables = all_tables()
    tables["chi_so_766.csv"] = chi_so_rows()[:-1]
    v2 = write(outbox, tables=tables, now=NOW + timedelta(days=1)).path
    other = write(
        outbox,
        unit_code="000.17.22.H56",
        tables={
            "chi_so_766.csv": [dict(r, ma_don_vi="000.17.22.H56") for r in chi_so_rows() if r["ma_don_vi"] == PROVINCE]
        },
    ).path
    assert pending_deliveries(outbox) == [v1, v2, other]
    with Inbox(script=[(502, b"", 0)]) as inbox:
        first_round = [deliver_package(p, inbox.url, TOKEN, timeout=5) for p in pending_deliveries(outbox)]
        assert [r.status for r in first_round] == ["retry", "delivered", "delivered"]
        assert pending_deliveries(outbox) == [v1]
        second_round = [deliver_package(p, inbox.url, TOKEN, timeout=5) for p in pending_deliveries(outbox)]
    assert [(r.version, r.status) for r in second_round] == [(1, "delivered")]
    assert pending_deliveries(outbox) == []
    lines = (outbox / "deliveries.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(json.loads(line)["at"].endswith("+07:00") for line in lines)


def test_a_damaged_package_is_not_sent(outbox):
    package = write(outbox).path
    (package / "chi_so_766.csv").write_bytes(b"\xef\xbb\xbfsai\r\n")
    with Inbox() as inbox:
        with pytest.raises(PackageError, match="sha256 differs"):
            deliver_package(package, inbox.url, TOKEN, timeout=5)
    assert inbox.received == []
