"""Fixtures for the simulator's tests: small worlds (built once per worker) and live servers."""

from __future__ import annotations

import socket
from datetime import date, datetime

import pytest
import requests

from simulator import SimulatorServer, World, WorldConfig
from simulator.timefmt import VN

SMALL = WorldConfig(seed=11, dossiers_per_year=3000, start=date(2024, 1, 1), end=date(2025, 12, 31))
FAR_FUTURE = datetime(2026, 12, 31, tzinfo=VN)
# A province with no dossiers: for tests that use only the simulator's province inbox or mail.
EMPTY_PROVINCE = WorldConfig(
    seed=5,
    dossiers_per_year=0,
    start=date(2025, 1, 1),
    end=date(2025, 12, 31),
    departments=1,
    districts=1,
    communes_per_district=1,
    procedures=30,
)


@pytest.fixture(scope="session")
def world() -> World:
    return World(SMALL)


@pytest.fixture
def server(world):
    srv = SimulatorServer(world, port=0, clock=datetime(2024, 9, 1, tzinfo=VN))
    srv.start()
    yield srv
    srv.stop()


def token(url: str, client_id: str = "tthc-demo", secret: str = "demo-secret") -> str:
    r = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["access_token"]


def fetch_all(session: requests.Session, url: str, path: str, tok: str, page_size: int = 500, **params) -> list[dict]:
    """Page through an endpoint (no fault handling): every row of every page, in order."""
    rows, page = [], 1
    while True:
        r = session.get(
            f"{url}{path}",
            params={**params, "page": page, "page_size": page_size},
            headers={"Authorization": f"Bearer {tok}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["error_code"] == "0"
        rows += body["data"]
        if page >= body["pagination"]["total_pages"]:
            return rows
        page += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
