"""A real dbt build and docs with a distinctive key: the key is in no artefact (compiled and run
SQL, manifest, run results, catalog, the static docs, dbt.log, the project's logs, Python's
logs), and applicant_key is HMAC-SHA256(key, trimmed ID number) as Python's hmac computes it."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from datetime import date

import psycopg
import pytest

from tests.conftest import scratch_database
from tests.dbt.records import dossier, load_raw, procedure, unit
from tthc.paths import LOCAL
from tthc.pipeline import dbt
from tthc.privacy import pii_key

pytestmark = pytest.mark.slow

P, X1 = "000.00.00.H98", "000.01.00.H98"
# A token no other text contains, plus what breaks a key rendered into SQL or JSON: a quote,
# a double quote, a backslash, spaces, non-ASCII.
TOKEN = "grepme" + secrets.token_hex(16)
KEY = f'{TOKEN} it\'s a "key" \\ kh\u00f3a'
OTHER_KEY = "another-" + secrets.token_hex(20)
IDS = {"K01": "038090001234", "K02": "  001199005678 ", "K03": None, "K04": "038090001234"}


def _forms(key: str) -> list[bytes]:
    """Every way the key could have been written down: as is, hex, SQL- and JSON-escaped, the token."""
    raw = key.encode()
    return [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        key.replace("'", "''").encode(),
        json.dumps(key)[1:-1].encode(),
        json.dumps(key, ensure_ascii=False)[1:-1].encode(),
        TOKEN.encode(),
        TOKEN.encode().hex().encode(),
    ]


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def built(pg_cluster):
    with scratch_database(pg_cluster, raw_schema=True) as dsn:
        with psycopg.connect(dsn.conninfo()) as conn:
            load_raw(
                conn, "one_stop", "don_vi", [unit(P, "UBND tỉnh Thử", "TINH"), unit(X1, "UBND xã Một", "XA", parent=P)]
            )
            load_raw(conn, "one_stop", "thu_tuc", [procedure("1.000001")])
            load_raw(
                conn,
                "one_stop",
                "ho_so",
                [
                    dossier(
                        code,
                        X1,
                        "2025-06-02 09:00",
                        due="2025-06-10 17:00",
                        ended="2025-06-09 10:00",
                        status=9,
                        SoGiayToChuHoSo=id_number,
                    )
                    for code, id_number in IDS.items()
                ],
            )
        captured = _Captured()
        root = logging.getLogger()
        saved = {k: os.environ.pop(k, None) for k in (pii_key.KEY_ENV, pii_key.KEY_FILE_ENV)}
        os.environ[pii_key.KEY_ENV] = KEY
        root.addHandler(captured)
        # setLevel, not an assignment: it clears the loggers' cached isEnabledFor answers, which an
        # earlier test's INFO line under the default WARNING root left behind
        level = root.level
        root.setLevel(logging.DEBUG)
        target = LOCAL / "dbt" / f"{dsn.dbname}-{dsn.port}"
        try:
            dbt.build_warehouse(dsn, date(2025, 7, 20))
            docs = dbt.generate_docs(dsn)
            yield dsn, target, docs, captured
        finally:
            root.removeHandler(captured)
            root.setLevel(level)
            for k, v in saved.items():
                os.environ.pop(k, None)
                if v is not None:
                    os.environ[k] = v
            shutil.rmtree(target, ignore_errors=True)


def test_the_key_is_in_no_artefact_of_the_build_or_the_docs(built):
    dsn, target, docs, captured = built
    files = [p for p in target.rglob("*") if p.is_file()]
    project_logs = LOCAL / "logs"
    if project_logs.exists():
        files += [p for p in project_logs.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    # the search reads the artefacts that matter (else it proves nothing)
    assert {"manifest.json", "run_results.json", "catalog.json", "static_index.html", "dbt.log"} <= names
    compiled = next(target.glob("warehouse/compiled/**/stg_one_stop__dossiers.sql")).read_text()
    assert "current_setting('tthc.pii_key')" in compiled and "hmac(" in compiled
    assert next(target.glob("warehouse/run/**/stg_one_stop__dossiers.sql")).exists() and docs.exists()
    forms = _forms(KEY)
    leaks = [(str(p), f) for p in files for f in forms if f in p.read_bytes()]
    assert leaks == [], leaks
    logged = "\n".join(captured.lines).encode()
    assert "dbt | " in logged.decode()  # dbt's own output went through Python's logging
    assert [f for f in forms if f in logged] == []


def test_applicant_key_is_the_hmac_of_the_trimmed_id_everywhere(built):
    dsn = built[0]
    key = KEY.encode()
    with psycopg.connect(dsn.conninfo()) as conn:
        staging = dict(conn.execute("select dossier_code, applicant_key from staging.stg_one_stop__dossiers"))
        restricted = {
            code: (k, idn)
            for code, k, idn in conn.execute(
                "select dossier_code, applicant_key, applicant_id_number from restricted.stg_one_stop__dossier_applicants"
            )
        }
        core = dict(conn.execute("select dossier_code, applicant_key from core.fct_dossier"))
    expected = {code: pii_key.applicant_key(key, idn) for code, idn in IDS.items()}
    assert staging == core == expected == {code: k for code, (k, _) in restricted.items()}
    assert expected["K01"] == expected["K04"] != expected["K02"] and expected["K03"] is None
    assert restricted["K02"][1] == "001199005678"


def test_another_key_gives_other_keys(built):
    dsn = built[0]
    os.environ[pii_key.KEY_ENV] = OTHER_KEY
    try:
        dbt.run_dbt(["run", "--select", "stg_one_stop__dossier_applicants", "--full-refresh"], dsn, phase="warehouse")
    finally:
        os.environ[pii_key.KEY_ENV] = KEY
    with psycopg.connect(dsn.conninfo()) as conn:
        keys = dict(conn.execute("select dossier_code, applicant_key from restricted.stg_one_stop__dossier_applicants"))
        old = dict(conn.execute("select dossier_code, applicant_key from staging.stg_one_stop__dossiers"))
    assert keys["K01"] == pii_key.applicant_key(OTHER_KEY.encode(), IDS["K01"]) != old["K01"]
