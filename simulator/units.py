"""The province's units, before and after the 1 July 2025 merger, with their propensities.

Before the merger: the province (TINH), its departments (SO), districts (HUYEN) with their
communes (XA), and one land-registration branch (CHI_NHANH) per district under the natural
resources department. On 2025-06-30 districts and old communes end; each old commune names
its successor (`MaDonViKeNhiem`), a new commune under the province from 2025-07-01.

Each unit that receives dossiers gets its own propensities (online share, digitized results,
late rate, ...) so indicators spread the way real ones do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from simulator.config import MERGER_DAY, WorldConfig
from simulator.names import PLACE
from simulator.rand import stream
from simulator.timefmt import day_of

OLD_UNITS_FROM = date(2019, 1, 1)
MERGER_LAST_DAY = MERGER_DAY - timedelta(days=1)
MERGER_ANNOUNCED = datetime(2025, 6, 16, 9, 0)

# (name, fields it handles at province level)
DEPARTMENTS = (
    ("Sở Tư pháp", ("HT", "CT", "LLTP")),
    ("Sở Tài nguyên và Môi trường", ("DD", "MT")),
    ("Sở Xây dựng", ("XD",)),
    ("Sở Kế hoạch và Đầu tư", ("DT", "KD")),
    ("Sở Lao động - Thương binh và Xã hội", ("LD", "BTXH")),
    ("Sở Giáo dục và Đào tạo", ("GD",)),
    ("Sở Y tế", ("YT",)),
    ("Sở Giao thông vận tải", ("GT",)),
    ("Sở Văn hóa, Thể thao và Du lịch", ("VH",)),
    ("Sở Nội vụ", ("NV",)),
    ("Sở Nông nghiệp và Phát triển nông thôn", ("NN",)),
    ("Sở Công Thương", ("CTH",)),
    ("Sở Tài chính", ("TC",)),
    ("Sở Khoa học và Công nghệ", ("KHCN",)),
    ("Sở Thông tin và Truyền thông", ("TTTT",)),
)
LAND_DEPARTMENT = 1  # index in DEPARTMENTS: parent of the land-registration branches

# propensity ranges: each receiving unit draws uniformly within them
PROPENSITY_RANGES = {
    "online": (0.05, 0.90),  # share of dossiers submitted online (where offered online)
    "digitize_result": (0.20, 0.95),  # results with an electronic file
    "late": (0.00, 0.15),  # dossiers processed past the deadline
    "apology": (0.10, 0.90),  # late dossiers with an apology letter
    "supplement": (0.02, 0.15),  # dossiers with a supplement request
    "never_returned": (0.00, 0.08),  # results ready but never handed back
    "return_lag_days": (0.2, 6.0),  # mean working days from ready to returned
    "digitize_components": (0.20, 0.95),
    "reuse": (0.02, 0.60),
    "dmqg": (0.01, 0.50),
    "vneid": (0.05, 0.90),
    "pay_online": (0.05, 0.85),
    "lien_thong": (0.00, 0.12),
    "refuse": (0.003, 0.03),
    "withdraw": (0.002, 0.02),
    "stop": (0.001, 0.015),
    "delete": (0.001, 0.008),
    "upgrade": (0.0, 0.3),  # offerings moved up a level during the world's span
}


@dataclass
class Unit:
    index: int
    code: str  # MaDinhDanh
    name: str  # TenDonVi
    level: str  # TINH | SO | HUYEN | XA | CHI_NHANH
    parent: str | None
    dvcqg: str  # MaDVCQG
    valid_from: date
    valid_to: date | None = None
    successor: str | None = None
    fields: tuple[str, ...] = ()  # departments: fields they handle
    district: int | None = None  # index of the district (old communes, branches)
    place: str = ""  # bare place name, for addresses
    predecessors: list[int] = field(default_factory=list)
    versions: list[tuple[int, dict]] = field(default_factory=list)  # (local seconds, payload)

    @property
    def receives_dossiers(self) -> bool:
        return self.level in ("SO", "HUYEN", "XA", "CHI_NHANH")

    def active_on(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or d <= self.valid_to)


class UnitSet:
    """All units, indexable by position or code, plus per-unit propensity arrays."""

    def __init__(self, config: WorldConfig):
        self.config = config
        rng = stream(config.seed, "units")
        self.units: list[Unit] = []
        pc = config.province_code
        places = _unique_places(rng, config.districts * (config.communes_per_district * 2 + 2) + 200)
        take = iter(places)

        self.province = self._add(
            f"000.00.00.{pc}",
            f"UBND tỉnh {config.province_name}",
            "TINH",
            None,
            OLD_UNITS_FROM,
            place=config.province_name,
        )
        self.departments: list[Unit] = []
        for i in range(config.departments):
            name, fields = DEPARTMENTS[i]
            self.departments.append(
                self._add(f"000.00.{i + 1:02d}.{pc}", name, "SO", self.province.code, OLD_UNITS_FROM, fields=fields)
            )
        self.field_department: dict[str, Unit] = {}
        for dep in self.departments:
            for f in dep.fields:
                self.field_department[f] = dep
        land_parent = self.departments[min(LAND_DEPARTMENT, len(self.departments) - 1)]

        self.districts: list[Unit] = []
        self.branches: list[Unit] = []
        self.old_communes: list[Unit] = []
        for d in range(config.districts):
            place = next(take)
            kind = "thành phố" if d == 0 else ("thị xã" if d == 1 and config.districts > 3 else "huyện")
            dist = self._add(
                f"000.00.{21 + d:02d}.{pc}",
                f"UBND {kind} {place}",
                "HUYEN",
                self.province.code,
                OLD_UNITS_FROM,
                district=d,
                place=place,
            )
            self.districts.append(dist)
            self.branches.append(
                self._add(
                    f"000.90.{21 + d:02d}.{pc}",
                    f"Chi nhánh Văn phòng đăng ký đất đai {kind} {place}",
                    "CHI_NHANH",
                    land_parent.code,
                    OLD_UNITS_FROM,
                    district=d,
                    place=place,
                )
            )
            n_communes = max(
                1, int(rng.integers(config.communes_per_district * 0.6, config.communes_per_district * 1.4 + 1))
            )
            for c in range(n_communes):
                cplace = next(take)
                kind_c = "phường" if d == 0 else ("thị trấn" if c == 0 else "xã")
                self.old_communes.append(
                    self._add(
                        f"000.{c + 1:02d}.{21 + d:02d}.{pc}",
                        f"UBND {kind_c} {cplace}",
                        "XA",
                        dist.code,
                        OLD_UNITS_FROM,
                        district=d,
                        place=cplace,
                    )
                )

        # the merger: old communes of a district grouped into new communes under the province
        self.new_communes: list[Unit] = []
        n_new = 0
        for d, dist in enumerate(self.districts):
            members = [u for u in self.old_communes if u.district == d]
            groups = max(1, round(len(members) / config.merge_group))
            cuts = np.array_split(np.arange(len(members)), groups)
            for cut in cuts:
                n_new += 1
                place = next(take)
                kind = "phường" if d == 0 else "xã"
                code = f"{n_new // 100:03d}.{n_new % 100:02d}.99.{pc}"
                new = self._add(code, f"UBND {kind} {place}", "XA", self.province.code, MERGER_DAY, place=place)
                new.predecessors = [members[i].index for i in cut]
                new.district = d
                self.new_communes.append(new)
                for i in cut:
                    members[i].valid_to = MERGER_LAST_DAY
                    members[i].successor = new.code
            dist.valid_to = MERGER_LAST_DAY

        self.by_code = {u.code: u for u in self.units}
        self._propensities(config)

    def _add(self, code, name, level, parent, valid_from, **kw) -> Unit:
        n = len(self.units)
        unit = Unit(n, code, name, level, parent, f"G{self.config.seed % 100:02d}.{10000 + n}", valid_from, **kw)
        self.units.append(unit)
        return unit

    def _propensities(self, config: WorldConfig) -> None:
        rng = stream(config.seed, "unit-propensities")
        n = len(self.units)
        self.p = {name: rng.uniform(lo, hi, n) for name, (lo, hi) in PROPENSITY_RANGES.items()}
        # volume weight: communes and districts busy, departments less, heavy-tailed
        level_base = {"TINH": 0.0, "SO": 0.8, "HUYEN": 1.6, "XA": 1.0, "CHI_NHANH": 1.2}
        weight = np.array([level_base[u.level] for u in self.units]) * rng.lognormal(0.0, 0.5, n)
        for new in self.new_communes:  # a new commune serves the population of its predecessors
            weight[new.index] = sum(weight[i] for i in new.predecessors) + rng.uniform(0, 0.3)
        self.weight = weight

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, i: int) -> Unit:
        return self.units[i]

    def receiving(self, d: date) -> list[Unit]:
        return [u for u in self.units if u.receives_dossiers and u.active_on(d)]


def _unique_places(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [(i, j) for i in range(len(PLACE)) for j in range(len(PLACE)) if i != j]
    order = rng.permutation(len(pairs))
    out = []
    for k in order[: min(n, len(pairs))]:
        i, j = pairs[k]
        out.append(f"{PLACE[i]} {PLACE[j]}")
    return out


def unit_versions(units: UnitSet, epoch: int) -> list[tuple[tuple, list[tuple[int, dict]]]]:
    """Version history of every unit as one-stop payloads (without NgayCapNhat)."""
    announce = day_of(MERGER_ANNOUNCED.date()) + MERGER_ANNOUNCED.hour * 3600
    first = min(epoch, announce - 30 * 86400)
    out = []
    for u in units.units:
        base = {
            "MaDinhDanh": u.code,
            "TenDonVi": u.name,
            "CapDonVi": u.level,
            "MaDonViCha": u.parent,
            "MaDVCQG": u.dvcqg,
            "HieuLucTu": u.valid_from,
            "HieuLucDen": None,
            "MaDonViKeNhiem": None,
        }
        if u.valid_from >= MERGER_DAY:  # created when the merger was announced
            versions = [(announce + 3600 + u.index, base)]
        elif u.valid_to is not None:
            ended = {**base, "HieuLucDen": u.valid_to, "MaDonViKeNhiem": u.successor}
            versions = [(first + u.index * 7, base), (announce + u.index * 7, ended)]
        else:
            versions = [(first + u.index * 7, base)]
        out.append(((u.code,), versions))
    return out
