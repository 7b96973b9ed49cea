"""manifest.json: what the package holds, in the contract's key order."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from tthc.province_package.errors import PackageError
from tthc.province_package.spec import SCHEMA_VERSION
from tthc.province_package.values import format_timestamp

MANIFEST_NAME = "manifest.json"
QUALITY_KEYS = ("ket_qua", "so_kiem_tra", "so_loi")
# Records the last gate counted as lost (expectations/loss.py): open quarantined records
# (so_ban_ghi_cach_ly), records the sources counted that the warehouse lacks (so_ban_ghi_thieu),
# and per source and entity with any (du_lieu_thieu: nguon, doi_tuong, so_ban_ghi_cach_ly,
# so_ban_ghi_thieu, vuot_nguong). Extra keys inside kiem_tra_chat_luong: the contract's
# validator reads only the top-level fields.
LOSS_KEYS = ("so_ban_ghi_cach_ly", "so_ban_ghi_thieu", "du_lieu_thieu")
LOSS_ENTRY_KEYS = ("nguon", "doi_tuong", "so_ban_ghi_cach_ly", "so_ban_ghi_thieu", "vuot_nguong")
# What a reader of the package must know that does not fail it (canh_bao: Vietnamese sentences;
# an empty list when there is none), e.g. the portal gave no official score for the period.
WARNINGS_KEY = "canh_bao"


def file_entry(name: str, data: bytes, rows: int) -> dict:
    return {"ten": name, "so_dong": rows, "sha256": hashlib.sha256(data).hexdigest()}


def build_manifest(
    *,
    unit_code: str,
    period: str,
    version: int,
    status: str,
    replaces: int | None,
    reason: str | None,
    now: datetime,
    pipeline_version: str,
    sources: dict[str, datetime],
    quality: dict,
    files: list[dict],
) -> dict:
    # Every key is always present (null when it does not apply) so the shape never varies.
    return {
        "schema_version": SCHEMA_VERSION,
        "ma_don_vi": unit_code,
        "ky_bao_cao": period,
        "phien_ban": version,
        "trang_thai": status,
        "thay_the_phien_ban": replaces,
        "ly_do": reason,
        "tao_luc": format_timestamp(now),
        "pipeline_version": pipeline_version,
        # null: nothing has been loaded from that source yet
        "nguon_du_lieu": {
            name: format_timestamp(moment) if moment is not None else None for name, moment in sources.items()
        },
        # the gate's verdict, then what the warehouse knew it lacked when the package was built
        # (null: not counted by that gate)
        "kiem_tra_chat_luong": {k: quality[k] for k in QUALITY_KEYS}
        | {k: quality.get(k) for k in LOSS_KEYS}
        | {WARNINGS_KEY: list(quality.get(WARNINGS_KEY) or [])},
        "tep": files,
    }


def dump_manifest(manifest: dict) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def read_manifest(package: Path) -> dict:
    path = package / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{path}: unreadable manifest ({exc})") from exc
