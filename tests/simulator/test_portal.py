"""The DVC portal contract over real HTTP: X-API-Key, envelope, paging, ISO windows, data shape."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
import requests

from simulator.timefmt import VN
from tests.simulator.conftest import FAR_FUTURE

pytestmark = pytest.mark.slow
PATHS = {
    "payments": ("/api/v1/payments", ("transactionId",)),
    "sync_status": ("/api/v1/sync-status", ("dossierCode",)),
    "feedback": ("/api/v1/feedback", ("feedbackId",)),
    "ratings": ("/api/v1/ratings", ("ratingId",)),
    "online_services": ("/api/v1/online-services", ("departmentCode", "procedureCode", "validFrom")),
}
KEY = {"X-API-Key": "demo-api-key"}


def fetch(server, path, page_size=200, **params):
    rows, page = [], 1
    while True:
        r = requests.get(
            f"{server.url}{path}",
            params={**params, "currentPage": page, "pageSize": page_size},
            headers=KEY,
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["code"] == "OK"
        rows += body["data"]
        if page >= body["pagination"]["totalPages"]:
            return rows
        page += 1


def test_api_key(server):
    for headers in ({}, {"X-API-Key": "wrong"}):
        r = requests.get(f"{server.url}/api/v1/payments", headers=headers, timeout=10)
        assert r.status_code == 403 and r.json()["code"] != "OK"


@pytest.mark.parametrize("entity", list(PATHS))
def test_paging_complete(world, server, entity):
    clock = datetime(2025, 10, 1, tzinfo=VN)
    server.set_clock(clock)
    path, key = PATHS[entity]
    rows = fetch(server, path, page_size=173)
    truth = world.records("dvc_portal", entity, clock)
    k = lambda r: tuple(r[f] for f in key)  # noqa: E731
    assert truth and sorted(rows, key=k) == truth
    assert rows == sorted(rows, key=lambda r: (r["updatedAt"], k(r)))
    body = requests.get(f"{server.url}{path}", headers=KEY, timeout=10).json()
    assert body["pagination"]["pageSize"] == 200 and body["pagination"]["totalItems"] == len(truth)


def test_window_on_updated_at(world, server):
    clock = datetime(2025, 10, 1, tzinfo=VN)
    server.set_clock(clock)
    lo, hi = "2025-03-01T00:00:00+07:00", "2025-04-01T00:00:00+07:00"
    got = fetch(server, "/api/v1/payments", fromDate=lo, toDate=hi)
    want = [r for r in world.records("dvc_portal", "payments", clock) if lo <= r["updatedAt"] < hi]
    assert got and sorted(got, key=lambda r: r["transactionId"]) == want


@pytest.mark.parametrize(
    "params",
    [
        {"currentPage": "0"},
        {"pageSize": "501"},
        {"fromDate": "20240101000000"},
        {"fromDate": "2024-02-01T00:00:00+07:00", "toDate": "2024-01-01T00:00:00+07:00"},
    ],
)
def test_bad_parameters(server, params):
    r = requests.get(f"{server.url}/api/v1/payments", params=params, headers=KEY, timeout=10)
    assert r.status_code == 400 and r.json()["code"] != "OK"


def test_portal_data_covers_the_contract(world):
    pays = world.records("dvc_portal", "payments", FAR_FUTURE)
    assert {p["status"] for p in pays} >= {"SUCCESS", "FAILED", "REFUNDED", "CANCELLED"}
    assert all(p["paidAt"] for p in pays if p["status"] in ("SUCCESS", "REFUNDED"))
    assert all(p["updatedAt"].endswith("+07:00") for p in pays)
    by_dossier = Counter(p["dossierCode"] for p in pays)
    assert max(by_dossier.values()) >= 2, "retries: several transactions for one dossier"
    sync = world.records("dvc_portal", "sync_status", FAR_FUTURE)
    assert {s["syncResult"] for s in sync} == {"SUCCESS", "ERROR"}
    dossiers = {d["MaHoSo"]: d for d in world.records("one_stop", "ho_so", FAR_FUTURE)}
    remapped = [
        s
        for s in sync
        if s["syncResult"] == "SUCCESS"
        and s["portalStatus"] == 9
        and dossiers[s["dossierCode"]]["TrangThaiHoSo"] in (5, 6, 8)
    ]
    assert remapped, "some units map 5/6/8 to 9 when they sync"
    fb = world.records("dvc_portal", "feedback", FAR_FUTURE)
    assert {f["channel"] for f in fb} >= {"PORTAL", "HOTLINE_1022"}
    assert any(f["handledAt"] and f["handledAt"] > f["dueAt"] for f in fb)
    assert any(f["dislikes"] > f["likes"] for f in fb)
    ratings = world.records("dvc_portal", "ratings", FAR_FUTURE)
    assert {r["level"] for r in ratings} == {1, 2, 3}
    services = world.records("dvc_portal", "online_services", FAR_FUTURE)
    assert {s["level"] for s in services} == {"FULL", "PARTIAL"}
    assert {s["publishedOnPortal"] for s in services} == {True, False}
    assert {s["paymentIntegrated"] for s in services} == {True, False}
