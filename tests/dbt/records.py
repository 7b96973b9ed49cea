"""Contract-shaped source records for dbt tests, and a loader into the raw layer.

Each builder returns a record exactly as the API would send it (one-stop: local
yyyyMMddHHmmss strings; portal: ISO 8601 with offset), with every contract field present, so
the staging models see what production sees. `load_raw` stores them the way the extractors do.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import psycopg

from extractors.entities import entity

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
_batches = count(1)


def ts(text: str | None) -> str | None:
    """'2025-06-02 09:00' -> '20250602090000' (one-stop local time)."""
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M").strftime("%Y%m%d%H%M%S")


def day(text: str | None) -> str | None:
    """'2025-06-30' -> '20250630'."""
    return None if text is None else text.replace("-", "")


def unit(
    code, name, level, parent=None, valid_from="2020-01-01", valid_to=None, successor=None, updated="2025-01-01 00:00"
):
    return {
        "MaDinhDanh": code,
        "TenDonVi": name,
        "CapDonVi": level,
        "MaDonViCha": parent,
        "MaDVCQG": code,
        "HieuLucTu": day(valid_from),
        "HieuLucDen": day(valid_to),
        "MaDonViKeNhiem": successor,
        "NgayCapNhat": ts(updated),
    }


def procedure(
    code,
    limit=10,
    limit_unit="NGAY_LAM_VIEC",
    has_fee=False,
    result_is_document=True,
    field="DD",
    updated="2025-01-01 00:00",
):
    return {
        "MaTTHC": code,
        "TenTTHC": f"Thủ tục {code}",
        "MaLinhVuc": field,
        "TenLinhVuc": "Đất đai",
        "CapThucHien": ["XA"],
        "DoiTuongThucHien": ["CONG_DAN"],
        "ThoiHanGiaiQuyet": limit,
        "DonViThoiHan": limit_unit,
        "CoPhiLePhi": has_fee,
        "KetQuaLaGiayTo": result_is_document,
        "NgayCongBo": "20240101",
        "NgayHieuLucVanBan": "20240115",
        "NgayCongKhai": "20240105",
        "CongKhaiDayDu": True,
        "NgayCapNhat": ts(updated),
    }


def supplement(requested, received_back=None, previous_due=None, new_due=None):
    return {
        "NgayYeuCauBoSung": ts(requested),
        "NgayTiepNhanBoSung": ts(received_back),
        "NgayHenTraTruoc": ts(previous_due),
        "NgayHenTraMoi": ts(new_due),
        "NoiDungBoSung": "Bổ sung giấy tờ",
    }


def dossier(
    code,
    unit_code,
    received,
    due=None,
    ended=None,
    returned=None,
    status=4,
    procedure_code="1.000001",
    supplements=(),
    deleted=False,
    channel=2,
    updated=None,
    **extra,
):
    """A dossier; times as 'YYYY-MM-DD HH:MM' local. `updated` defaults to the latest date given."""
    times = [t for t in (received, due, ended, returned) if t]
    record = {
        "MaHoSo": f"  {code} ",
        "MaTTHC": procedure_code,
        "MaLinhVuc": "DD",
        "MaDinhDanhDonVi": unit_code,
        "KenhThucHien": channel,
        "LoaiDoiTuong": 1,
        "LienThong": False,
        "ChuHoSo": "Nguyễn Văn A",
        "SoGiayToChuHoSo": "038090001234",
        "SoDienThoai": "0912345678",
        "Email": None,
        "DiaChi": "Thôn 3",
        "TrichYeuHoSo": "Đăng ký biến động đất đai",
        "NgayNopHoSo": ts(received),
        "NgayTiepNhan": ts(received) if status != 1 else "",
        "NgayHenTra": ts(due) if due else "",
        "NgayKetThucXuLy": ts(ended),
        "NgayTra": ts(returned),
        "NgayTuChoi": None,
        "TrangThaiHoSo": status,
        "LyDo": None,
        "HoSoCoThanhPhanSoHoa": 0,
        "TaiKhoanDuocXacThucVoiVNeID": 1,
        "DuocThanhToanTrucTuyen": 0,
        "TaiLieuNop": [
            {
                "MaThanhPhanHoSo": "TP1",
                "TenTepDinhKem": "don.pdf",
                "DuongDanTaiTepTin": "/files/a.pdf",
                "DuocSoHoa": 1,
                "DuocTaiSuDung": 0,
                "DuocLayTuKhoDMQG": 0,
            }
        ],
        "DanhSachLePhi": [],
        "DanhSachHoSoBoSung": list(supplements),
        "DanhSachGiayToKetQua": [],
        "PhieuXinLoi": [],
        "DaXoa": deleted,
        "NgayCapNhat": ts(updated or max(times)),
    }
    record.update(extra)
    return record


def _key(e, record) -> str:
    return "|".join(str(record[field]).strip() for field in e.key)


def _updated_at(e, record) -> datetime | None:
    value = record.get(e.updated)
    if not value:
        return None
    if e.source == "one_stop":
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=LOCAL)
    return datetime.fromisoformat(value)


def load_raw(conn: psycopg.Connection, source: str, name: str, records: list[dict]) -> None:
    """Insert records as one batch, as the extractors do (same key + payload stored once)."""
    e = entity(source, name)
    batch = next(_batches)
    with conn.cursor() as cur:
        for record in records:
            text = json.dumps(record, ensure_ascii=False, sort_keys=True)
            cur.execute(
                f"INSERT INTO {e.qualified_table} (record_key, source_updated_at, payload, payload_hash, batch_id)"
                " VALUES (%s, %s, %s::jsonb, %s, %s) ON CONFLICT DO NOTHING",
                (_key(e, record), _updated_at(e, record), text, hashlib.sha256(text.encode()).hexdigest(), batch),
            )


def iso(text: str | None) -> str | None:
    """'2025-07-01 10:00' -> '2025-07-01T10:00:00+07:00' (portal ISO 8601 with offset)."""
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL).isoformat()


def offering(unit_code, procedure_code, level="TOAN_TRINH", valid_from="2020-01-01", valid_to=None):
    return {
        "MaDinhDanh": unit_code,
        "MaTTHC": procedure_code,
        "MucDoDVC": level,
        "HieuLucTu": day(valid_from),
        "HieuLucDen": day(valid_to),
        "NgayCapNhat": ts("2025-01-01 00:00"),
    }


def online_service(
    unit_code,
    procedure_code,
    published=True,
    payment_integrated=False,
    level="FULL",
    valid_from="2020-01-01",
    valid_to=None,
):
    return {
        "departmentCode": unit_code,
        "procedureCode": procedure_code,
        "level": level,
        "publishedOnPortal": published,
        "paymentIntegrated": payment_integrated,
        "validFrom": valid_from,
        "validTo": valid_to,
        "updatedAt": iso("2025-01-01 00:00"),
    }


def payment(transaction_id, dossier_code, unit_code, procedure_code, status="SUCCESS", paid=None, amount=50000):
    return {
        "transactionId": transaction_id,
        "dossierCode": dossier_code,
        "departmentCode": unit_code,
        "procedureCode": procedure_code,
        "feeCode": "LP01",
        "feeType": "LE_PHI",
        "amount": amount,
        "status": status,
        "channel": "PAYGOV",
        "bankCode": "VCB",
        "resultCode": "00" if status == "SUCCESS" else "99",
        "createdAt": iso(paid or "2025-07-01 08:00"),
        "paidAt": iso(paid),
        "updatedAt": iso(paid or "2025-07-01 08:00"),
    }


def sync(dossier_code, unit_code, received, result="SUCCESS"):
    return {
        "dossierCode": dossier_code,
        "departmentCode": unit_code,
        "receivedAt": iso(received),
        "syncedAt": iso(received),
        "portalStatus": 2,
        "syncResult": result,
        "errorMessage": None if result == "SUCCESS" else "Lỗi đồng bộ",
        "updatedAt": iso(received),
    }


def feedback(
    feedback_id,
    unit_code,
    received,
    due,
    handled=None,
    status="RECEIVED",
    likes=0,
    dislikes=0,
    reraised=False,
    dossier_code=None,
):
    return {
        "feedbackId": feedback_id,
        "departmentCode": unit_code,
        "dossierCode": dossier_code,
        "channel": "PORTAL",
        "category": "PROCEDURE",
        "content": "Nội dung phản ánh của công dân",
        "receivedAt": iso(received),
        "dueAt": iso(due),
        "handledAt": iso(handled),
        "status": status,
        "likes": likes,
        "dislikes": dislikes,
        "reraised": reraised,
        "updatedAt": iso(handled or received),
    }


def rating(rating_id, dossier_code, unit_code, level, rated):
    return {
        "ratingId": rating_id,
        "dossierCode": dossier_code,
        "departmentCode": unit_code,
        "level": level,
        "ratedAt": iso(rated),
        "updatedAt": iso(rated),
    }


def step(dossier_code, number, unit_code, processed, due=None, started=None, status=4):
    return {
        "MaHoSo": dossier_code,
        "STT": number,
        "TrangThai": status,
        "MaDinhDanhDonVi": unit_code,
        "PhongBanXuLy": "Bộ phận một cửa",
        "NguoiXuLy": "Cán bộ A",
        "NoiDungXuLy": "Xử lý",
        "ThoiDiemXuLy": ts(processed),
        "NgayBatDau": ts(started),
        "NgayKetThucTheoQuyDinh": ts(due),
        "NgayCapNhat": ts(processed),
    }
