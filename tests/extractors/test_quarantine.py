"""Bad records never take good ones with them, and the quarantine is a dead-letter queue:
real HTTP, the real client and loader, a real warehouse."""

from datetime import datetime

import psycopg
import pytest

from extractors import contract as C
from extractors.quarantine import list_quarantined, replay
from extractors.raw.schema import ensure_raw_schema
from extractors.records import forget_compiled
from extractors.timefmt import LOCAL
from tests.extractors.contract_sources import extract_all, serve

UPPER = datetime(2024, 6, 1, tzinfo=LOCAL)
INITIAL = datetime(2024, 1, 1, tzinfo=LOCAL)
HO_SO = [("one_stop", "ho_so")]


def dossier(code: str, **over) -> dict:
    base = {
        "MaHoSo": code,
        "MaTTHC": "1.001234",
        "KenhThucHien": 2,
        "LoaiDoiTuong": 1,
        "TrichYeuHoSo": "Đăng ký",
        "ChuHoSo": "Nguyễn Văn A",
        "NgayTiepNhan": "20240502093000",
        "TrangThaiHoSo": 4,
        "NgayCapNhat": "20240502093005",
    }
    return base | over


def raw_payloads(dsn) -> dict:
    with psycopg.connect(dsn.conninfo()) as conn:
        return dict(conn.execute("SELECT record_key, payload FROM raw.one_stop__ho_so").fetchall())


def quarantine_rows(dsn) -> list:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(
            "SELECT record_key, reason, replayed_at, replay_batch_id, attempts, last_reason "
            "FROM raw.quarantine ORDER BY id"
        ).fetchall()


def test_a_nul_in_a_page_loads_the_good_records_and_the_nul_one_as_decided(fresh_db):
    rows = [dossier(f"H-{i}") for i in range(6)]
    rows[1]["TrichYeuHoSo"] = "Đăng\u0000 ký"  # text: NUL removed, record loaded
    rows[2]["ChuHoSo"] = "\ud800Nguyễn"  # text: lone surrogate -> U+FFFD, record loaded
    rows[3]["MaHoSo"] = "H-\u00003"  # key: quarantined, not silently changed
    rows[4]["NgayTiepNhan"] = "2024\u000005"  # a time: quarantined by its check
    with serve({("one_stop", "ho_so"): rows}) as server:
        runs = extract_all(fresh_db, server.url, UPPER, INITIAL, HO_SO, page_size=100)
    run = runs["one_stop__ho_so"]
    assert (run.status, run.pages, run.fetched, run.loaded, run.quarantined) == ("success", 1, 6, 4, 2)
    raw = raw_payloads(fresh_db)
    assert set(raw) == {"H-0", "H-1", "H-2", "H-5"}
    assert raw["H-1"]["TrichYeuHoSo"] == "Đăng ký" and raw["H-2"]["ChuHoSo"] == "\ufffdNguyễn"
    reasons = [(key, why) for key, why, *_ in quarantine_rows(fresh_db)]
    assert reasons == [
        (None, "key field MaHoSo holds a NUL character or a lone surrogate, which PostgreSQL cannot store"),
        ("H-4", "NgayTiepNhan '2024\\x0005' is not a valid time"),
    ]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        texts = [t for (t,) in conn.execute("SELECT raw_text FROM raw.quarantine ORDER BY id")]
    assert '"MaHoSo":"H-\\u00003"' in texts[0]  # the record as received, escaped for a text column


@pytest.fixture
def wider_channels():
    """A contract change: channel 4 becomes a valid KenhThucHien."""
    spec = C.CONTRACTS[("one_stop", "ho_so")]
    old = spec["KenhThucHien"]
    spec["KenhThucHien"] = C.code(1, 2, 3, 4)
    forget_compiled()
    yield
    spec["KenhThucHien"] = old
    forget_compiled()


def test_replay_loads_what_now_passes_as_if_on_time_and_keeps_the_rest_open(fresh_db, request):
    rows = [
        dossier("H-1"),
        dossier("H-2", KenhThucHien=4, NgayCapNhat="20240502100000"),
        dossier("H-3", KenhThucHien=1.0),
        dossier("H-4"),
    ]
    with serve({("one_stop", "ho_so"): rows}) as server:
        extract_all(fresh_db, server.url, UPPER, INITIAL, HO_SO)
    assert set(raw_payloads(fresh_db)) == {"H-1", "H-4"}
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert [q.record_key for q in list_quarantined(conn)] == ["H-2", "H-3"]
        assert [q.reason for q in list_quarantined(conn, "one_stop", "ho_so")] == [
            "unknown code KenhThucHien=4",
            "KenhThucHien is a decimal number, not an integer code",
        ]
        assert list_quarantined(conn, "dvc_portal") == []

    # nothing changed yet: both stay open, tried once more
    [same] = replay(fresh_db.conninfo(), source="one_stop", entity="ho_so")
    assert (same.tried, same.resolved, same.still_failing) == (2, 0, 2)
    assert [r[4] for r in quarantine_rows(fresh_db)] == [2, 2]

    request.getfixturevalue("wider_channels")
    [result] = replay(fresh_db.conninfo(), everything=True)
    assert (result.tried, result.resolved, result.loaded, result.still_failing) == (2, 1, 1, 1)
    raw = raw_payloads(fresh_db)
    assert set(raw) == {"H-1", "H-2", "H-4"} and raw["H-2"]["KenhThucHien"] == 4
    with psycopg.connect(fresh_db.conninfo()) as conn:
        updated, batch, loaded_at = conn.execute(
            "SELECT source_updated_at, batch_id, loaded_at FROM raw.one_stop__ho_so WHERE record_key = 'H-2'"
        ).fetchone()
        run = conn.execute(
            "SELECT run_id, status, fetched, loaded, quarantined FROM meta.extract_runs WHERE batch_id = %s", (batch,)
        ).fetchone()
        first_load = conn.execute(
            "SELECT max(loaded_at) FROM raw.one_stop__ho_so WHERE record_key <> 'H-2'"
        ).fetchone()[0]
    assert updated == datetime(2024, 5, 2, 10, 0, tzinfo=LOCAL)  # its own update time
    assert loaded_at > first_load  # the next incremental build reads it
    assert run == ("replay", "replayed", 2, 1, 1)
    h2, h3 = quarantine_rows(fresh_db)
    assert h2[2] is not None and h2[3] == batch and h2[4] == 3 and h2[5] is None
    assert h3[2] is None and h3[4] == 3 and h3[5] == "KenhThucHien is a decimal number, not an integer code"

    # idempotent: the resolved record is not replayed again, and nothing is added
    with psycopg.connect(fresh_db.conninfo()) as conn:
        before = conn.execute("SELECT count(*) FROM raw.one_stop__ho_so").fetchone()[0]
    [again] = replay(fresh_db.conninfo(), source="one_stop")
    assert (again.tried, again.resolved, again.loaded) == (1, 0, 0)
    assert replay(fresh_db.conninfo(), ids=[1]) == []  # H-2's row is resolved: nothing open to replay
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM raw.one_stop__ho_so").fetchone()[0] == before
        assert [q.record_key for q in list_quarantined(conn, open_only=False)] == ["H-2", "H-3"]
        assert [q.record_key for q in list_quarantined(conn)] == ["H-3"]


def test_replay_needs_a_selection_and_a_known_entity(fresh_db):
    with pytest.raises(ValueError, match="say which"):
        replay(fresh_db.conninfo())
    with pytest.raises(KeyError, match="unknown entity"):
        replay(fresh_db.conninfo(), source="one_stop", entity="nope")


def test_an_existing_quarantine_table_gains_the_dead_letter_columns(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute(
            "CREATE SCHEMA raw; CREATE TABLE raw.quarantine (id bigserial PRIMARY KEY, source text NOT NULL, "
            "entity text NOT NULL, batch_id bigint NOT NULL, record_key text, reason text NOT NULL, "
            "raw_text text NOT NULL, quarantined_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO raw.quarantine (source, entity, batch_id, record_key, reason, raw_text) "
            "VALUES ('one_stop', 'ho_so', 1, 'H-9', 'old reason', 'not json')"
        )
        conn.commit()
        ensure_raw_schema(conn)
        ensure_raw_schema(conn)  # twice: idempotent
        [old] = list_quarantined(conn)
    assert (old.record_key, old.attempts, old.replayed_at, old.replay_batch_id) == ("H-9", 1, None, None)
    [result] = replay(fresh_db.conninfo(), ids=[old.id])
    assert result.still_failing == 1
    assert quarantine_rows(fresh_db)[0][5] == "raw_text is not JSON (quarantined before raw_text was kept as JSON)"


def test_cli_lists_and_replays(fresh_db, monkeypatch, capsys):
    import tthc.warehouse
    from tthc.cli import main

    monkeypatch.setattr(tthc.warehouse, "stage_dsn", lambda stage: fresh_db)
    with serve({("one_stop", "ho_so"): [dossier("H-1", KenhThucHien=True), dossier("H-2")]}) as server:
        extract_all(fresh_db, server.url, UPPER, INITIAL, HO_SO)
    assert main(["quarantine", "list", "--source", "one_stop"]) == 0
    out = capsys.readouterr()
    assert "one_stop/ho_so\tH-1\t" in out.out and "KenhThucHien is a boolean, not an integer code" in out.out
    assert "Nguyễn" not in out.out  # never the record's text
    assert main(["quarantine", "replay"]) == 2
    assert main(["quarantine", "replay", "--all"]) == 1  # still fails under this contract
    assert "1 replayed, 0 now pass" in capsys.readouterr().out
    assert main(["quarantine", "list", "--all"]) == 0
    assert "attempts 2" in capsys.readouterr().out
