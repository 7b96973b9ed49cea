"""The province-extract contract (docs/spec/contracts/province-extract.md, schema 1.0) as the
project's own check of a package folder.

Written from the contract, not from the writer (tthc/province_package): it shares no code with it, so a
wrong rule in the writer cannot pass here because both read it from one place. Standard library
plus openpyxl (for bao_cao.xlsx). Every problem has a kind (KINDS), so a test can ask which rule a
package breaks; `python -m tests.contract.package_conformance PACKAGE [--require FILE ...]` prints
one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SCHEMA_VERSION = "1.0"
MANIFEST = "manifest.json"
WORKBOOK = "bao_cao.xlsx"
INFO_SHEET = "Thông tin"

# file -> (columns in contract order, key, workbook sheet)
FILES = {
    "chi_so_766.csv": (
        (
            "ky_bao_cao",
            "ma_don_vi",
            "ten_don_vi",
            "cap_don_vi",
            "ma_don_vi_cha",
            "nhom",
            "ma_chi_so",
            "ten_chi_so",
            "tu_so",
            "mau_so",
            "ty_le",
            "diem",
            "diem_toi_da",
            "ap_dung",
        ),
        ("ma_don_vi", "ma_chi_so"),
        "Chỉ số 766",
    ),
    "tong_hop_diem.csv": (
        (
            "ky_bao_cao",
            "ma_don_vi",
            "ten_don_vi",
            "cap_don_vi",
            "ma_don_vi_cha",
            "diem_ckmb",
            "diem_tdgq",
            "diem_clgq",
            "diem_tttt",
            "diem_mdhl",
            "diem_mdsh",
            "tong_diem",
            "diem_toi_da",
            "xep_hang",
            "xep_loai",
        ),
        ("ma_don_vi",),
        "Tổng hợp điểm",
    ),
    "bieu_II_06a.csv": (
        (
            "ky_bao_cao",
            "ma_don_vi",
            "ma_linh_vuc",
            "ten_linh_vuc",
            "tiep_nhan_tong",
            "tiep_nhan_truc_tuyen",
            "tiep_nhan_truc_tiep_bcci",
            "tiep_nhan_ky_truoc",
            "da_giai_quyet_tong",
            "truoc_han",
            "dung_han",
            "qua_han",
            "dang_giai_quyet_tong",
            "trong_han",
            "dang_qua_han",
        ),
        ("ma_don_vi", "ma_linh_vuc"),
        "Biểu II.06a",
    ),
    "ho_so_qua_han.csv": (
        (
            "ky_bao_cao",
            "ma_ho_so",
            "ma_don_vi",
            "ma_tthc",
            "ma_linh_vuc",
            "kenh",
            "ngay_tiep_nhan",
            "ngay_hen_tra",
            "ngay_ket_thuc_xu_ly",
            "so_gio_lam_viec_qua_han",
            "co_phieu_xin_loi",
            "trang_thai",
        ),
        ("ma_ho_so",),
        "Hồ sơ quá hạn",
    ),
    "doi_soat_dvcqg.csv": (
        ("ky_bao_cao", "ma_don_vi", "ma_chi_so", "diem_tinh_toan", "diem_dvcqg", "chenh_lech"),
        ("ma_don_vi", "ma_chi_so"),
        "Đối soát DVCQG",
    ),
}
# The 766 table (docs/metrics.md): each metric's group.
METRIC_GROUP = {
    "1.1": "CKMB",
    "1.2": "CKMB",
    "1.3": "CKMB",
    "1.4": "CKMB",
    "2.1": "TDGQ",
    "2.2": "TDGQ",
    "3.1": "CLGQ",
    "3.2": "CLGQ",
    "3.3": "CLGQ",
    "3.4": "TTTT",
    "3.5": "TTTT",
    "3.6": "TTTT",
    "4.1": "MDSH",
    "4.2": "MDSH",
    "4.3": "MDSH",
    "4.4": "MDSH",
    "4.5": "MDSH",
    "4.6": "MDSH",
    "4.7": "MDSH",
    "5.1": "MDHL",
    "5.2": "MDHL",
    "5.3": "MDHL",
}
GROUPS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")
MANIFEST_FIELDS = (
    "schema_version",
    "ma_don_vi",
    "ky_bao_cao",
    "phien_ban",
    "trang_thai",
    "tao_luc",
    "pipeline_version",
    "nguon_du_lieu",
    "kiem_tra_chat_luong",
    "tep",
)
STATUSES = ("TAM_TINH", "CHINH_THUC")

# What each kind of problem means (the rule of the contract it breaks).
KINDS = {
    "manifest": "manifest.json missing, unreadable, or a field missing or of the wrong type",
    "schema_version": "schema_version is not 1.0",
    "period": "a ky_bao_cao that is not YYYY-MM, or not the manifest's",
    "version": "phien_ban not an integer >= 1, or thay_the_phien_ban not an earlier version",
    "status": "trang_thai not TAM_TINH or CHINH_THUC",
    "timestamp": "a timestamp not YYYY-MM-DDTHH:MM:SS+07:00",
    "folder": "the folder is not {ma_don_vi}/{ky_bao_cao}/v{phien_ban}",
    "unlisted": "a file in the folder that the manifest does not list",
    "unknown_file": "a file the contract does not define",
    "missing": "a file the manifest lists that is not in the folder",
    "required": "a file the caller requires that the package lacks",
    "sha256": "a file's SHA-256 differs from the manifest's",
    "row_count": "a CSV's data rows differ from the manifest's so_dong",
    "encoding": "a CSV without the UTF-8 BOM or not valid UTF-8",
    "line_ends": "a CSV line end that is not CRLF",
    "csv_syntax": "a CSV that RFC 4180 parsing rejects",
    "header": "a CSV header that is not the contract's columns in order",
    "field_count": "a CSV row with another number of fields than the header",
    "order": "CSV rows not sorted by their key",
    "duplicate_key": "two CSV rows with the same key",
    "value": "a cell of the wrong form (code, integer, decimals, date, timestamp, flag)",
    "range": "a rate outside 0..1, points outside 0..max, a negative count",
    "metric": "an unknown metric or group, or a metric in the wrong group",
    "coverage": "a unit of chi_so_766.csv without every metric 1.1-5.3",
    "special_row": "metric 2.2 or 5.3 not written as the contract says",
    "rate": "a rate that is not its numerator over its denominator, rounded",
    "total": "tong_diem not the sum of the group points",
    "rank": "xep_hang not a competition rank among siblings of one level",
    "identity": "a report form II.06a identity that does not hold",
    "difference": "chenh_lech not computed minus portal, or not empty with the portal's value",
    "units": "chi_so_766.csv and tong_hop_diem.csv name different units",
    "workbook": "bao_cao.xlsx without its sheets, frozen headers or numeric cells",
}

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
STAMP = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\+07:00")
INTEGER = re.compile(r"0|[1-9]\d*")
SHA256 = re.compile(r"[0-9a-f]{64}")
# Rounded half away from zero from unrounded values: a sum or difference of rounded cells can be
# off the rounded sum by half a unit per term, plus the final rounding.
TOTAL_SLACK = Decimal("0.035")  # six group points and the total, 2 decimals each
DIFFERENCE_SLACK = Decimal("0.015")  # two points and their difference
MEASURES = {  # columns whose workbook cells must be numbers
    "chi_so_766.csv": ("tu_so", "mau_so", "ty_le", "diem", "diem_toi_da"),
    "tong_hop_diem.csv": (
        "diem_ckmb",
        "diem_tdgq",
        "diem_clgq",
        "diem_tttt",
        "diem_mdhl",
        "diem_mdsh",
        "tong_diem",
        "diem_toi_da",
        "xep_hang",
    ),
    "bieu_II_06a.csv": FILES["bieu_II_06a.csv"][0][4:],
    "ho_so_qua_han.csv": ("so_gio_lam_viec_qua_han",),
    "doi_soat_dvcqg.csv": ("diem_tinh_toan", "diem_dvcqg", "chenh_lech"),
}


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.kind}]"


class _Problems(list):
    def add(self, kind: str, where: str, message: str) -> None:
        assert kind in KINDS, kind
        self.append(Problem(kind, where, message))


def check_package(
    package: Path, require: tuple[str, ...] | list[str] = (), *, every_metric: bool = True
) -> list[Problem]:
    """Every way `package` breaks the contract; an empty list when it conforms.

    every_metric=False leaves out one rule, "every metric for every unit" (kind coverage), for
    tests that publish from hand-made marts holding a few metrics.
    """
    package = Path(package)
    problems = _Problems()
    manifest = _read_manifest(package, problems)
    if manifest is None:
        return list(problems)
    _check_manifest(package, manifest, problems)
    listed = {e["ten"]: e for e in manifest.get("tep") or [] if isinstance(e, dict) and isinstance(e.get("ten"), str)}
    present = {p.name for p in package.iterdir() if p.is_file() and p.name != MANIFEST}
    for name in sorted(present - set(listed)):
        problems.add("unlisted", name, "in the folder but not in the manifest")
    for name in sorted(set(listed) | present):
        if name not in FILES and name != WORKBOOK:
            problems.add("unknown_file", name, "not a file of the contract")
    for name in require:
        if name not in listed:
            problems.add("required", name, "required but not in the package")
    tables: dict[str, list[dict]] = {}
    counts = {n: e.get("so_dong") for n, e in listed.items() if n in FILES}  # the CSV's own count once read
    for name, entry in sorted(listed.items()):
        path = package / name
        if not path.is_file():
            problems.add("missing", name, "listed in the manifest but not in the folder")
            continue
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry.get("sha256"):
            problems.add("sha256", name, "sha256 differs from the manifest")
        if name in FILES:
            records = _read_csv(name, raw, problems)
            if records is not None:
                if len(records) != entry.get("so_dong"):
                    problems.add(
                        "row_count", name, f"{len(records)} data rows, the manifest says {entry.get('so_dong')}"
                    )
                counts[name] = len(records)
                rows = [r for r in records if r is not None]
                _check_rows(name, rows, manifest.get("ky_bao_cao"), problems, every_metric)
                tables[name] = rows
    _check_across(tables, problems)
    if WORKBOOK in listed and (package / WORKBOOK).is_file():
        _check_workbook(package / WORKBOOK, counts, problems)
    return list(problems)


# -- manifest -------------------------------------------------------------------------------------


def _read_manifest(package: Path, problems: _Problems) -> dict | None:
    path = package / MANIFEST
    if not path.is_file():
        problems.add("manifest", MANIFEST, "no manifest.json in the folder")
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.add("manifest", MANIFEST, f"not UTF-8 JSON ({exc})")
        return None
    if not isinstance(manifest, dict):
        problems.add("manifest", MANIFEST, "not a JSON object")
        return None
    return manifest


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_manifest(package: Path, m: dict, problems: _Problems) -> None:
    for field in MANIFEST_FIELDS:
        if field not in m:
            problems.add("manifest", MANIFEST, f"missing field {field}")
    if m.get("schema_version") != SCHEMA_VERSION:
        problems.add("schema_version", MANIFEST, f"schema_version {m.get('schema_version')!r} is not '1.0'")
    if not (isinstance(m.get("ky_bao_cao"), str) and PERIOD.fullmatch(m["ky_bao_cao"])):
        problems.add("period", MANIFEST, f"ky_bao_cao {m.get('ky_bao_cao')!r} is not YYYY-MM")
    version = m.get("phien_ban")
    if not (_is_int(version) and version >= 1):
        problems.add("version", MANIFEST, f"phien_ban {version!r} is not an integer >= 1")
    replaces = m.get("thay_the_phien_ban")
    if replaces is not None and not (_is_int(replaces) and _is_int(version) and 1 <= replaces < version):
        problems.add("version", MANIFEST, f"thay_the_phien_ban {replaces!r} is not an earlier version")
    if m.get("trang_thai") not in STATUSES:
        problems.add("status", MANIFEST, f"trang_thai {m.get('trang_thai')!r} is not TAM_TINH or CHINH_THUC")
    if not (isinstance(m.get("tao_luc"), str) and STAMP.fullmatch(m["tao_luc"])):
        problems.add("timestamp", MANIFEST, f"tao_luc {m.get('tao_luc')!r} is not YYYY-MM-DDTHH:MM:SS+07:00")
    if "pipeline_version" in m and not (isinstance(m["pipeline_version"], str) and m["pipeline_version"].strip()):
        problems.add("manifest", MANIFEST, "pipeline_version is not a non-empty text")
    sources = m.get("nguon_du_lieu")
    if "nguon_du_lieu" in m and not isinstance(sources, dict):
        problems.add("manifest", MANIFEST, "nguon_du_lieu is not an object")
    for source, upper in sources.items() if isinstance(sources, dict) else ():
        if upper is not None and not (isinstance(upper, str) and STAMP.fullmatch(upper)):
            problems.add("timestamp", MANIFEST, f"nguon_du_lieu.{source} {upper!r} is not YYYY-MM-DDTHH:MM:SS+07:00")
    quality = m.get("kiem_tra_chat_luong")
    if "kiem_tra_chat_luong" in m:
        if not isinstance(quality, dict):
            problems.add("manifest", MANIFEST, "kiem_tra_chat_luong is not an object")
        else:
            if not (isinstance(quality.get("ket_qua"), str) and quality["ket_qua"]):
                problems.add("manifest", MANIFEST, "kiem_tra_chat_luong.ket_qua is not a non-empty text")
            for count in ("so_kiem_tra", "so_loi"):
                if not (_is_int(quality.get(count)) and quality[count] >= 0):
                    problems.add("manifest", MANIFEST, f"kiem_tra_chat_luong.{count} is not a count")
    files = m.get("tep")
    if "tep" in m and not isinstance(files, list):
        problems.add("manifest", MANIFEST, "tep is not a list")
    names = []
    for entry in files if isinstance(files, list) else ():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("ten"), str)
            and _is_int(entry.get("so_dong"))
            and entry["so_dong"] >= 0
            and isinstance(entry.get("sha256"), str)
            and SHA256.fullmatch(entry["sha256"])
        ):
            problems.add("manifest", MANIFEST, f"tep entry {entry!r} is not {{ten, so_dong, sha256}}")
        elif entry["ten"] == MANIFEST:
            problems.add("manifest", MANIFEST, "tep lists the manifest itself")
        names.append(entry.get("ten") if isinstance(entry, dict) else None)
    if len(names) != len(set(names)):
        problems.add("manifest", MANIFEST, "tep lists a file twice")
    want = (str(m.get("ma_don_vi")), str(m.get("ky_bao_cao")), f"v{version}")
    got = package.resolve().parts[-3:]
    if tuple(got) != want:
        problems.add("folder", str(package), f"folder {'/'.join(got)} is not {'/'.join(want)}")


# -- CSV files --------------------------------------------------------------------------------------


def _read_csv(name: str, raw: bytes, problems: _Problems) -> list[dict | None] | None:
    """The data rows as dicts (None for a row of the wrong width); None when the file is unreadable."""
    if not raw.startswith(b"\xef\xbb\xbf"):
        problems.add("encoding", name, "no UTF-8 BOM")
    body = raw.removeprefix(b"\xef\xbb\xbf")
    if re.search(rb"\r(?!\n)|(?<!\r)\n", body):
        problems.add("line_ends", name, "a line end that is not CRLF")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add("encoding", name, f"not UTF-8 ({exc})")
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        problems.add("csv_syntax", name, str(exc))
        return None
    columns = FILES[name][0]
    if not records or tuple(records[0]) != columns:
        problems.add("header", name, f"header {records[0] if records else None} is not {list(columns)}")
        return None
    rows = []
    for line, record in enumerate(records[1:], start=2):
        if len(record) != len(columns):
            problems.add("field_count", name, f"row {line} has {len(record)} fields, the header {len(columns)}")
            rows.append(None)
            continue
        rows.append(dict(zip(columns, record)) | {"_line": line})
    key = FILES[name][1]
    keys = [tuple(r[c] for c in key) for r in rows if r is not None]
    if keys != sorted(keys):
        problems.add("order", name, f"rows not sorted by {', '.join(key)}")
    if len(set(keys)) != len(keys):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        problems.add("duplicate_key", name, f"duplicate key(s) {dupes[:3]}")
    return rows


def _decimal(text: str, places: int | None) -> Decimal | None:
    """The cell as a Decimal when it is a plain number with exactly `places` decimals (None: an integer)."""
    pattern = r"-?(0|[1-9]\d*)" if places is None else rf"-?(0|[1-9]\d*)\.\d{{{places}}}"
    if not re.fullmatch(pattern, text):
        return None
    return Decimal(text)


class _Cells:
    """Reads one row's cells by form, reporting each cell of the wrong form once."""

    def __init__(self, name: str, row: dict, problems: _Problems):
        self.name, self.row, self.problems = name, row, problems

    def _bad(self, column: str, form: str) -> None:
        self.problems.add("value", self.name, f"row {self.row['_line']} {column}={self.row[column]!r} is not {form}")

    def number(self, column: str, places: int | None, *, blank: bool = False) -> Decimal | None:
        text = self.row[column]
        if blank and text == "":
            return None
        value = _decimal(text, places)
        if value is None:
            self._bad(column, "an integer" if places is None else f"a number with {places} decimals")
        return value

    def code(self, column: str, allowed=None) -> str:
        text = self.row[column]
        if not text or text != text.strip() or (allowed is not None and text not in allowed):
            self._bad(column, "a code" if allowed is None else f"one of {sorted(allowed)}")
        return text

    def stamp(self, column: str, *, blank: bool = False) -> None:
        text = self.row[column]
        if not (blank and text == "") and not STAMP.fullmatch(text):
            self._bad(column, "YYYY-MM-DDTHH:MM:SS+07:00")


def _check_rows(name: str, rows: list[dict], period, problems: _Problems, every_metric: bool) -> None:
    for row in rows:
        where = f"row {row['_line']}"
        if not PERIOD.fullmatch(row["ky_bao_cao"]) or row["ky_bao_cao"] != period:
            problems.add("period", name, f"{where} ky_bao_cao {row['ky_bao_cao']!r} is not the manifest's {period!r}")
        cells = _Cells(name, row, problems)
        cells.code("ma_don_vi")
        {
            "chi_so_766.csv": _chi_so_row,
            "tong_hop_diem.csv": _tong_hop_row,
            "bieu_II_06a.csv": _bieu_row,
            "ho_so_qua_han.csv": _qua_han_row,
            "doi_soat_dvcqg.csv": _doi_soat_row,
        }[name](cells, where, problems)
    if name == "chi_so_766.csv" and every_metric:
        by_unit: dict[str, set] = {}
        for row in rows:
            by_unit.setdefault(row["ma_don_vi"], set()).add(row["ma_chi_so"])
        for unit, metrics in sorted(by_unit.items()):
            if metrics != set(METRIC_GROUP):
                problems.add("coverage", name, f"unit {unit} lacks metric(s) {sorted(set(METRIC_GROUP) - metrics)}")
    if name == "tong_hop_diem.csv":
        _check_ranks(rows, problems)


def _chi_so_row(cells: _Cells, where: str, problems: _Problems) -> None:
    name, row = cells.name, cells.row
    cells.code("cap_don_vi")
    metric = row["ma_chi_so"]
    if metric not in METRIC_GROUP:
        problems.add("metric", name, f"{where} unknown ma_chi_so {metric!r}")
    elif row["nhom"] != METRIC_GROUP[metric]:
        problems.add("metric", name, f"{where} metric {metric} in group {row['nhom']!r}, not {METRIC_GROUP[metric]}")
    cells.code("ap_dung", {"0", "1"})
    denominator = cells.number("mau_so", None)
    if metric == "2.2":
        cells.number("tu_so", 2)
        if row["ty_le"] != "" or row["diem"] != "0.00" or row["diem_toi_da"] != "0.00":
            problems.add("special_row", name, f"{where} metric 2.2 needs an empty ty_le and 0.00 points of 0.00")
        return
    if metric == "5.3":
        if row["tu_so"] != "":
            problems.add("special_row", name, f"{where} metric 5.3 needs an empty tu_so")
        numerator = None
    else:
        numerator = cells.number("tu_so", None)
    rate = cells.number("ty_le", 4, blank=True)
    points, maximum = cells.number("diem", 2), cells.number("diem_toi_da", 2)
    if rate is not None and not Decimal(0) <= rate <= 1:
        problems.add("range", name, f"{where} ty_le {rate} outside 0..1")
    if points is not None and maximum is not None and not Decimal(0) <= points <= maximum:
        problems.add("range", name, f"{where} diem {points} outside 0..{maximum}")
    if denominator is not None and denominator < 0 or numerator is not None and numerator < 0:
        problems.add("range", name, f"{where} a negative count")
    if rate is not None and numerator is not None and denominator:
        exact = (numerator / denominator).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        if rate != exact:
            problems.add("rate", name, f"{where} ty_le {rate} is not {numerator}/{denominator} = {exact}")


def _tong_hop_row(cells: _Cells, where: str, problems: _Problems) -> None:
    cells.code("cap_don_vi")
    cells.code("xep_loai")
    groups = [cells.number(f"diem_{g.lower()}", 2) for g in GROUPS]
    total, maximum = cells.number("tong_diem", 2), cells.number("diem_toi_da", 2)
    rank = cells.number("xep_hang", None)
    if rank is not None and rank < 1:
        problems.add("range", cells.name, f"{where} xep_hang {rank} below 1")
    if total is not None and maximum is not None and not Decimal(0) <= total <= maximum:
        problems.add("range", cells.name, f"{where} tong_diem {total} outside 0..{maximum}")
    if total is not None and None not in groups and abs(sum(groups) - total) > TOTAL_SLACK:
        problems.add("total", cells.name, f"{where} tong_diem {total} is not the sum of the groups {sum(groups)}")


def _check_ranks(rows: list[dict], problems: _Problems) -> None:
    # Competition ranking among units with the same parent and level. Only siblings whose parent is
    # in the package are all here (the package's root ranks among units outside it).
    units = {r["ma_don_vi"] for r in rows}
    peers: dict[tuple, list] = {}
    for r in rows:
        total, rank = _decimal(r["tong_diem"], 2), _decimal(r["xep_hang"], None)
        if r["ma_don_vi_cha"] in units and total is not None and rank is not None:
            peers.setdefault((r["ma_don_vi_cha"], r["cap_don_vi"]), []).append((total, rank, r["ma_don_vi"]))
    for (parent, level), group in sorted(peers.items()):
        # Rounding keeps order (a higher rounded total had a higher unrounded one), and equal
        # rounded totals may hide different unrounded ones: so the rank lies between these bounds.
        wrong = [
            u
            for t, k, u in group
            if not 1 + sum(1 for t2, _, _ in group if t2 > t) <= k <= sum(1 for t2, _, _ in group if t2 >= t)
        ]
        if wrong or min(k for _, k, _ in group) != 1:
            problems.add(
                "rank",
                "tong_hop_diem.csv",
                f"xep_hang among {level} units under {parent} is not a competition rank by tong_diem "
                f"({', '.join(sorted(wrong)) or 'no rank 1'})",
            )


def _bieu_row(cells: _Cells, where: str, problems: _Problems) -> None:
    cells.code("ma_linh_vuc")
    n = {c: cells.number(c, None) for c in FILES["bieu_II_06a.csv"][0][4:]}
    if None in n.values():
        return
    if any(v < 0 for v in n.values()):
        problems.add("range", cells.name, f"{where} a negative count")
    for total, parts, label in (
        (
            "tiep_nhan_tong",
            ("tiep_nhan_truc_tuyen", "tiep_nhan_truc_tiep_bcci", "tiep_nhan_ky_truoc"),
            "(3) = (4)+(5)+(6)",
        ),
        ("da_giai_quyet_tong", ("truoc_han", "dung_han", "qua_han"), "(7) = (8)+(9)+(10)"),
        ("dang_giai_quyet_tong", ("trong_han", "dang_qua_han"), "(11) = (12)+(13)"),
    ):
        if n[total] != sum(n[p] for p in parts):
            problems.add("identity", cells.name, f"{where} {label} does not hold")
    if n["tiep_nhan_tong"] != n["da_giai_quyet_tong"] + n["dang_giai_quyet_tong"]:
        problems.add("identity", cells.name, f"{where} (3) = (7)+(11) does not hold")


def _qua_han_row(cells: _Cells, where: str, problems: _Problems) -> None:
    for column in ("ma_ho_so", "ma_tthc", "ma_linh_vuc"):
        cells.code(column)
    cells.code("kenh", {"1", "2", "3"})
    cells.code("co_phieu_xin_loi", {"0", "1"})
    cells.code("trang_thai", {str(s) for s in range(1, 11)})
    cells.stamp("ngay_tiep_nhan")
    cells.stamp("ngay_hen_tra", blank=True)  # a dossier without NgayHenTra is judged by its TTHC's limit
    cells.stamp("ngay_ket_thuc_xu_ly", blank=True)  # empty: open at the period end
    hours = cells.number("so_gio_lam_viec_qua_han", 2)
    if hours is not None and hours < 0:
        problems.add("range", cells.name, f"{where} so_gio_lam_viec_qua_han {hours} is negative")


def _doi_soat_row(cells: _Cells, where: str, problems: _Problems) -> None:
    cells.code("ma_chi_so", set(METRIC_GROUP) | set(GROUPS) | {"TONG"})
    ours = cells.number("diem_tinh_toan", 2)
    portal = cells.number("diem_dvcqg", 2, blank=True)
    difference = cells.number("chenh_lech", 2, blank=True)
    if (portal is None) != (difference is None) and cells.row["diem_dvcqg"] == "":
        problems.add("difference", cells.name, f"{where} chenh_lech must be empty where the portal gave no value")
    elif None not in (ours, portal, difference) and abs(ours - portal - difference) > DIFFERENCE_SLACK:
        problems.add("difference", cells.name, f"{where} chenh_lech {difference} is not {ours} - {portal}")


def _check_across(tables: dict[str, list[dict]], problems: _Problems) -> None:
    if "chi_so_766.csv" in tables and "tong_hop_diem.csv" in tables:
        metrics = {r["ma_don_vi"] for r in tables["chi_so_766.csv"]}
        scores = {r["ma_don_vi"] for r in tables["tong_hop_diem.csv"]}
        if metrics != scores:
            problems.add(
                "units", "tong_hop_diem.csv", f"units differ from chi_so_766.csv: {sorted(metrics ^ scores)[:5]}"
            )


# -- bao_cao.xlsx -----------------------------------------------------------------------------------


def _check_workbook(path: Path, csvs: dict[str, int], problems: _Problems) -> None:
    """The sheets of the listed CSVs after Thông tin, frozen headers, each CSV's row count and
    numbers as numbers; read on its own, so a defect in a CSV is not reported twice."""
    import openpyxl  # only this part needs it

    try:
        book = openpyxl.load_workbook(path)
    except Exception as exc:  # noqa: BLE001 - any reason openpyxl cannot open it is the finding
        problems.add("workbook", WORKBOOK, f"cannot be opened ({type(exc).__name__}: {exc})")
        return
    want = [INFO_SHEET] + [FILES[name][2] for name in FILES if name in csvs]
    if book.sheetnames != want:
        problems.add("workbook", WORKBOOK, f"sheets {book.sheetnames} are not {want}")
    for name, count in csvs.items():
        sheet_name = FILES[name][2]
        if sheet_name not in book.sheetnames:
            continue
        sheet = book[sheet_name]
        if sheet.freeze_panes != "A2":
            problems.add("workbook", WORKBOOK, f"sheet {sheet_name!r}: header row not frozen")
        values = list(sheet.iter_rows(values_only=True))
        if len(values) - 1 != count:
            problems.add("workbook", WORKBOOK, f"sheet {sheet_name!r}: {len(values) - 1} rows, {name} has {count}")
        columns = FILES[name][0]
        for line, cells in enumerate(values[1:], start=2):
            bad = [
                c
                for c in MEASURES[name]
                if columns.index(c) < len(cells)
                and cells[columns.index(c)] is not None  # a blank cell is an empty CSV cell
                and (isinstance(cells[columns.index(c)], bool) or not isinstance(cells[columns.index(c)], (int, float)))
            ]
            if bad:
                problems.add("workbook", WORKBOOK, f"sheet {sheet_name!r} row {line}: {', '.join(bad)} not numbers")
                break
    if INFO_SHEET in book.sheetnames and book[INFO_SHEET].max_row < 2:
        problems.add("workbook", WORKBOOK, f"sheet {INFO_SHEET!r} is empty")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path)
    parser.add_argument("--require", nargs="*", default=[])
    args = parser.parse_args(argv)
    problems = check_package(args.package, args.require)
    for problem in problems:
        print(problem)
    print(f"{'OK' if not problems else 'FAIL'}: {args.package} ({len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
