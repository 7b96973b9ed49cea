"""Fault injection: what can go wrong between a client and the source systems.

Transport faults (429, 5xx, slow pages, dropped connections, revoked tokens, repeated rows,
rows moving while paging) are drawn per request from a seeded generator, so a run with the
same requests in the same order sees the same faults. Record faults (malformed rows, "" for
null dates, padded codes) are decided per record from a hash of (seed, entity, key): the
same record is always served the same way, and `record_fault` tells tests which records a
pipeline should quarantine. All rates are probabilities; everything is off by default.
Two faults are not drawn: a storm (`storm_requests`: the next N data requests in scope all fail
with 5xx, counted from when the faults were set, then the source recovers) and revoked
credentials (`credentials_revoked`: the client's credentials stop working until the switch is
turned off, as when a source rotates or revokes them).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields

from simulator.rand import unit_float

MALFORMED_KINDS = ("bad_date", "unknown_code", "missing_key")


@dataclass
class FaultConfig:
    seed: int = 0
    # transport, per request (data endpoints only; /oauth/token and /_sim are never faulted)
    rate_limit: float = 0.0  # HTTP 429 with Retry-After
    retry_after: int = 1  # seconds announced in Retry-After
    server_error: float = 0.0  # HTTP 502, 503 or 504
    storm_requests: int = 0  # the first N data requests in scope all answer 502/503/504, then it recovers
    error_envelope: float = 0.0  # HTTP 200 whose error_code is not "0"
    slow: float = 0.0  # the page (or inbox answer) is delayed by slow_seconds: a client timeout
    slow_seconds: float = 1.0
    drop: float = 0.0  # the connection is closed without a response
    revoke_tokens_every: int = 0  # every N authorised requests all tokens are revoked (0: never)
    credentials_revoked: bool = False  # /oauth/token answers 401, tokens and the portal's API key are refused
    repeat_rows: float = 0.0  # the page also repeats the last repeat_count rows of the previous page
    repeat_count: int = 3
    advance_per_page: int = 0  # seconds the clock moves after each data page: rows move while paging
    # records, per record (deterministic)
    malformed: float = 0.0  # bad dates, unknown codes, missing key fields
    empty_dates: float = 0.0  # "" instead of null for missing dates (older units)
    padded_codes: float = 0.0  # codes with surrounding spaces
    # scope: endpoint paths / raw entity names faults apply to (empty: all)
    paths: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()

    def __post_init__(self):
        for name in (
            "rate_limit",
            "server_error",
            "error_envelope",
            "slow",
            "drop",
            "repeat_rows",
            "malformed",
            "empty_dates",
            "padded_codes",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} must be a probability in [0, 1], got {value!r}")
        if self.malformed + self.empty_dates + self.padded_codes > 1.0:
            raise ValueError("FaultConfig: malformed + empty_dates + padded_codes must be <= 1")
        for name in ("retry_after", "storm_requests", "revoke_tokens_every", "repeat_count", "advance_per_page"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"FaultConfig.{name} must be >= 0")
        if not isinstance(self.credentials_revoked, bool):
            raise ValueError(f"FaultConfig.credentials_revoked must be true or false, got {self.credentials_revoked!r}")
        self.paths = tuple(self.paths)
        self.entities = tuple(self.entities)

    @classmethod
    def from_dict(cls, data: dict) -> FaultConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["paths"], out["entities"] = list(self.paths), list(self.entities)
        return out

    @property
    def has_record_faults(self) -> bool:
        return bool(self.malformed or self.empty_dates or self.padded_codes)

    def applies_to_path(self, path: str) -> bool:
        return not self.paths or path in self.paths

    def applies_to_entity(self, entity: str) -> bool:
        return not self.entities or entity in self.entities


# -- per-entity field knowledge for record faults ------------------------------------------------
@dataclass(frozen=True)
class EntityFields:
    key: tuple[str, ...]
    dates: tuple[str, ...]  # date/timestamp fields that may be null
    codes: tuple[str, ...]  # code fields that may arrive padded
    bad_date_field: str  # where a bad date goes
    unknown_code: tuple[str, object]  # field and an unknown value
    nested_dates: tuple[tuple[str, str], ...] = ()  # (list field, date field) inside lists
    bad_dates: tuple[str, ...] = ("2024-13-45", "20241399250000")


ENTITY_FIELDS: dict[str, EntityFields] = {
    "don_vi": EntityFields(
        ("MaDinhDanh",),
        ("HieuLucDen",),
        ("MaDinhDanh", "MaDonViCha", "MaDonViKeNhiem", "CapDonVi"),
        "HieuLucTu",
        ("CapDonVi", "THON"),
    ),
    "thu_tuc": EntityFields(
        ("MaTTHC",), ("NgayCongKhai",), ("MaTTHC", "MaLinhVuc", "DonViThoiHan"), "NgayCongBo", ("DonViThoiHan", "TUAN")
    ),
    "thu_tuc_don_vi": EntityFields(
        ("MaDinhDanh", "MaTTHC", "HieuLucTu"),
        ("HieuLucDen",),
        ("MaDinhDanh", "MaTTHC", "MucDoDVC"),
        "HieuLucDen",
        ("MucDoDVC", "MUC_DO_4"),
    ),
    "ho_so": EntityFields(
        ("MaHoSo",),
        ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi"),
        ("MaHoSo", "MaTTHC", "MaLinhVuc", "MaDinhDanhDonVi"),
        "NgayTiepNhan",
        ("TrangThaiHoSo", 42),
        nested_dates=(("DanhSachHoSoBoSung", "NgayTiepNhanBoSung"), ("DanhSachHoSoBoSung", "NgayHenTraMoi")),
    ),
    "qua_trinh_xu_ly": EntityFields(
        ("MaHoSo", "STT"), ("NgayKetThucTheoQuyDinh",), ("MaHoSo", "MaDinhDanhDonVi"), "ThoiDiemXuLy", ("TrangThai", 99)
    ),
    "payments": EntityFields(
        ("transactionId",),
        ("paidAt",),
        ("transactionId", "dossierCode", "departmentCode", "procedureCode"),
        "createdAt",
        ("status", "PENDING_REVIEW"),
        bad_dates=("2024-02-30T10:00:00+07:00", "02/05/2024 09:30"),
    ),
    "sync_status": EntityFields(
        ("dossierCode",),
        ("syncedAt",),
        ("dossierCode", "departmentCode"),
        "receivedAt",
        ("syncResult", "UNKNOWN"),
        bad_dates=("2024-02-30T10:00:00+07:00", "02/05/2024 09:30"),
    ),
    "feedback": EntityFields(
        ("feedbackId",),
        ("handledAt",),
        ("feedbackId", "departmentCode", "dossierCode"),
        "receivedAt",
        ("status", "ESCALATED"),
        bad_dates=("2024-02-30T10:00:00+07:00", "02/05/2024 09:30"),
    ),
    "ratings": EntityFields(
        ("ratingId",),
        (),
        ("ratingId", "dossierCode", "departmentCode"),
        "ratedAt",
        ("level", 7),
        bad_dates=("2024-02-30T10:00:00+07:00", "02/05/2024 09:30"),
    ),
    "online_services": EntityFields(
        ("departmentCode", "procedureCode", "validFrom"),
        ("validTo",),
        ("departmentCode", "procedureCode", "level"),
        "validFrom",
        ("level", "HALF"),
        bad_dates=("2024-02-30", "02/05/2024"),
    ),
}
# "" for null dates is a one-stop habit (older units); the portal always sends null
EMPTY_DATE_SOURCES = ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly")


def record_fault(faults: FaultConfig | None, entity: str, key: tuple) -> str | None:
    """The fault a record is served with: 'malformed:<kind>', 'empty_dates', 'padded_codes' or None."""
    if faults is None or not faults.has_record_faults or not faults.applies_to_entity(entity):
        return None
    x = unit_float("record-fault", faults.seed, entity, *key)
    if x < faults.malformed:
        kind = MALFORMED_KINDS[int(unit_float("malformed-kind", faults.seed, entity, *key) * len(MALFORMED_KINDS))]
        return "malformed:" + kind
    if x < faults.malformed + faults.empty_dates:
        return "empty_dates" if entity in EMPTY_DATE_SOURCES else None
    if x < faults.malformed + faults.empty_dates + faults.padded_codes:
        return "padded_codes"
    return None


def apply_record_fault(faults: FaultConfig | None, entity: str, row: dict) -> dict:
    """The row as served under `faults` (a new dict when changed; the input is not modified)."""
    spec = ENTITY_FIELDS.get(entity)
    if spec is None or faults is None or not faults.has_record_faults:
        return row
    key = tuple(row[k] for k in spec.key)
    fault = record_fault(faults, entity, key)
    if fault is None:
        return row
    out = copy.deepcopy(row)
    if fault == "empty_dates":
        for f in spec.dates:
            if out.get(f) is None and f in out:
                out[f] = ""
        for list_field, f in spec.nested_dates:
            for item in out.get(list_field) or []:
                if item.get(f) is None:
                    item[f] = ""
    elif fault == "padded_codes":
        for i, f in enumerate(spec.codes):
            if isinstance(out.get(f), str):
                out[f] = (" " if i % 2 == 0 else "  ") + out[f] + (" " if i % 3 else "   ")
    elif fault == "malformed:bad_date":
        variant = int(unit_float("bad-date", faults.seed, entity, *key) * len(spec.bad_dates))
        out[spec.bad_date_field] = spec.bad_dates[variant]
    elif fault == "malformed:unknown_code":
        f, value = spec.unknown_code
        out[f] = value
    elif fault == "malformed:missing_key":
        out.pop(spec.key[0], None)
    return out
