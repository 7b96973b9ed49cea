"""`tthc ingest --from --to`: a backfill of one window is one command, and it leaves the
nightly position (the watermark) where a later window would put it, never behind."""

from datetime import date, datetime

import psycopg
import pytest

from extractors.portal_scores import periods_around, province_roots
from extractors.timefmt import LOCAL, parse_local
from simulator import SimulatorServer, World, WorldConfig
from tthc.cli import main

pytestmark = pytest.mark.slow

CLOCK = datetime(2025, 4, 1, 1, tzinfo=LOCAL)


def test_backfill_of_one_window(fresh_db, monkeypatch):
    world = World(WorldConfig(seed=5, dossiers_per_year=600, start=date(2025, 1, 1), end=date(2025, 6, 30)))
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        monkeypatch.setenv("WAREHOUSE_DSN", fresh_db.url())
        monkeypatch.setenv("ONE_STOP_BASE_URL", server.url)
        monkeypatch.setenv("ONE_STOP_CLIENT_ID", "tthc-demo")
        monkeypatch.setenv("ONE_STOP_CLIENT_SECRET", "demo-secret")
        assert (
            main(
                [
                    "ingest",
                    "one_stop",
                    "--entity",
                    "ho_so",
                    "--from",
                    "2025-02-01T00:00:00+07:00",
                    "--to",
                    "2025-03-01T00:00:00+07:00",
                ]
            )
            == 0
        )
    finally:
        server.stop()
    lo, hi = datetime(2025, 2, 1, tzinfo=LOCAL), datetime(2025, 3, 1, tzinfo=LOCAL)
    expected = {
        r["MaHoSo"].strip()
        for r in world.records("one_stop", "ho_so", CLOCK)
        if lo <= parse_local(r["NgayCapNhat"]) < hi
    }
    with psycopg.connect(fresh_db.conninfo()) as conn:
        stored = {r[0] for r in conn.execute("select record_key from raw.one_stop__ho_so")}
        mark = conn.execute("select high_watermark from meta.watermarks where entity = 'ho_so'").fetchone()[0]
    assert expected and stored == expected
    assert mark == hi


def test_ingest_of_the_whole_portal_fetches_its_official_scores_as_the_dag_does(fresh_db, monkeypatch, capsys):
    world = World(WorldConfig(seed=5, dossiers_per_year=300, start=date(2025, 1, 1), end=date(2025, 6, 30)))
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        monkeypatch.setenv("WAREHOUSE_DSN", fresh_db.url())
        for name, value in {
            "ONE_STOP_BASE_URL": server.url,
            "ONE_STOP_CLIENT_ID": "tthc-demo",
            "ONE_STOP_CLIENT_SECRET": "demo-secret",
            "DVC_PORTAL_BASE_URL": server.url,
            "DVC_PORTAL_API_KEY": "demo-api-key",
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["ingest", "one_stop", "--entity", "don_vi", "--upper", CLOCK.isoformat()]) == 0
        assert main(["ingest", "dvc_portal", "--entity", "payments", "--upper", CLOCK.isoformat()]) == 0
        with psycopg.connect(fresh_db.conninfo()) as conn:  # one entity named: only that entity
            assert conn.execute("select count(*) from raw.dvc_portal__service_results").fetchone()[0] == 0
        assert main(["ingest", "dvc_portal", "--upper", CLOCK.isoformat()]) == 0
    finally:
        server.stop()
    assert "official scores:" in capsys.readouterr().out
    with psycopg.connect(fresh_db.conninfo()) as conn:
        keys = {k for (k,) in conn.execute("select record_key from raw.dvc_portal__service_results")}
    roots = province_roots(fresh_db.conninfo(), CLOCK.date())
    assert len(roots) == 1
    assert keys == {f"{roots[0]}|{p.key_part}" for p in periods_around(CLOCK.date())}
