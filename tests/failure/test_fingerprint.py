"""The fingerprint sees every change of content and none of load bookkeeping."""
from __future__ import annotations

import psycopg
import pytest

from tests.failure import fingerprint

pytestmark = pytest.mark.slow  # a real PostgreSQL

SCHEMA = """
CREATE SCHEMA core; CREATE SCHEMA marts; CREATE SCHEMA raw;
CREATE TABLE core.fct_thing (code text, amount numeric, at timestamptz, loaded_at timestamptz, batch_id bigint);
INSERT INTO core.fct_thing VALUES ('a', 1.50, '2025-07-01 08:00+07', now(), 1), ('b', 2, NULL, now(), 1);
CREATE TABLE marts.mart_sum AS SELECT sum(amount) AS total FROM core.fct_thing;
CREATE TABLE raw.one_stop__ho_so (record_key text, payload_hash text, loaded_at timestamptz, batch_id bigint);
INSERT INTO raw.one_stop__ho_so VALUES ('H1', 'x', now(), 1);
"""


@pytest.fixture
def db(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute(SCHEMA)
    return fresh_db


def change(db, statement: str) -> list[str]:
    before = fingerprint.take(db.conninfo())
    with psycopg.connect(db.conninfo()) as conn:
        conn.execute(statement)
    return before.diff(fingerprint.take(db.conninfo()))


def test_a_reload_of_the_same_rows_is_the_same_fingerprint(db):
    assert change(db, "UPDATE core.fct_thing SET loaded_at = now() + interval '1 day', batch_id = 9") == []
    assert change(db, "UPDATE raw.one_stop__ho_so SET loaded_at = now() + interval '1 day', batch_id = 9") == []


@pytest.mark.parametrize("statement, where", [
    ("UPDATE core.fct_thing SET amount = 1.5000 WHERE code = 'a'", "core.fct_thing"),   # numeric scale shows
    ("UPDATE core.fct_thing SET at = at + interval '1 second' WHERE code = 'a'", "core.fct_thing"),
    ("INSERT INTO core.fct_thing VALUES ('b', 2, NULL, now(), 2)", "core.fct_thing"),     # a duplicate row
    ("UPDATE marts.mart_sum SET total = total + 1", "marts.mart_sum"),
    ("CREATE TABLE marts.mart_new (x int)", "marts.mart_new"),
    ("INSERT INTO raw.one_stop__ho_so VALUES ('H1', 'y', now(), 2)", "raw.one_stop__ho_so"),
])
def test_any_change_of_content_is_named(db, statement, where):
    differences = change(db, statement)
    assert len(differences) == 1 and differences[0].startswith(where), differences


def test_packages_compare_by_bytes_and_ignore_unfinished_writes(tmp_path):
    version = tmp_path / "000.00.00.H56" / "2025-07" / "v1"
    version.mkdir(parents=True)
    (version / "chi_so_766.csv").write_bytes(b"\xef\xbb\xbfa,b\r\n")
    (version.parent / ".lock").touch()
    litter = version.parent / ".v2.tmp-abc"
    litter.mkdir()
    (litter / "chi_so_766.csv").write_bytes(b"partial")
    first = fingerprint.package_files(tmp_path)
    assert list(first) == ["000.00.00.H56/2025-07/v1/chi_so_766.csv"]
    assert fingerprint.litter(tmp_path) == [litter]

    (version / "chi_so_766.csv").write_bytes(b"\xef\xbb\xbfa,c\r\n")
    a, b = fingerprint.Fingerprint(packages=first), fingerprint.Fingerprint(packages=fingerprint.package_files(tmp_path))
    assert a.diff(b) == ["outbox/000.00.00.H56/2025-07/v1/chi_so_766.csv: bytes differ"]
