"""A fuzzer on the contracts: bad records of every field kind, mixed among a simulated province's
good records, through the real clients over real HTTP and the real loader into a real warehouse,
then a real dbt build of staging, intermediate, core and the indicator marts.

No run may fail; every bad record must be in raw.quarantine with a reason naming its field (and
never a personal value); every good record must reach staging, every good received dossier
core.fct_dossier and the province's II.06a report in the marts. Seeded: the same records every run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
from collections import defaultdict

import psycopg
import pytest

from extractors import contract as C
from extractors.entities import ENTITIES
from simulator import World
from tests.extractors.contract_sources import Raw, extract_all, serve
from tests.extractors.sim_harness import CLOCK, INITIAL_FROM, SMALL_WORLD

pytestmark = pytest.mark.slow  # a dbt build: one module, one worker

SEED = 20
MARK = "_fuzz"  # an extra field (accepted as the contract says) that names each bad record

STAGING = {
    "one_stop__don_vi": "stg_one_stop__units",
    "one_stop__thu_tuc": "stg_one_stop__procedures",
    "one_stop__thu_tuc_don_vi": "stg_one_stop__unit_procedures",
    "one_stop__ho_so": "stg_one_stop__dossiers",
    "one_stop__qua_trinh_xu_ly": "stg_one_stop__process_steps",
    "dvc_portal__payments": "stg_dvc_portal__payments",
    "dvc_portal__sync_status": "stg_dvc_portal__sync_statuses",
    "dvc_portal__feedback": "stg_dvc_portal__feedback_items",
    "dvc_portal__ratings": "stg_dvc_portal__ratings",
    "dvc_portal__online_services": "stg_dvc_portal__online_services",
}


def bad_values(spec: C.Field) -> list:
    """Values that break `spec`, of every sort the kind can be broken by."""
    kind = spec.kind
    wrong_types = [{"a": 1}, ["x"]]
    if kind == C.TEXT:
        return [12, 1.5, True, *wrong_types]
    if kind in (C.CODE, C.FLAG) and type(spec.codes[0]) is int:
        first = spec.codes[-1]
        return [
            float(first),
            str(first),
            True if first == 1 else False,
            max(spec.codes) + 1,
            -1,
            Raw("1" * 30),
            "",
            *wrong_types,
        ]
    if kind == C.CODE:
        return [" NOPE ", spec.codes[0].lower() + "x", 1, True, *wrong_types]
    if kind == C.INTEGER:
        return [
            str(spec.low + 1),
            float(spec.low + 1),
            True,
            spec.high + 1,
            spec.low - 1,
            Raw("9" * 30),
            Raw("1e400"),
            Raw("NaN"),
            *wrong_types,
        ]
    if kind == C.NUMBER:
        return [
            str(spec.high),
            Raw("NaN"),
            Raw("Infinity"),
            Raw("-Infinity"),
            Raw("1e400"),
            Raw("-1e400"),
            spec.high * 10,
            spec.low - 1,
            Raw("1" * 30),
            True,
            *wrong_types,
        ]
    if kind == C.BOOLEAN:
        return [1, 0, "true", "false", 1.0, *wrong_types]
    if kind == C.LOCAL_TIME:
        return [
            "2024-05-17",
            "20241332170000",
            "20240230080000",
            "20240517250000",
            "2024-W05-3",
            "hôm qua",
            "2024\u000005170800",
            20240517080005,
            "18990101000000",
            "2024051708000",
            *wrong_types,
        ]
    if kind == C.LOCAL_DATE:
        return [
            "2024-W05-3",
            "20241301",
            "20240230",
            "20240101000000",
            "2024-01-01",
            20240101,
            "2024\u00000101",
            *wrong_types,
        ]
    if kind == C.ISO_TIME:
        return [
            "2024-W05-3T10:00:00+07:00",
            "2024-05-02T09:30:00",
            "2024-02-30T10:00:00+07:00",
            "20240502T093000+0700",
            "2024-05-02T09:30:00+20:00",
            "2024-123T09:30:00+07:00",
            "02/05/2024 09:30",
            "",
            1714617000,
            *wrong_types,
        ]
    if kind == C.ISO_DATE:
        return ["2024-W05-3", "2024-02-30", "20240101", "2024-01-01T00:00:00+07:00", "", 20240101, *wrong_types]
    if kind == C.CODE_LIST:
        return ["TINH", [spec.codes[0], 1], ["NOPE"], [None], [spec.codes[0].lower() + "x"], {"a": 1}]
    if kind == C.OBJECTS:
        return ["x", {"a": 1}, ["x"], [1], [None], [[]]]
    raise AssertionError(kind)


def fuzz_key(e, record: dict, n: int) -> None:
    """Give a bad record a key no good record has (its first text key field)."""
    for name in e.key:
        if C.fields_of(e)[name].kind == C.TEXT:
            record[name] = f"FUZZ-{n:05d}"
            return


def build_bad(world_rows: dict, rng: random.Random) -> tuple[list, dict]:
    """Bad records per entity, and what each must be quarantined for: n -> (table, field path)."""
    bad: dict[tuple[str, str], list] = defaultdict(list)
    expect: dict[int, tuple[str, str]] = {}

    def add(e, record, path):
        n = len(expect)
        fuzz_key(e, record, n) if not path.startswith("key:") else None
        record[MARK] = n
        expect[n] = (e.table, path.removeprefix("key:"))
        bad[(e.source, e.name)].append(record)

    for e in ENTITIES:
        rows = world_rows[(e.source, e.name)]
        fields = C.fields_of(e)
        for name, spec in fields.items():
            values = bad_values(spec)
            if name in e.key or name == e.updated:
                for value in values + [None]:
                    record = copy.deepcopy(rng.choice(rows))
                    record[name] = value
                    if value is None and spec.kind == C.TEXT:
                        del record[name]  # missing, not null
                    path = name
                    if name in e.key:
                        fuzz_other = [k for k in e.key if k != name and fields[k].kind == C.TEXT]
                        for k in fuzz_other[:1]:
                            record[k] = f"FUZZ-{len(expect):05d}"
                        path = "key:" + name
                    add(e, record, path)
                if spec.kind == C.TEXT and name in e.key:  # what PostgreSQL cannot store, in a key
                    for value in ("K-\u00001", "K-\ud800"):
                        record = copy.deepcopy(rng.choice(rows))
                        record[name] = value
                        add(e, record, "key:" + name)
                continue
            for value in values:
                record = copy.deepcopy(rng.choice(rows))
                record[name] = value
                add(e, record, name)
            if spec.required:
                record = copy.deepcopy(rng.choice(rows))
                del record[name]
                add(e, record, name)
            if spec.kind == C.OBJECTS:
                base_items = [r[name][0] for r in rows if r.get(name)] or [{}]
                for sub, sub_spec in spec.items.items():
                    for value in bad_values(sub_spec):
                        record = copy.deepcopy(rng.choice(rows))
                        item = copy.deepcopy(rng.choice(base_items))
                        item[sub] = value
                        record[name] = [copy.deepcopy(rng.choice(base_items)), item][-rng.randint(1, 2) :]
                        add(e, record, f"{name}[*].{sub}")
        # what PostgreSQL cannot store, in a field the contract does not list
        for value in (Raw("NaN"), Raw("1e400"), [1, Raw("-Infinity")]):
            record = copy.deepcopy(rng.choice(rows))
            record["TruongMoi"] = value
            add(e, record, "TruongMoi")
    return bad, expect


def unusual_but_good(world_rows: dict, rng: random.Random) -> None:
    """Good records the contract allows in unusual forms, changed in place (they must load)."""
    dossiers = world_rows[("one_stop", "ho_so")]
    for i, record in enumerate(rng.sample(dossiers, 12)):
        variant = i % 6
        if variant == 0:
            record["TrichYeuHoSo"] = "Đăng\u0000 ký"
        elif variant == 1:
            record["ChuHoSo"] = "Nguy\ud800n"
        elif variant == 2:
            record["MaTTHC"] = f"  {record['MaTTHC']} "
            record["KenhThucHien"] = record["KenhThucHien"]
        elif variant == 3:
            record["NgayTuChoi"] = "" if record.get("NgayTuChoi") is None else record["NgayTuChoi"]
        elif variant == 4:
            record["TruongMoi"] = {"a": [1, 2.5, None, "x\u0000"], "b": Raw("1" * 30)}
        else:
            record["DanhSachGiayToKetQua"] = None
    for record in rng.sample(world_rows[("dvc_portal", "payments")], 3):
        record["createdAt"] = record["createdAt"].replace("+07:00", ".5+07:00")


def as_served(rows):
    return json.loads(json.dumps(rows))


@pytest.fixture(scope="module")
def fuzzed(pg_cluster):
    from tests.extractors.sim_harness import drop_database, new_database

    world = World(SMALL_WORLD)
    rng = random.Random(SEED)
    good = {(e.source, e.name): as_served(world.records(e.source, e.name, CLOCK)) for e in ENTITIES}
    bad, expect = build_bad(good, rng)
    unusual_but_good(good, rng)
    not_objects = [["x"], 5, "a dossier", None, True]
    served = {}
    for key, rows in good.items():
        mixed = rows + bad.get(key, []) + (not_objects if key == ("one_stop", "ho_so") else [])
        rng.shuffle(mixed)
        served[key] = mixed
    dsn = new_database(pg_cluster)
    with serve(served) as server:
        runs = extract_all(dsn, server.url, CLOCK, INITIAL_FROM, page_size=50)
    yield dsn, good, expect, runs, len(not_objects)
    drop_database(pg_cluster, dsn)


def test_no_extract_run_fails(fuzzed):
    _, good, expect, runs, not_objects = fuzzed
    assert {r.status for r in runs.values()} == {"success"}
    assert sum(r.quarantined for r in runs.values()) == len(expect) + not_objects
    for e in ENTITIES:
        assert runs[e.table].loaded == len(good[(e.source, e.name)]), e.table
    # every kind of every entity was fuzzed
    assert {t for t, _ in expect.values()} == {e.table for e in ENTITIES}
    assert len(expect) > 1000


def test_every_bad_record_is_quarantined_with_a_reason_naming_its_field(fuzzed):
    dsn, good, expect, _, not_objects = fuzzed
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute("SELECT source, entity, record_key, reason, raw_text FROM raw.quarantine").fetchall()
    found, others = {}, []
    for source, name, _key, reason, raw_text in rows:
        assert "\x00" not in raw_text
        try:
            record = json.loads(raw_text)
        except ValueError:
            pytest.fail(f"raw_text is not JSON: {raw_text[:200]}")
        if isinstance(record, dict) and MARK in record:
            found[record[MARK]] = (f"{source}__{name}", reason, record)
        else:
            others.append(reason)
    missing = sorted(set(expect) - set(found))
    assert not missing, f"{len(missing)} bad records not quarantined, e.g. {[expect[n] for n in missing[:5]]}"
    wrong = []
    for n, (table, path) in expect.items():
        got_table, reason, record = found[n]
        pattern = re.escape(path).replace(r"\[\*\]", r"\[\d+\]")
        if got_table != table or not re.search(pattern, reason):
            wrong.append(f"{table} {path}: {reason}")
    assert not wrong, f"{len(wrong)} reasons do not name their field, e.g.\n" + "\n".join(wrong[:20])
    assert len(others) == not_objects and all(r.startswith("record is ") for r in others)


def test_no_reason_carries_a_personal_value(fuzzed):
    dsn, good, *_ = fuzzed
    personal = {str(r[f]) for r in good[("one_stop", "ho_so")] for f in ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai")}
    with psycopg.connect(dsn.conninfo()) as conn:
        reasons = [r for (r,) in conn.execute("SELECT reason FROM raw.quarantine")]
    leaked = [r for r in reasons if any(p in r for p in personal)]
    assert not leaked, leaked[:3]


def test_the_build_runs_and_every_good_record_reaches_staging_core_and_the_marts(fuzzed, monkeypatch):
    from tthc.pipeline import dbt

    dsn, good, *_ = fuzzed
    if not (os.environ.get("TTHC_PII_SALT") or os.environ.get("TTHC_PII_SALT_FILE")):
        monkeypatch.setenv("TTHC_PII_SALT", "contract-fuzz-test-key")
    dbt.build_warehouse(dsn, CLOCK.date())  # raises on any failed model or test
    dbt.build_marts_into(dsn, "marts", CLOCK.date())  # the indicator marts, with their dbt tests
    with psycopg.connect(dsn.conninfo()) as conn:
        for e in ENTITIES:
            count = conn.execute(f"SELECT count(*) FROM staging.{STAGING[e.table]}").fetchone()[0]
            assert count == len(good[(e.source, e.name)]), e.table
        in_core = {c for (c,) in conn.execute("SELECT dossier_code FROM core.fct_dossier")}
        summaries = dict(conn.execute("SELECT dossier_code, summary FROM staging.stg_one_stop__dossiers").fetchall())
        # II.06a of the province (every unit's dossiers pooled) for the year: what it received
        in_marts = conn.execute(
            "SELECT sum(r.received_online + r.received_in_person_postal) FROM marts.mart_report_ii06a r"
            " JOIN core.dim_unit u ON u.unit_code = r.unit_code AND u.parent_unit_code IS NULL"
            " WHERE r.period_type = 'year' AND r.period_key = %s",
            (str(CLOCK.year),),
        ).fetchone()[0]
    received = {
        r["MaHoSo"].strip() for r in good[("one_stop", "ho_so")] if r["TrangThaiHoSo"] not in (1, 3) and not r["DaXoa"]
    }
    assert received and in_core == received
    # every good received dossier counted once in the province's report, none of the bad ones
    assert in_marts == sum(
        1
        for r in good[("one_stop", "ho_so")]
        if r["TrangThaiHoSo"] not in (1, 3) and not r["DaXoa"] and (r["NgayTiepNhan"] or "").startswith(str(CLOCK.year))
    )
    assert "Đăng ký" in summaries.values()  # the NUL-cleaned summary, as decided
