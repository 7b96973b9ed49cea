"""Each fault kind is observable, reproducible, and known to the ground truth."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

import pytest
import requests

from simulator import FaultConfig, SimulatorServer
from simulator.faults import record_fault
from simulator.timefmt import VN
from tests.simulator.conftest import token

pytestmark = pytest.mark.slow
CLOCK = datetime(2025, 1, 15, 12, tzinfo=VN)


def serve(world, **faults) -> SimulatorServer:
    return SimulatorServer(world, port=0, clock=CLOCK, faults=FaultConfig(**faults)).start()


def get(srv, tok, path="/api/v1/don-vi", **params):
    return requests.get(f"{srv.url}{path}", params=params, headers={"Authorization": f"Bearer {tok}"}, timeout=30)


def statuses(srv, n=40, path="/api/v1/don-vi"):
    tok = token(srv.url)
    out = []
    for _ in range(n):
        try:
            out.append(get(srv, tok, path).status_code)
        except requests.ConnectionError:
            out.append("dropped")
    return out


def test_rate_limit_with_retry_after(world):
    srv = serve(world, rate_limit=0.5, retry_after=7, seed=1)
    try:
        tok = token(srv.url)
        seen = [get(srv, tok) for _ in range(30)]
        limited = [r for r in seen if r.status_code == 429]
        assert 5 <= len(limited) <= 25
        assert all(r.headers["Retry-After"] == "7" and r.json()["error_code"] != "0" for r in limited)
        assert srv.stats.faults["rate_limit"] == len(limited)
    finally:
        srv.stop()


def test_server_errors_and_error_envelopes(world):
    srv = serve(world, server_error=0.4, error_envelope=0.3, seed=2)
    try:
        codes = Counter(statuses(srv, 80))
        assert codes[502] and codes[503] and codes[504] and codes[200]
        tok = token(srv.url)
        bodies = [get(srv, tok).json() for _ in range(60)]
        busy = [
            b for b in bodies if b.get("error_code") not in ("0", None) and b.get("message") and b.get("data") is None
        ]
        assert busy, "some HTTP 200 answers carry an error_code other than 0"
    finally:
        srv.stop()


def test_faults_are_reproducible_for_a_seed(world):
    runs = []
    for _ in range(2):
        srv = serve(world, server_error=0.3, rate_limit=0.2, drop=0.1, seed=42)
        try:
            runs.append(statuses(srv, 30))
        finally:
            srv.stop()
    assert runs[0] == runs[1] and len(set(runs[0])) >= 3


def test_dropped_connections(world):
    srv = serve(world, drop=0.5, seed=3)
    try:
        result = Counter(statuses(srv, 30))
        assert result["dropped"] >= 5 and result[200] >= 5
        assert srv.stats.faults["drop"] == result["dropped"]
    finally:
        srv.stop()


def test_slow_pages(world):
    srv = serve(world, slow=1.0, slow_seconds=0.3)
    try:
        tok = token(srv.url)
        started = time.monotonic()
        assert get(srv, tok).status_code == 200
        assert time.monotonic() - started >= 0.3
        assert srv.stats.faults["slow"] == 1
    finally:
        srv.stop()


def test_tokens_revoked_mid_run(world):
    srv = serve(world, revoke_tokens_every=3)
    try:
        tok = token(srv.url)
        codes = [get(srv, tok).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 401]
        tok = token(srv.url)
        assert get(srv, tok).status_code == 200
    finally:
        srv.stop()


def test_a_storm_of_server_errors_then_recovery(world):
    srv = serve(world, storm_requests=5, seed=4, paths=("/api/v1/don-vi",))
    try:
        tok = token(srv.url)
        assert get(srv, tok, "/api/v1/thu-tuc").status_code == 200  # out of scope: not counted
        codes = [get(srv, tok).status_code for _ in range(7)]
        assert all(c in (502, 503, 504) for c in codes[:5]) and codes[5:] == [200, 200], codes
        assert sum(srv.stats.faults[f"http_{c}"] for c in (502, 503, 504)) == 5
        srv.set_faults(FaultConfig(storm_requests=2))  # a new storm counts from zero
        assert [get(srv, tok).status_code in (502, 503, 504) for _ in range(3)] == [True, True, False]
    finally:
        srv.stop()


def test_revoked_credentials_refuse_tokens_and_the_api_key(world):
    srv = serve(world)
    try:
        tok = token(srv.url)
        assert get(srv, tok).status_code == 200
        srv.set_faults(FaultConfig(credentials_revoked=True))
        assert get(srv, tok).status_code == 401  # the token in hand is dead
        answer = requests.post(
            f"{srv.url}/oauth/token",
            timeout=10,
            data={"grant_type": "client_credentials", "client_id": "tthc-demo", "client_secret": "demo-secret"},
        )
        assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
        portal = requests.get(f"{srv.url}/api/v1/payments", headers={"X-API-Key": "demo-api-key"}, timeout=10)
        assert portal.status_code == 403 and "revoked" in portal.json()["message"]
        srv.set_faults(None)  # fixed: the same credentials work again
        assert get(srv, token(srv.url)).status_code == 200
        assert (
            requests.get(f"{srv.url}/api/v1/payments", headers={"X-API-Key": "demo-api-key"}, timeout=10).status_code
            == 200
        )
    finally:
        srv.stop()


def test_faults_scoped_to_paths(world):
    srv = serve(world, server_error=1.0, paths=("/api/v1/ho-so",))
    try:
        tok = token(srv.url)
        assert get(srv, tok, "/api/v1/don-vi").status_code == 200
        assert get(srv, tok, "/api/v1/ho-so").status_code in (502, 503, 504)
    finally:
        srv.stop()


def page_through(srv, path, page_size, **params):
    tok = token(srv.url)
    rows, page = [], 1
    while True:
        body = get(srv, tok, path, page=page, page_size=page_size, **params).json()
        rows += body["data"]
        if page >= body["pagination"]["total_pages"]:
            return rows
        page += 1


def test_rows_repeated_across_pages(world):
    srv = serve(world, repeat_rows=0.5, repeat_count=4, seed=5)
    try:
        rows = page_through(srv, "/api/v1/ho-so", 100)
        keys = [r["MaHoSo"] for r in rows]
        truth = {r["MaHoSo"] for r in world.records("one_stop", "ho_so", CLOCK)}
        assert len(keys) > len(set(keys)), "some rows come twice"
        assert set(keys) == truth, "nothing is lost"
        assert srv.stats.faults["repeat_rows"] >= 1
    finally:
        srv.stop()


def test_rows_move_between_pages_while_paging(world):
    srv = serve(world, advance_per_page=6 * 3600)
    try:
        upper = CLOCK.strftime("%Y%m%d%H%M%S")
        rows = page_through(srv, "/api/v1/ho-so", 200, tu_ngay="20240101000000", den_ngay=upper)
        start_truth = {r["MaHoSo"] for r in world.records("one_stop", "ho_so", CLOCK)}
        end_truth = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", srv.clock)}
        assert srv.clock > CLOCK
        got = [r["MaHoSo"] for r in rows]
        missed = start_truth - set(got)
        assert missed, "records updated while paging left the bounded window"
        # each missed record has a newer version beyond the pass's upper bound
        assert all(end_truth[k]["NgayCapNhat"] >= upper for k in missed)
        # and a second pass over the lookback window picks them up
        later = page_through(srv, "/api/v1/ho-so", 1000, tu_ngay=upper, den_ngay=srv.clock.strftime("%Y%m%d%H%M%S"))
        assert missed <= {r["MaHoSo"] for r in later}
    finally:
        srv.stop()


def test_record_faults_are_deterministic_and_known(world):
    faults = FaultConfig(seed=9, malformed=0.05, empty_dates=0.3, padded_codes=0.2)
    srv = SimulatorServer(world, port=0, clock=CLOCK, faults=faults).start()
    try:
        rows = page_through(srv, "/api/v1/ho-so", 1000)
        truth = world.records("one_stop", "ho_so", CLOCK, faults=faults)
        assert sorted(map(repr, rows)) == sorted(map(repr, truth)), "served exactly as the ground truth says"
        clean = {r["MaHoSo"]: r for r in world.records("one_stop", "ho_so", CLOCK)}
        malformed = world.malformed_keys("one_stop", "ho_so", CLOCK, faults)
        kinds = Counter(malformed.values())
        assert set(kinds) == {"bad_date", "unknown_code", "missing_key"}
        served_missing_key = [r for r in rows if "MaHoSo" not in r]
        assert len(served_missing_key) == kinds["missing_key"]
        by_key = {r["MaHoSo"].strip(): r for r in rows if "MaHoSo" in r}
        for (code,), kind in malformed.items():
            if kind == "bad_date":
                assert by_key[code]["NgayTiepNhan"] in ("2024-13-45", "20241399250000")
            elif kind == "unknown_code":
                assert by_key[code]["TrangThaiHoSo"] == 42
        empties = padded = 0
        for code, clean_row in clean.items():
            fault = record_fault(faults, "ho_so", (code,))
            if fault is None:
                assert by_key[code] == clean_row
            elif fault == "empty_dates":
                row = by_key[code]
                assert all(row[k] == "" for k, v in clean_row.items() if k.startswith("Ngay") and v is None)
                empties += any(v is None for k, v in clean_row.items() if k.startswith("Ngay"))
            elif fault == "padded_codes":
                row = by_key[code]
                assert row["MaTTHC"] != clean_row["MaTTHC"] and row["MaTTHC"].strip() == clean_row["MaTTHC"]
                assert row["MaDinhDanhDonVi"].strip() == clean_row["MaDinhDanhDonVi"]
                padded += 1
        assert empties and padded
        assert world.malformed_keys("one_stop", "ho_so", CLOCK, faults) == malformed, "same every time"
    finally:
        srv.stop()


def test_record_faults_scoped_to_entities(world):
    faults = FaultConfig(malformed=1.0, entities=("thu_tuc",))
    assert world.malformed_keys("one_stop", "ho_so", CLOCK, faults) == {}
    assert len(world.malformed_keys("one_stop", "thu_tuc", CLOCK, faults)) == len(
        world.records("one_stop", "thu_tuc", CLOCK)
    )


def test_fault_config_validation():
    with pytest.raises(ValueError):
        FaultConfig(rate_limit=1.5)
    with pytest.raises(ValueError):
        FaultConfig(malformed=0.6, padded_codes=0.6)
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"rate": 0.1})
    with pytest.raises(ValueError):
        FaultConfig(storm_requests=-1)
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"credentials_revoked": "yes"})
