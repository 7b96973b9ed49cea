"""write_package: one monthly package, versioned, written whole or not at all.

Layout: {outbox}/{MaDinhDanh}/{YYYY-MM}/v{N}/ with the CSVs, bao_cao.xlsx and manifest.json.
An issued version is never touched again. A run whose CSVs and trang_thai equal the latest
version's writes nothing; any other difference becomes v{N+1}, which names the version it
replaces. Files are written into a hidden temporary folder beside the target and renamed into
place, so a crash leaves either the finished package or no version folder at all.
"""

from __future__ import annotations

import fcntl
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tthc.province_package.atomic import write_folder_atomically
from tthc.province_package.csv_format import render_csv
from tthc.province_package.errors import PackageError
from tthc.province_package.manifest import (
    LOSS_ENTRY_KEYS,
    LOSS_KEYS,
    MANIFEST_NAME,
    QUALITY_KEYS,
    WARNINGS_KEY,
    build_manifest,
    dump_manifest,
    file_entry,
    read_manifest,
)
from tthc.province_package.spec import DEFAULT_REASON, QUALITY_RESULTS, SCHEMA_VERSION, SOURCES, STATUSES, WORKBOOK_NAME
from tthc.province_package.tables import PreparedTable, prepare_tables
from tthc.province_package.values import format_timestamp, to_local
from tthc.province_package.versions import issued_versions, same_content
from tthc.province_package.workbook import build_workbook

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# MaDinhDanh such as 000.17.22.H56; it becomes a folder name, so nothing path-like gets through.
_UNIT = re.compile(r"^[0-9A-Za-z]+(?:[.\-_][0-9A-Za-z]+)*$")


@dataclass(frozen=True)
class PackageResult:
    path: Path
    version: int
    created: bool
    replaced_version: int | None


def write_package(
    outbox: Path,
    unit_code: str,
    period: str,
    tables: dict[str, list[dict]],
    status: str,
    sources: dict[str, datetime],
    quality: dict,
    pipeline_version: str,
    now: datetime,
    reason: str | None = None,
) -> PackageResult:
    _check_header(unit_code, period, status, sources, quality, pipeline_version, now, reason)
    now = to_local(now, "now")
    prepared = prepare_tables(tables, period)
    csv_files = {t.spec.file_name: render_csv(t) for t in prepared}

    period_dir = Path(outbox) / unit_code / period
    period_dir.mkdir(parents=True, exist_ok=True)
    with _locked(period_dir):
        issued = issued_versions(period_dir)
        latest = max(issued, default=None)
        if latest is not None and same_content(issued[latest], csv_files, status):
            replaced = read_manifest(issued[latest]).get("thay_the_phien_ban")
            return PackageResult(issued[latest], latest, False, replaced)

        version = (latest or 0) + 1
        replaces = latest
        why = (reason or DEFAULT_REASON) if replaces is not None else None
        files = _package_files(
            prepared,
            csv_files,
            unit_code=unit_code,
            period=period,
            version=version,
            status=status,
            replaces=replaces,
            reason=why,
            now=now,
            pipeline_version=pipeline_version,
            sources=sources,
            quality=quality,
        )
        target = period_dir / f"v{version}"
        write_folder_atomically(target, files)
        return PackageResult(target, version, True, replaces)


def _package_files(prepared: list[PreparedTable], csv_files: dict[str, bytes], **header) -> dict[str, bytes]:
    """Every file of the package, the manifest last, in the contract's order."""
    info = _info_rows(**header)
    workbook = build_workbook(prepared, info, header["now"], creator=f"tthc-warehouse {header['pipeline_version']}")
    entries = [file_entry(t.spec.file_name, csv_files[t.spec.file_name], len(t.rows)) for t in prepared]
    # The workbook's so_dong is the data rows of its table sheets (the Thông tin sheet excluded):
    # the same total as the CSVs, so a loader can cross-check either.
    entries.append(file_entry(WORKBOOK_NAME, workbook, sum(len(t.rows) for t in prepared)))
    manifest = build_manifest(files=entries, **header)
    return {**csv_files, WORKBOOK_NAME: workbook, MANIFEST_NAME: dump_manifest(manifest)}


def _info_rows(
    *, unit_code, period, version, status, replaces, reason, now, pipeline_version, sources, quality
) -> list[tuple[str, object]]:
    return [
        ("Mã đơn vị", unit_code),
        ("Kỳ báo cáo", period),
        ("Phiên bản", version),
        ("Trạng thái", f"{STATUSES[status]} ({status})"),
        ("Thay thế phiên bản", replaces),
        ("Lý do", reason),
        ("Thời điểm tạo", format_timestamp(now)),
        ("Dữ liệu hệ thống một cửa đến", _source_bound(sources["one_stop"])),
        ("Dữ liệu Cổng DVCQG đến", _source_bound(sources["dvc_portal"])),
        ("Kiểm tra chất lượng", "Đạt" if quality["ket_qua"] == "DAT" else "Không đạt"),
        ("Số kiểm tra", quality["so_kiem_tra"]),
        ("Số lỗi", quality["so_loi"]),
        # what the warehouse knew it lacked when the package was built (docs/loss-thresholds.md)
        ("Số bản ghi cách ly", _counted(quality.get("so_ban_ghi_cach_ly"))),
        ("Số bản ghi thiếu", _counted(quality.get("so_ban_ghi_thieu"))),
        ("Cảnh báo", "; ".join(quality.get(WARNINGS_KEY) or []) or "không có"),
        ("Phiên bản pipeline", pipeline_version),
        ("Phiên bản lược đồ", SCHEMA_VERSION),
    ]


def _counted(value: int | None) -> int | str:
    return value if value is not None else "chưa đếm"


def _source_bound(moment: datetime | None) -> str:
    return format_timestamp(moment) if moment is not None else "chưa có dữ liệu"


def _check_header(unit_code, period, status, sources, quality, pipeline_version, now, reason) -> None:
    if not isinstance(unit_code, str) or not _UNIT.match(unit_code):
        raise PackageError(f"unit_code {unit_code!r} is not a MaDinhDanh such as 000.17.22.H56")
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise PackageError(f"period {period!r} is not YYYY-MM")
    if status not in STATUSES:
        raise PackageError(f"status {status!r} is not one of {list(STATUSES)}")
    if not isinstance(sources, dict) or set(sources) != set(SOURCES):
        raise PackageError(f"sources must give exactly {list(SOURCES)}, got {sorted(sources or {})}")
    for name in SOURCES:
        if sources[name] is not None:  # None: nothing loaded from that source yet
            to_local(sources[name], f"sources[{name!r}]")
    optional = LOSS_KEYS + (WARNINGS_KEY,)
    if not isinstance(quality, dict) or not set(QUALITY_KEYS) <= set(quality) <= set(QUALITY_KEYS + optional):
        raise PackageError(
            f"quality must give ket_qua, so_kiem_tra, so_loi (and optionally {', '.join(optional)}), got {quality!r}"
        )
    _check_loss(quality)
    warnings = quality.get(WARNINGS_KEY) or []
    if not isinstance(warnings, list) or not all(isinstance(w, str) and w.strip() for w in warnings):
        raise PackageError(f"quality {WARNINGS_KEY} must be a list of non-empty sentences, got {warnings!r}")
    if quality["ket_qua"] not in QUALITY_RESULTS:
        raise PackageError(f"quality ket_qua {quality['ket_qua']!r} is not one of {list(QUALITY_RESULTS)}")
    for count in ("so_kiem_tra", "so_loi"):
        value = quality[count]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PackageError(f"quality {count} must be a non-negative integer, got {value!r}")
    if not isinstance(pipeline_version, str) or not pipeline_version:
        raise PackageError("pipeline_version must be a non-empty string")
    to_local(now, "now")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        raise PackageError(f"reason must be non-empty text or None, got {reason!r}")


def _check_loss(quality: dict) -> None:
    """The optional loss counts: null (not counted) or non-negative integers, and a list of
    per-entity entries with exactly LOSS_ENTRY_KEYS."""

    def count(value, name):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise PackageError(f"quality {name} must be a non-negative integer or null, got {value!r}")

    for name in LOSS_KEYS[:2]:
        count(quality.get(name), name)
    entries = quality.get("du_lieu_thieu")
    if entries is None:
        return
    if not isinstance(entries, list):
        raise PackageError(f"quality du_lieu_thieu must be a list or null, got {entries!r}")
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != set(LOSS_ENTRY_KEYS):
            raise PackageError(
                f"quality du_lieu_thieu entries give exactly {', '.join(LOSS_ENTRY_KEYS)}, got {entry!r}"
            )
        count(entry["so_ban_ghi_cach_ly"], "du_lieu_thieu.so_ban_ghi_cach_ly")
        count(entry["so_ban_ghi_thieu"], "du_lieu_thieu.so_ban_ghi_thieu")
        if not isinstance(entry["vuot_nguong"], bool):
            raise PackageError(f"quality du_lieu_thieu.vuot_nguong must be true or false, got {entry!r}")


@contextmanager
def _locked(period_dir: Path):
    """One writer per unit and period at a time, so two runs cannot both claim v{N+1}."""
    with open(period_dir / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
