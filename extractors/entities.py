"""Every entity the two sources serve, described once.

The clients, the loader, the raw tables and the DAGs all read this registry, so adding an
endpoint is one entry here. `key` fields make the business key (joined with '|' when
composite); `updated` is the source's last-update field, the incremental watermark.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    source: str  # "one_stop" | "dvc_portal"
    name: str  # raw table suffix: raw.<source>__<name>
    path: str  # endpoint path under the base URL
    key: tuple[str, ...]  # business key fields
    updated: str  # last-update field
    incremental: bool  # True: windowed on `updated`; False: full list each run
    method: str = "GET"

    @property
    def table(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"


ONE_STOP = "one_stop"
DVC_PORTAL = "dvc_portal"

ENTITIES: tuple[Entity, ...] = (
    Entity(ONE_STOP, "don_vi", "/api/v1/don-vi", ("MaDinhDanh",), "NgayCapNhat", False),
    Entity(ONE_STOP, "thu_tuc", "/api/v1/thu-tuc", ("MaTTHC",), "NgayCapNhat", False),
    Entity(
        ONE_STOP,
        "thu_tuc_don_vi",
        "/api/v1/thu-tuc-don-vi",
        ("MaDinhDanh", "MaTTHC", "HieuLucTu"),
        "NgayCapNhat",
        False,
    ),
    Entity(ONE_STOP, "ho_so", "/api/v1/ho-so", ("MaHoSo",), "NgayCapNhat", True),
    Entity(ONE_STOP, "qua_trinh_xu_ly", "/api/v1/qua-trinh-xu-ly", ("MaHoSo", "STT"), "NgayCapNhat", True),
    Entity(DVC_PORTAL, "payments", "/api/v1/payments", ("transactionId",), "updatedAt", True),
    Entity(DVC_PORTAL, "sync_status", "/api/v1/sync-status", ("dossierCode",), "updatedAt", True),
    Entity(DVC_PORTAL, "feedback", "/api/v1/feedback", ("feedbackId",), "updatedAt", True),
    Entity(DVC_PORTAL, "ratings", "/api/v1/ratings", ("ratingId",), "updatedAt", True),
    Entity(
        DVC_PORTAL,
        "online_services",
        "/api/v1/online-services",
        ("departmentCode", "procedureCode", "validFrom"),
        "updatedAt",
        False,
    ),
)

BY_TABLE = {e.table: e for e in ENTITIES}


def entity(source: str, name: str) -> Entity:
    try:
        return BY_TABLE[f"{source}__{name}"]
    except KeyError:
        known = ", ".join(sorted(BY_TABLE))
        raise KeyError(f"unknown entity {source}/{name}; known: {known}") from None


def of_source(source: str) -> tuple[Entity, ...]:
    return tuple(e for e in ENTITIES if e.source == source)
