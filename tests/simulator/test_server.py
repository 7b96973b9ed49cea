"""The one-stop contract over real HTTP: auth, envelope, paging, parameters, admin, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from simulator import SimulatorServer
from simulator.timefmt import VN
from tests.simulator.conftest import fetch_all, free_port, token

pytestmark = pytest.mark.slow

PATHS = {
    "don_vi": "/api/v1/don-vi",
    "thu_tuc": "/api/v1/thu-tuc",
    "thu_tuc_don_vi": "/api/v1/thu-tuc-don-vi",
    "ho_so": "/api/v1/ho-so",
    "qua_trinh_xu_ly": "/api/v1/qua-trinh-xu-ly",
}


def test_token_and_envelope(server):
    r = requests.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "tthc-demo", "client_secret": "demo-secret"},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    r = requests.get(
        f"{server.url}/api/v1/don-vi", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    env = r.json()
    assert r.status_code == 200 and env["error_code"] == "0" and env["message"] == "OK"
    assert env["pagination"] == {"page": 1, "page_size": 500, "total_pages": 1, "total": len(env["data"])}
    assert r.headers["Content-Type"].startswith("application/json")


def test_bad_credentials_and_tokens(server):
    url = server.url
    bad = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "tthc-demo", "client_secret": "wrong"},
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    grant = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "password", "client_id": "tthc-demo", "client_secret": "demo-secret"},
        timeout=10,
    )
    assert grant.status_code == 400
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        r = requests.get(f"{url}/api/v1/ho-so", headers=headers, timeout=10)
        assert r.status_code == 401 and r.json()["error_code"] != "0"


def test_expired_token_gets_401(world):
    with SimulatorServer(world, port=0, clock=datetime(2024, 6, 1, tzinfo=VN), token_ttl=0.3) as srv:
        tok = token(srv.url)
        h = {"Authorization": f"Bearer {tok}"}
        assert requests.get(f"{srv.url}/api/v1/don-vi", headers=h, timeout=10).status_code == 200
        time.sleep(0.4)
        assert requests.get(f"{srv.url}/api/v1/don-vi", headers=h, timeout=10).status_code == 401
        fresh = {"Authorization": f"Bearer {token(srv.url)}"}
        assert requests.get(f"{srv.url}/api/v1/don-vi", headers=fresh, timeout=10).status_code == 200


def test_custom_credentials(world):
    with SimulatorServer(world, port=0, client_id="x", client_secret="y") as srv:
        assert token(srv.url, "x", "y")
        with pytest.raises(requests.HTTPError):
            token(srv.url)


@pytest.mark.parametrize("entity", list(PATHS))
def test_paging_is_complete_without_faults(world, server, entity):
    clock = datetime(2025, 9, 15, 12, tzinfo=VN)
    server.set_clock(clock)
    truth = world.records("one_stop", entity, clock)
    with requests.Session() as s:
        rows = fetch_all(
            s, server.url, PATHS[entity], token(server.url), page_size=997 if entity == "thu_tuc_don_vi" else 137
        )
    keyf = {
        "don_vi": ("MaDinhDanh",),
        "thu_tuc": ("MaTTHC",),
        "thu_tuc_don_vi": ("MaDinhDanh", "MaTTHC", "HieuLucTu"),
        "ho_so": ("MaHoSo",),
        "qua_trinh_xu_ly": ("MaHoSo", "STT"),
    }[entity]
    k = lambda r: tuple(r[f] for f in keyf)  # noqa: E731
    assert len(rows) == len(truth) == len({k(r) for r in rows})
    assert sorted(rows, key=k) == truth
    assert rows == sorted(rows, key=lambda r: (r["NgayCapNhat"], k(r))), "ordered by (NgayCapNhat, key)"


def test_page_beyond_the_end_is_empty(server):
    h = {"Authorization": f"Bearer {token(server.url)}"}
    body = requests.get(f"{server.url}/api/v1/don-vi", params={"page": 99}, headers=h, timeout=10).json()
    assert body["error_code"] == "0" and body["data"] == [] and body["pagination"]["total"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page_size": "0"},
        {"page_size": "1001"},
        {"tu_ngay": "2024-01-01"},
        {"den_ngay": "20241301000000"},
        {"tu_ngay": "20240201000000", "den_ngay": "20240101000000"},
    ],
)
def test_out_of_range_parameters_get_400(server, params):
    h = {"Authorization": f"Bearer {token(server.url)}"}
    r = requests.get(f"{server.url}/api/v1/ho-so", params=params, headers=h, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] != "0" and body["message"]


def test_unknown_endpoint_and_method(server):
    h = {"Authorization": f"Bearer {token(server.url)}"}
    assert requests.get(f"{server.url}/api/v1/nothing", headers=h, timeout=10).status_code == 404
    assert requests.post(f"{server.url}/api/v1/ho-so", headers=h, timeout=10).status_code == 405


def test_admin_endpoints(server):
    url = server.url
    health = requests.get(f"{url}/_sim/health", timeout=10).json()
    assert health["status"] == "ok" and health["as_of"] == "2024-09-01T00:00:00+07:00"
    r = requests.post(f"{url}/_sim/clock", json={"as_of": "2025-01-02T03:04:05+07:00"}, timeout=10)
    assert r.json() == {"as_of": "2025-01-02T03:04:05+07:00"}
    assert requests.get(f"{url}/_sim/clock", timeout=10).json() == {"as_of": "2025-01-02T03:04:05+07:00"}
    assert requests.post(f"{url}/_sim/clock", json={"as_of": "yesterday"}, timeout=10).status_code == 400
    r = requests.post(f"{url}/_sim/faults", json={"rate_limit": 0.5, "seed": 3}, timeout=10)
    assert r.status_code == 200 and server.faults.rate_limit == 0.5 and server.faults.seed == 3
    assert requests.post(f"{url}/_sim/faults", json={"nonsense": 1}, timeout=10).status_code == 400
    assert requests.post(f"{url}/_sim/faults", json={"drop": 2}, timeout=10).status_code == 400
    assert requests.post(f"{url}/_sim/faults", json={}, timeout=10).json()["rate_limit"] == 0.0
    stats = requests.get(f"{url}/_sim/stats", timeout=10).json()
    assert stats["requests"] >= 7 and stats["by_path"]["/_sim/faults"] == 4


def test_server_stats_count_requests(server):
    before = server.stats.requests
    h = {"Authorization": f"Bearer {token(server.url)}"}
    requests.get(f"{server.url}/api/v1/don-vi", headers=h, timeout=10)
    assert server.stats.requests == before + 2 and server.stats.pages >= 1


def _start_cli(*args: str) -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).with_name("tthc-simulator")
    proc = subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("http://"):
            return proc, line.strip()
        if not line and proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
    proc.kill()
    raise AssertionError("simulator did not start")


def test_cli_serve_until_sigterm():
    port = free_port()
    proc, url = _start_cli(
        "serve",
        "--port",
        str(port),
        "--seed",
        "3",
        "--dossiers-per-year",
        "300",
        "--as-of",
        "2024-06-01T00:00:00+07:00",
        "--faults",
        '{"rate_limit": 0.0}',
    )
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/_sim/health", timeout=10).json()["as_of"] == "2024-06-01T00:00:00+07:00"
        tok = token(url)
        r = requests.get(f"{url}/api/v1/ho-so", headers={"Authorization": f"Bearer {tok}"}, timeout=10)
        assert r.json()["pagination"]["total"] > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_cli_truth_writes_every_entity(tmp_path, world):
    exe = Path(sys.executable).with_name("tthc-simulator")
    out = subprocess.run(
        [
            str(exe),
            "truth",
            "--seed",
            "11",
            "--dossiers-per-year",
            "3000",
            "--start",
            "2024-01-01",
            "--end",
            "2025-12-31",
            "--as-of",
            "2025-01-01T00:00:00+07:00",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (tmp_path / "one_stop__ho_so.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == world.records("one_stop", "ho_so", datetime(2025, 1, 1, tzinfo=VN))
    assert summary["counts"]["one_stop__ho_so"] == len(rows)
    for name in ("don_vi", "thu_tuc", "thu_tuc_don_vi", "qua_trinh_xu_ly"):
        assert (tmp_path / f"one_stop__{name}.jsonl").stat().st_size > 0


def test_cli_rejects_bad_configuration():
    exe = Path(sys.executable).with_name("tthc-simulator")
    out = subprocess.run(
        [str(exe), "serve", "--start", "2025-01-01", "--end", "2024-01-01"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "before start" in out.stderr
